package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

// TestContradictedResultIsCheckedWhenTheGateOpens: an upstream checked up
// a moment ago fails for a visitor. The gate turns the visitor's request
// away, but a check still runs as soon as MinInterval allows — not at the
// next background interval, 30 s later — so the page's first poll finds a
// check made after the failure.
func TestContradictedResultIsCheckedWhenTheGateOpens(t *testing.T) {
	m, clock, checker := checkedUp(t)
	clock.Advance(time.Second)
	failedAt := clock.Now()
	checker.set(probe.ClassRefused)
	m.Observe("shop", monitor.Visit{IP: "192.0.2.1", UserAgent: "ua"})
	settle()
	if n := checker.count(); n != 1 {
		t.Fatalf("checks after a visit inside MinInterval = %d; want 1 (the gate holds)", n)
	}
	if v := m.Upstream("shop", "app"); v.Fresh(failedAt) {
		t.Fatalf("view is fresh before any check after the failure: %+v", v)
	}
	clock.Advance(monitor.DefaultMinInterval - time.Second)
	waitFor(t, "the check the failure asked for", func() bool { return checker.count() == 2 && checks(m, "shop") == 2 })
	v := m.Upstream("shop", "app")
	if !v.Fresh(failedAt) || v.Probe != cause.ProbeDown || v.Class != probe.ClassRefused {
		t.Errorf("view after the gate opened = %+v; want a fresh refused check", v)
	}
	// Agreeing failures (already down) ask for nothing extra: the down
	// backoff holds.
	clock.Advance(monitor.DefaultMinInterval / 2)
	m.Observe("shop", monitor.Visit{IP: "192.0.2.2", UserAgent: "ua"})
	clock.Advance(monitor.DefaultMinInterval)
	settle()
	if n := checker.count(); n != 2 {
		t.Errorf("checks = %d after a failure that agrees with the last check; want still 2", n)
	}
}

// TestFreshWaitsForTheCheckAfterAFailure: Fresh returns once a check that
// started after the given time completes, and at its context's end when
// none comes.
func TestFreshWaitsForTheCheckAfterAFailure(t *testing.T) {
	m, clock, checker := checkedUp(t)

	// Inside MinInterval nothing new runs: Fresh gives up at its deadline.
	clock.Advance(time.Second)
	failedAt := clock.Now()
	m.Observe("shop", monitor.Visit{IP: "192.0.2.1", UserAgent: "ua"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	v := m.Fresh(ctx, "shop", "app", failedAt)
	cancel()
	if v.Fresh(failedAt) {
		t.Fatalf("Fresh returned a fresh view with no check run: %+v", v)
	}

	// Once the gate opens, the wanted check runs and Fresh returns it.
	checker.set(probe.ClassRefused)
	done := make(chan monitor.UpstreamView, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- m.Fresh(ctx, "shop", "app", failedAt)
	}()
	settle()
	clock.Advance(time.Second)
	select {
	case v := <-done:
		if !v.Fresh(failedAt) || v.Probe != cause.ProbeDown {
			t.Errorf("Fresh = %+v; want the fresh refused check", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Fresh did not return after the check")
	}
}

// checkedUp is a running monitor of one upstream whose first check passed.
func checkedUp(t *testing.T) (*monitor.Monitor, *fakeClock, *fakeChecker) {
	t.Helper()
	clock := newFakeClock()
	checker := &fakeChecker{clock: clock, class: probe.ClassOK}
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/"}},
		Checker:   checker, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, m)
	waitFor(t, "the first check", func() bool { return checks(m, "shop") == 1 })
	return m, clock, checker
}
