package monitor_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

func TestNewRejects(t *testing.T) {
	checker := &fakeChecker{clock: newFakeClock()}
	tests := []struct {
		name string
		opts monitor.Options
		want string
	}{
		{"no checker", monitor.Options{}, "Checker is required"},
		{"no site", monitor.Options{Checker: checker, Upstreams: []monitor.Upstream{{Name: "app"}}}, "needs a site and a name"},
		{"twice the same name", monitor.Options{Checker: checker, Upstreams: []monitor.Upstream{
			{Site: "shop", Name: "app"}, {Site: "shop", Name: "app"}}}, "two upstreams named"},
		{"bad check url", monitor.Options{Checker: checker, Upstreams: []monitor.Upstream{
			{Site: "shop", Name: "app", Check: "ftp://app/"}}}, "scheme must be"},
		{"bad addr", monitor.Options{Checker: checker, Upstreams: []monitor.Upstream{
			{Site: "shop", Name: "app", Addrs: []string{"10.0.0.1"}}}}, "is not ip:port"},
		{"addr listed twice", monitor.Options{Checker: checker, Upstreams: []monitor.Upstream{
			{Site: "shop", Name: "app", Addrs: []string{"10.0.0.1:80"}},
			{Site: "shop", Name: "api", Addrs: []string{"10.0.0.1:80"}}}}, "also listed"},
		{"empty extra site", monitor.Options{Checker: checker, Sites: []string{""}}, "empty site name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := monitor.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%s) = %v; want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

// TestSchedule drives one upstream through up, down (with backoff) and up
// again on a fake clock and checks when each background check happens.
func TestSchedule(t *testing.T) {
	clock := newFakeClock()
	checker := &fakeChecker{clock: clock}
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/health"}},
		Checker:   checker, Clock: clock, MaxDownInterval: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()
	start(t, m)
	waitFor(t, "the first check at start", func() bool { return checks(m, "shop") == 1 })

	steps := []struct {
		class probe.Class // what the check after the wait returns
		wait  time.Duration
	}{
		{probe.ClassOK, 30 * time.Second},      // up: Interval
		{probe.ClassRefused, 30 * time.Second}, // still on the up schedule; now down
		{probe.ClassRefused, 5 * time.Second},  // down: DownInterval
		{probe.ClassRefused, 10 * time.Second}, // backoff doubles
		{probe.ClassRefused, 20 * time.Second}, //
		{probe.ClassRefused, 30 * time.Second}, // capped at MaxDownInterval
		{probe.ClassOK, 30 * time.Second},      // capped; comes back up
		{probe.ClassOK, 30 * time.Second},      // up: Interval again
		{probe.ClassHTTP5xx, 30 * time.Second}, // down again
		{probe.ClassHTTP5xx, 5 * time.Second},  // backoff restarted
	}
	elapsed := time.Duration(0)
	for i, s := range steps {
		checker.set(s.class)
		clock.Advance(s.wait - time.Millisecond)
		settle()
		if got := checks(m, "shop"); got != i+1 {
			t.Fatalf("step %d: %d checks %s before due; want %d", i, got, time.Millisecond, i+1)
		}
		clock.Advance(time.Millisecond)
		waitFor(t, fmt.Sprintf("check %d", i+2), func() bool { return checks(m, "shop") == i+2 })
		elapsed += s.wait
		calls := checker.callsCopy()
		if got, want := calls[len(calls)-1].at.Sub(t0), elapsed; got != want {
			t.Errorf("step %d: check at t0+%s; want t0+%s", i, got, want)
		}
	}
	c := m.Counters()
	if c.ProbesRun != uint64(len(steps)+1) {
		t.Errorf("Counters().ProbesRun = %d; want %d", c.ProbesRun, len(steps)+1)
	}
	if c.FailuresByClass[probe.ClassRefused] != 5 || c.FailuresByClass[probe.ClassHTTP5xx] != 2 {
		t.Errorf("Counters().FailuresByClass = %v; want refused 5, http_5xx 2", c.FailuresByClass)
	}
}

// TestVerdict walks one site through every verdict.
func TestVerdict(t *testing.T) {
	clock := newFakeClock()
	checker := &fakeChecker{clock: clock}
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/health"}},
		Checker:   checker, Clock: clock, DownThreshold: 5, Window: time.Minute, RecoveryPeriod: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, verdict monitor.Verdict, origin monitor.HopState, affected int, retry time.Duration) {
		t.Helper()
		st := m.Status("shop")
		if st.Verdict != verdict || st.Origin != origin || st.Affected != affected || st.RetryAfter != retry {
			t.Errorf("%s: Status(%q) = {%s %s affected %d retry %s}; want {%s %s affected %d retry %s}",
				step, "shop", st.Verdict, st.Origin, st.Affected, st.RetryAfter, verdict, origin, affected, retry)
		}
	}
	visit := func(n int, prefix string) {
		for i := range n {
			m.Observe("shop", monitor.Visit{IP: fmt.Sprintf("198.51.100.%d", i), UserAgent: prefix})
		}
	}

	want("before any check", monitor.VerdictUnknown, monitor.HopUnknown, 0, 30*time.Second)
	start(t, m)
	waitFor(t, "first check", func() bool { return checks(m, "shop") == 1 })
	want("up", monitor.VerdictNotEveryone, monitor.HopUp, 0, 30*time.Second)

	visit(4, "a")
	want("a few visitors affected", monitor.VerdictNotEveryone, monitor.HopUp, 4, 30*time.Second)
	visit(1, "b")
	want("threshold reached", monitor.VerdictDownForEveryone, monitor.HopUp, 5, 30*time.Second)
	clock.Advance(time.Minute)
	want("window passed", monitor.VerdictNotEveryone, monitor.HopUp, 0, 30*time.Second)

	checker.set(probe.ClassRefused)
	m.Observe("shop", monitor.Visit{IP: "203.0.113.9", UserAgent: "x"}) // asks for a fresh check
	waitFor(t, "check after the visit", func() bool { return checks(m, "shop") == 2 })
	want("down", monitor.VerdictDownForEveryone, monitor.HopDown, 1, 5*time.Second)
	clock.Advance(4 * time.Second)
	want("down, check in 1s", monitor.VerdictDownForEveryone, monitor.HopDown, 1, 3*time.Second)

	checker.set(probe.ClassOK)
	clock.Advance(time.Second)
	waitFor(t, "check after DownInterval", func() bool { return checks(m, "shop") == 3 })
	want("back up", monitor.VerdictRecovering, monitor.HopUp, 0, 30*time.Second)
	visit(4, "c")
	want("recovering, a few new failures", monitor.VerdictRecovering, monitor.HopUp, 4, 30*time.Second)
	clock.Advance(2 * time.Minute)
	// One Advance fires one overdue check, not one per missed interval.
	waitFor(t, "the overdue check", func() bool { return checks(m, "shop") == 4 })
	want("recovery period over", monitor.VerdictNotEveryone, monitor.HopUp, 0, 30*time.Second)

	if st := m.Status("elsewhere"); st.Verdict != monitor.VerdictUnknown || st.Origin != monitor.HopUnknown {
		t.Errorf("Status(%q) = %s/%s; want unknown/unknown", "elsewhere", st.Verdict, st.Origin)
	}
}

// TestAffectedCounting covers distinct visitors, the per-IP cap and decay
// without new visits.
func TestAffectedCounting(t *testing.T) {
	clock := newFakeClock()
	m, err := monitor.New(monitor.Options{Sites: []string{"blog"}, Checker: &fakeChecker{clock: clock}, Clock: clock, Window: 160 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		visits []monitor.Visit
		want   int
	}{
		{"same visitor twice", []monitor.Visit{{IP: "192.0.2.1", UserAgent: "ua"}, {IP: "192.0.2.1", UserAgent: "ua"}}, 1},
		{"mapped and plain IPv4 are one", []monitor.Visit{{IP: "192.0.2.1", UserAgent: "ua"}, {IP: "::ffff:192.0.2.1", UserAgent: "ua"}}, 1},
		{"two browsers behind one IP", []monitor.Visit{{IP: "192.0.2.1", UserAgent: "a"}, {IP: "192.0.2.1", UserAgent: "b"}}, 2},
		{"one IP cycling user agents", cycle("192.0.2.1", 50), 3},
		{"distinct IPs", []monitor.Visit{{IP: "192.0.2.1"}, {IP: "192.0.2.2"}, {IP: "2001:db8::1"}}, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Hour) // the previous row's visitors leave the window
			m.Observe("blog", monitor.Visit{IP: "0.0.0.0", UserAgent: fmt.Sprint(i)})
			clock.Advance(time.Hour)
			for _, v := range tt.visits {
				m.Observe("blog", v)
			}
			if got := m.Status("blog").Affected; got != tt.want {
				t.Errorf("Status(%q).Affected = %d; want %d", "blog", got, tt.want)
			}
		})
	}

	t.Run("sliding", func(t *testing.T) {
		clock.Advance(time.Hour)
		m.Observe("blog", monitor.Visit{IP: "192.0.2.10"})
		clock.Advance(100 * time.Second)
		m.Observe("blog", monitor.Visit{IP: "192.0.2.11"})
		clock.Advance(70 * time.Second) // the first is 170s old, the second 70s
		m.Observe("blog", monitor.Visit{IP: "192.0.2.11"})
		if got := m.Status("blog").Affected; got != 1 {
			t.Errorf("Status(%q).Affected = %d; want 1 once the first visitor left the window", "blog", got)
		}
		clock.Advance(160 * time.Second)
		if got := m.Status("blog").Affected; got != 0 {
			t.Errorf("Status(%q).Affected = %d; want 0 after a quiet window", "blog", got)
		}
	})
	if got := m.Counters().Visits; got == 0 {
		t.Errorf("Counters().Visits = 0; want the visits counted")
	}
	if st := m.Status("blog"); st.Verdict != monitor.VerdictUnknown {
		t.Errorf("Status(%q).Verdict = %s; want unknown for a site with no upstream", "blog", st.Verdict)
	}
}

func cycle(ip string, n int) []monitor.Visit {
	var vs []monitor.Visit
	for i := range n {
		vs = append(vs, monitor.Visit{IP: ip, UserAgent: fmt.Sprintf("bot/%d", i)})
	}
	return vs
}

func TestVisitorKey(t *testing.T) {
	clock := newFakeClock()
	m, err := monitor.New(monitor.Options{Checker: &fakeChecker{clock: clock}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	h := m.VisitorKey("192.0.2.1", "Firefox")
	tests := []struct {
		name, ip, ua string
		same         bool
	}{
		{"same visitor", "192.0.2.1", "Firefox", true},
		{"mapped IPv4", "::ffff:192.0.2.1", "Firefox", true},
		{"other browser", "192.0.2.1", "Chrome", false},
		{"other IP", "192.0.2.2", "Firefox", false},
		{"boundary shift", "192.0.2.1F", "irefox", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.VisitorKey(tt.ip, tt.ua); (got == h) != tt.same {
				t.Errorf("VisitorKey(%q, %q) = %x; want same as %x: %t", tt.ip, tt.ua, got, h, tt.same)
			}
		})
	}
	if h == ([16]byte{}) {
		t.Errorf("VisitorKey(%q, %q) is zero", "192.0.2.1", "Firefox")
	}
	clock.Advance(24 * time.Hour)
	if got := m.VisitorKey("192.0.2.1", "Firefox"); got == h {
		t.Errorf("VisitorKey the next day = %x; want a new salt", got)
	}
	other, _ := monitor.New(monitor.Options{Checker: &fakeChecker{clock: clock}, Clock: clock})
	if other.VisitorKey("192.0.2.1", "Firefox") == m.VisitorKey("192.0.2.1", "Firefox") {
		t.Errorf("two monitors share a salt; want a random salt each")
	}
}

// TestStatusDoesNotAllocate backs the claim that Status can serve every
// page view and API poll.
func TestStatusDoesNotAllocate(t *testing.T) {
	clock := newFakeClock()
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/"}, {Site: "shop", Name: "api", Check: "http://api.internal/"}},
		Checker:   &fakeChecker{clock: clock}, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Observe("shop", monitor.Visit{IP: "192.0.2.1"})
	if n := testing.AllocsPerRun(1000, func() { _ = m.Status("shop") }); n != 0 {
		t.Errorf("Status allocates %.1f times per call; want 0", n)
	}
}

func BenchmarkStatus(b *testing.B) {
	clock := newFakeClock()
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/"}},
		Checker:   &fakeChecker{clock: clock}, Clock: clock,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = m.Status("shop")
		}
	})
}

func BenchmarkObserve(b *testing.B) {
	clock := newFakeClock()
	m, err := monitor.New(monitor.Options{
		Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Check: "http://app.internal/"}},
		Checker:   &fakeChecker{clock: clock}, Clock: clock,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			m.Observe("shop", monitor.Visit{IP: "192.0.2.1", UserAgent: "ua", ReportedAddr: "10.0.0.1:80, 10.0.0.2:80 : unix:/x"})
		}
	})
}

// fakeSalts is a SaltSource whose salts appear when the test says.
type fakeSalts struct {
	mu sync.Mutex
	m  map[int64][32]byte
}

func (f *fakeSalts) Salt(day int64) (*[32]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.m[day]
	return &k, ok
}

// TestVisitorKeySharedSalt: monitors given one salt source (instances
// sharing a store, or one instance before and after a restart) hash a
// visitor alike; until the source has the day's salt each keeps a random
// one, and takes the shared one as soon as it is there.
func TestVisitorKeySharedSalt(t *testing.T) {
	clock := newFakeClock()
	src := &fakeSalts{m: map[int64][32]byte{}}
	newMon := func() *monitor.Monitor {
		m, err := monitor.New(monitor.Options{Checker: &fakeChecker{clock: clock}, Clock: clock, Salts: src})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := newMon(), newMon()
	if a.VisitorKey("192.0.2.1", "Firefox") == b.VisitorKey("192.0.2.1", "Firefox") {
		t.Fatalf("before the source has a salt, two monitors share one; want a random salt each")
	}
	day := clock.Now().UTC().Unix() / 86400
	src.mu.Lock()
	src.m[day] = [32]byte{1, 2, 3}
	src.m[day+1] = [32]byte{4, 5, 6}
	src.mu.Unlock()
	ka := a.VisitorKey("192.0.2.1", "Firefox")
	if kb := b.VisitorKey("192.0.2.1", "Firefox"); ka != kb {
		t.Errorf("with a shared salt: %x and %x; want one key", ka, kb)
	}
	if kc := newMon().VisitorKey("192.0.2.1", "Firefox"); kc != ka {
		t.Errorf("a restarted monitor: %x; want %x, the key before the restart", kc, ka)
	}
	clock.Advance(24 * time.Hour)
	next := a.VisitorKey("192.0.2.1", "Firefox")
	if next == ka || next != b.VisitorKey("192.0.2.1", "Firefox") {
		t.Errorf("the next day: %x, %x; want a new key, the same on both", next, b.VisitorKey("192.0.2.1", "Firefox"))
	}
}

// TestObserveHashesOnce: the key Observe returns is VisitorKey's, so that
// the page hashes a visitor once for the count and the event alike.
func TestObserveHashesOnce(t *testing.T) {
	clock := newFakeClock()
	m, err := monitor.New(monitor.Options{Sites: []string{"blog"}, Checker: &fakeChecker{clock: clock}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, site := range []string{"blog", "unknown"} {
		if _, k := m.Observe(site, monitor.Visit{IP: "192.0.2.1", UserAgent: "ua"}); k != m.VisitorKey("192.0.2.1", "ua") || k == ([16]byte{}) {
			t.Errorf("Observe(%q) key %x; want VisitorKey's %x", site, k, m.VisitorKey("192.0.2.1", "ua"))
		}
	}
}
