package incident_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// TestSQLitePingSeesTheFileGone: with its data directory deleted, or its
// file replaced, the SQLite store still answers queries but no longer
// keeps anything; Ping says so.
func TestSQLitePingSeesTheFileGone(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		fault func(dir string) error
		want  string
	}{
		{"data directory deleted", os.RemoveAll, "the database file is gone"},
		{"file replaced", func(dir string) error {
			p := filepath.Join(dir, "gatewatch.db")
			if err := os.Rename(p, p+".old"); err != nil {
				return err
			}
			return os.WriteFile(p, nil, 0o640)
		}, "was replaced by another file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// '#' and '?' in the path are the directory's name, not a
			// URI's fragment or query.
			dir := filepath.Join(t.TempDir(), "da#ta?x")
			s, err := incident.Open(ctx, "", dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping before the fault = %v", err)
			}
			if err := tc.fault(dir); err != nil {
				t.Fatal(err)
			}
			err = s.Ping(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Ping after %s = %v; want %q", tc.name, err, tc.want)
			}
		})
	}
}
