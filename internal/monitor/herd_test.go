package monitor_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

const herdSize = 20000

// herd calls Observe from n goroutines released at once, each a distinct
// visitor, and returns how long the burst took.
func herd(m *monitor.Monitor, site string, n int, reported string) time.Duration {
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-release
			m.Observe(site, monitor.Visit{IP: fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), UserAgent: "herd", ReportedAddr: reported})
		})
	}
	ready.Wait()
	start := time.Now()
	close(release)
	done.Wait()
	return time.Since(start)
}

// TestHerdRealOrigin sends 20,000 simultaneous error-page hits for a down
// origin (a loopback server answering 503) and counts the connections the
// origin actually received, with default intervals and a real Prober.
func TestHerdRealOrigin(t *testing.T) {
	origin := newCountingServer(t, "503 Service Unavailable")
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://" + origin.addr() + "/health"}},
		Checker:   probe.New(probe.Options{Timeout: 2 * time.Second, StageTimeout: time.Second}),
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, m)
	waitFor(t, "the first check", func() bool { return checks(m, "shop") == 1 })
	if st := m.Status("shop"); st.Verdict != monitor.VerdictDownForEveryone {
		t.Fatalf("Status(%q).Verdict = %s; want %s", "shop", st.Verdict, monitor.VerdictDownForEveryone)
	}
	// Let the MinInterval gate open so the herd can ask for exactly the one
	// fresh check it is entitled to.
	time.Sleep(monitor.DefaultMinInterval)
	took := herd(m, "shop", herdSize, "")
	waitFor(t, "the herd's check to finish", func() bool {
		c := m.Counters()
		return c.ProbesRun+c.ProbesSuppressed >= herdSize+1 && checks(m, "shop") == int(c.ProbesRun)
	})
	c := m.Counters()
	accepted := origin.accepted.Load()
	t.Logf("herd of %d hits in %s: %d probes run, %d suppressed, %d connections at the origin",
		herdSize, took.Round(time.Millisecond), c.ProbesRun, c.ProbesSuppressed, accepted)
	// One check at start, one for the herd, and one more only if the burst
	// outlasted MinInterval on a loaded machine.
	maxProbes := int64(2 + took/monitor.DefaultMinInterval)
	if accepted < 2 || accepted > maxProbes {
		t.Errorf("origin accepted %d connections for a %d-hit herd; want 2..%d", accepted, herdSize, maxProbes)
	}
	if int64(c.ProbesRun) != accepted {
		t.Errorf("Counters().ProbesRun = %d; want %d, one per connection", c.ProbesRun, accepted)
	}
	if st := m.Status("shop"); st.Affected < monitor.DefaultDownThreshold {
		t.Errorf("Status(%q).Affected = %d; want at least the threshold after the herd", "shop", st.Affected)
	}
}

// TestHerdGate is the same herd on a fake clock, where the burst takes no
// time at all: exactly one probe may start.
func TestHerdGate(t *testing.T) {
	clock := newFakeClock()
	checker := &fakeChecker{clock: clock, class: probe.ClassRefused}
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/"}},
		Checker:   checker, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, m)
	waitFor(t, "the first check", func() bool { return checks(m, "shop") == 1 })

	herd(m, "shop", herdSize, "")
	settle()
	if got := checker.count(); got != 1 {
		t.Errorf("checks after a herd within MinInterval of the last = %d; want 1", got)
	}
	clock.Advance(monitor.DefaultMinInterval)
	herd(m, "shop", herdSize, "")
	waitFor(t, "the herd's check", func() bool { return checks(m, "shop") == 2 })
	settle()
	c := m.Counters()
	if got := checker.count(); got != 2 || c.ProbesRun != 2 {
		t.Errorf("checks after two herds = %d (ProbesRun %d); want 2", got, c.ProbesRun)
	}
	if c.ProbesSuppressed != 2*herdSize-1 {
		t.Errorf("Counters().ProbesSuppressed = %d; want %d", c.ProbesSuppressed, 2*herdSize-1)
	}
}

// TestSingleFlight holds a check in flight (a slow origin) while the gate
// reopens several times: the requests join the running check instead of
// stacking new ones.
func TestSingleFlight(t *testing.T) {
	clock := newFakeClock()
	release := make(chan struct{})
	checker := &fakeChecker{clock: clock, gate: release}
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/"}},
		Checker:   checker, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, m)
	waitFor(t, "the first check to start", func() bool { return checker.count() == 1 })
	for range 3 {
		clock.Advance(3 * time.Second)
		herd(m, "shop", 1000, "")
	}
	settle()
	if got, run := checker.count(), m.Counters().ProbesRun; got != 1 || run != 1 {
		t.Errorf("checks started while one was in flight = %d (ProbesRun %d); want 1", got, run)
	}
	close(release)
	waitFor(t, "the slow check to finish", func() bool { return checks(m, "shop") == 1 })
	waitFor(t, "joined requests to be counted", func() bool { return m.Counters().ProbesSuppressed == 3000 })
	clock.Advance(monitor.DefaultMinInterval)
	m.Observe("shop", monitor.Visit{IP: "192.0.2.1"})
	waitFor(t, "a fresh check once the first is done", func() bool { return checker.count() == 2 })
}
