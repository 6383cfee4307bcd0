package incident

import (
	"strings"
	"testing"
)

func TestPositional(t *testing.T) {
	if got := positional(sqlInsertEvents[64]); strings.Contains(got, "$") || strings.Count(got, "?") != 64*eventCols {
		t.Errorf("positional(64-row insert of events) keeps $ or has %d ?; want %d ?", strings.Count(got, "?"), 64*eventCols)
	}
	for _, q := range []string{
		sqlInsertEvents[1],    // too few to matter
		sqlInsertVisitors[64], // $1 repeated: not in order
		"SELECT $2, $1" + strings.Repeat(", $3", 40),
	} {
		if got := positional(q); got != q {
			t.Errorf("positional(%.60q…) = %.60q…; want it unchanged", q, got)
		}
	}
}
