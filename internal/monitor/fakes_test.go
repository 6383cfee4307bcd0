package monitor_test

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

// fakeClock moves only when told to. Waits registered with After fire when
// Advance passes their deadline.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// call is one Check seen by a fakeChecker.
type call struct {
	target probe.Target
	at     time.Time
}

// fakeChecker answers with a settable class and records every call with
// the fake time it happened at. With a gate set, checks wait for it (or
// for their context), like a probe of a slow origin.
type fakeChecker struct {
	clock monitor.Clock
	mu    sync.Mutex
	calls []call
	class probe.Class
	gate  chan struct{}
}

func (f *fakeChecker) Check(ctx context.Context, t probe.Target) probe.Result {
	f.mu.Lock()
	f.calls = append(f.calls, call{target: t, at: f.clock.Now()})
	class, gate := f.class, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return probe.Result{Target: t, Class: probe.ClassSlow, Detail: "canceled"}
		}
	}
	if class == "" {
		class = probe.ClassOK
	}
	return probe.Result{Target: t, Class: class, Detail: "fake " + string(class)}
}

func (f *fakeChecker) set(class probe.Class) {
	f.mu.Lock()
	f.class = class
	f.mu.Unlock()
}

func (f *fakeChecker) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeChecker) callsCopy() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// start runs m until the test ends and checks that Run then returns nil.
func start(tb testing.TB, m *monitor.Monitor) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Run() = %v; want nil", err)
			}
		case <-time.After(5 * time.Second):
			tb.Errorf("Run did not return after its context ended")
		}
	})
}

// waitFor polls cond for up to 5s of real time: the monitor's goroutines
// react to the fake clock asynchronously.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// settle gives the monitor's goroutines a moment to do what they should
// not, before a test asserts that they did not.
func settle() { time.Sleep(30 * time.Millisecond) }

// checks returns how many checks of the site's first upstream have
// completed.
func checks(m *monitor.Monitor, site string) int {
	st := m.Status(site)
	if len(st.Upstreams) == 0 {
		return 0
	}
	return st.Upstreams[0].Checks
}

// countingServer is a loopback origin that counts the connections it
// accepts and answers each with status, or just closes for status 0 (a
// TCP-only check only needs the connect).
type countingServer struct {
	ln       net.Listener
	accepted atomic.Int64
}

func newCountingServer(tb testing.TB, status string) *countingServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &countingServer{ln: ln}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			wg.Go(func() {
				defer c.Close()
				if status == "" {
					return
				}
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				_, _ = bufio.NewReader(c).ReadString('\n')
				_, _ = c.Write([]byte("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

func (s *countingServer) addr() string { return s.ln.Addr().String() }
