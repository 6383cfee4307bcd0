package admin_test

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
	d := parseDoc(t, e.get(t, "/admin/", session).Body.String())
	got := d.Find(`[data-testid=event-loss]`).Text()
	for _, want := range []string{"7 error pages lost their detailed record", "2 were lost to store errors", "1000 counted"} {
		if !strings.Contains(got, want) {
			t.Errorf("dashboard event-loss block = %q; want it to contain %q", got, want)
		}
	}
	if n := d.Find(`[data-testid=event-loss-shed]`).Length(); n != 0 {
		t.Errorf("with nothing shed, %d shed lines; want none", n)
	}
	e.deps.Events.(*fakeEventStats).st = incident.RecorderStats{Recorded: 1000, Shed: 40}
	d = parseDoc(t, e.get(t, "/admin/", session).Body.String())
	if got := d.Find(`[data-testid=event-loss-shed]`).Text(); !strings.Contains(got, "40 error pages were counted without a detailed record") {
		t.Errorf("dashboard shed line = %q", got)
	}
	if n := d.Find(`[data-testid=event-loss-lost]`).Length(); n != 0 {
		t.Errorf("with nothing lost, %d lost lines; want none", n)
	}
}
