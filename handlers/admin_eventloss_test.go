package handlers_test

import (
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/incident"
)

type fakeEventStats struct{ st incident.RecorderStats }

func (f *fakeEventStats) Stats() incident.RecorderStats { return f.st }

func TestDashboardShowsEventLoss(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	if n := parseDoc(t, e.get(t, "/admin/", session).Body.String()).Find(`[data-testid=event-loss]`).Length(); n != 0 {
		t.Errorf("dashboard with no loss shows %d event-loss blocks; want none", n)
	}
	e.deps.Events.(*fakeEventStats).st = incident.RecorderStats{Recorded: 1000, Dropped: 7, Failed: 2}
	got := parseDoc(t, e.get(t, "/admin/", session).Body.String()).Find(`[data-testid=event-loss]`).Text()
	for _, want := range []string{"7 error pages lost their detailed record", "2 were lost to store errors", "1000 counted"} {
		if !strings.Contains(got, want) {
			t.Errorf("dashboard event-loss block = %q; want it to contain %q", got, want)
		}
	}
}
