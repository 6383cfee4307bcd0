package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/monitor"
)

// memCrowd is a crowd store in memory, as PostgreSQL is for instances
// sharing it: each visitor's latest sighting per site and upstream.
type memCrowd struct {
	mu    sync.Mutex
	seen  map[monitor.CrowdMark]time.Time // At zero
	fail  bool
	syncs int
	marks int
}

func (c *memCrowd) SyncCrowd(ctx context.Context, seen []monitor.CrowdMark, since, prune time.Time) ([]monitor.CrowdCount, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return nil, errors.New("store down")
	}
	c.syncs++
	c.marks += len(seen)
	for _, m := range seen {
		at := m.At
		m.At = time.Time{}
		if at.After(c.seen[m]) {
			c.seen[m] = at
		}
	}
	n := map[[2]string]int{}
	for m, at := range c.seen {
		if at.Before(prune) {
			delete(c.seen, m)
		} else if !at.Before(since) {
			n[[2]string{m.Site, m.Upstream}]++
		}
	}
	var out []monitor.CrowdCount
	for k, v := range n {
		out = append(out, monitor.CrowdCount{Site: k[0], Upstream: k[1], Visitors: v})
	}
	return out, nil
}

func (c *memCrowd) syncCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs
}

// TestCrowdAcrossInstances: two instances behind one proxy, each answering
// some of the visitors with errors, both count every one of them (a
// visitor both answered once) on the upstream and the site, within about a
// sync; a returning visitor is not handed on at every page; when the store
// stops answering, each falls back to its own count within three syncs.
func TestCrowdAcrossInstances(t *testing.T) {
	clock := newFakeClock()
	salts := &fakeSalts{m: map[int64][32]byte{clock.Now().UTC().Unix() / 86400: {7}}}
	crowd := &memCrowd{seen: map[monitor.CrowdMark]time.Time{}}
	newMon := func() *monitor.Monitor {
		m, err := monitor.New(monitor.Options{
			Upstreams: []monitor.Upstream{{Site: "shop", Name: "app", Addrs: []string{"10.0.0.1:80"}}},
			Checker:   &fakeChecker{clock: clock}, Clock: clock, Salts: salts, Crowd: crowd,
			Window: time.Minute, CrowdEvery: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		start(t, m)
		return m
	}
	a, b := newMon(), newMon()
	visit := func(m *monitor.Monitor, i int) {
		m.Observe("shop", monitor.Visit{IP: fmt.Sprintf("192.0.2.%d", i), UserAgent: "ua", ReportedAddr: "10.0.0.1:80"})
	}
	for i := 1; i <= 4; i++ {
		visit(a, i)
	}
	for i := 4; i <= 9; i++ {
		visit(b, i)
	}
	if got := a.Upstream("shop", "app").Affected; got != 4 {
		t.Fatalf("before a sync, A counts %d; want its own 4", got)
	}
	// tick moves the fake clock a second at a time (the loops register
	// their waits asynchronously) until cond holds.
	tick := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			clock.Advance(time.Second)
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Each instance's loop syncs once a second; after a few, each has
	// handed its visitors on and learnt the other's.
	n := crowd.syncCount()
	tick("both instances to sync twice", func() bool { return crowd.syncCount() >= n+4 })
	for name, m := range map[string]*monitor.Monitor{"A": a, "B": b} {
		if got := m.Upstream("shop", "app").Affected; got != 9 {
			t.Errorf("%s counts %d visitors on the upstream; want all 9", name, got)
		}
		if got := m.Status("shop").Affected; got != 9 {
			t.Errorf("%s counts %d visitors on the site; want all 9", name, got)
		}
	}
	// A visitor who keeps reloading is handed on once per quarter window.
	crowd.mu.Lock()
	before := crowd.marks
	crowd.mu.Unlock()
	for range 50 {
		visit(a, 1)
	}
	n = crowd.syncCount()
	tick("two syncs", func() bool { return crowd.syncCount() >= n+2 })
	crowd.mu.Lock()
	again := crowd.marks - before
	crowd.fail = true
	crowd.mu.Unlock()
	if again != 0 {
		t.Errorf("50 more pages of one visitor handed on %d sightings; want none within a quarter window", again)
	}
	// The store stops answering: three syncs later each counts its own.
	tick("A to fall back to its own count", func() bool { return a.Upstream("shop", "app").Affected == 4 })
	if got := b.Status("shop").Affected; got != 6 {
		t.Errorf("with the store down, B counts %d; want its own 6", got)
	}
}
