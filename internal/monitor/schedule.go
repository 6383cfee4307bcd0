package monitor

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// Counters are the monitor's running totals, for the metrics endpoint.
type Counters struct {
	// ProbesRun counts checks started.
	ProbesRun uint64
	// ProbesSuppressed counts requests for a check (background or from an
	// error page) that started none: turned away by the MinInterval gate or
	// joined to the check already in flight.
	ProbesSuppressed uint64
	// FailuresByClass counts completed checks by class, for every class
	// but ok (slow counts even when the origin was up but degraded).
	FailuresByClass map[probe.Class]uint64
	// Visits counts Observe calls for known sites.
	Visits uint64
}

// counters is the live form of Counters.
type counters struct {
	run, suppressed, visits atomic.Uint64
	mu                      sync.Mutex
	failures                map[probe.Class]uint64 // guarded by mu
}

// Counters returns a copy of the running totals.
func (m *Monitor) Counters() Counters {
	c := &m.counter
	c.mu.Lock()
	f := maps.Clone(c.failures)
	c.mu.Unlock()
	return Counters{ProbesRun: c.run.Load(), ProbesSuppressed: c.suppressed.Load(), FailuresByClass: f, Visits: c.visits.Load()}
}

// loop runs the background checks of one upstream. Due times are absolute,
// so a wait that starts late still ends on time.
func (m *Monitor) loop(ctx context.Context, u *upstream) {
	for {
		var wait <-chan time.Time
		if u.target.Load() != nil && !u.inflight.Load() {
			now := m.clock.Now()
			if d := m.due(u).Sub(now); d > 0 {
				wait = m.clock.After(d)
			} else {
				// Whether this starts a check, joins the one in flight or
				// is turned away by the gate because another just started,
				// a check is under way and kicks when it completes. The
				// timer is only a safety net.
				m.request(u, false)
				wait = m.clock.After(m.opts.Interval)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-u.kick:
		case <-wait:
		}
	}
}

// due is when u's next background check may start: its schedule, but never
// sooner than MinInterval after the last start of any kind.
func (m *Monitor) due(u *upstream) time.Time {
	u.mu.Lock()
	next := u.st.next
	u.mu.Unlock()
	if u.wanted.Load() {
		// A visitor's failure contradicts the last result: check as soon
		// as the gate allows.
		next = time.Time{}
	}
	if last := u.lastStart.Load(); last != 0 {
		next = later(next, m.epoch.Add(time.Duration(last-1)+m.opts.MinInterval))
	}
	return next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// request asks for a check of u now. It never blocks: it starts one, or
// counts the request as suppressed. It is a no-op while Run is not running
// or when u has no target. An urgent request (a visitor's failure that
// contradicts the last result) that the gate turns away, or that finds an
// older check in flight, is remembered: the background loop runs one
// check as soon as MinInterval allows, so the page's first poll finds a
// check made after the failure.
func (m *Monitor) request(u *upstream, urgent bool) {
	rs := m.run.Load()
	if rs == nil || u.target.Load() == nil {
		return
	}
	now := m.mono(m.clock.Now())
	last := u.lastStart.Load()
	if last != 0 && now-last < int64(m.opts.MinInterval) || !u.lastStart.CompareAndSwap(last, now) {
		m.counter.suppressed.Add(1)
		if urgent && !u.wanted.Swap(true) {
			select {
			case u.kick <- struct{}{}:
			default:
			}
		}
		return
	}
	if urgent && u.inflight.Load() {
		u.wanted.Store(true)
	}
	rs.mu.RLock()
	if rs.stopped {
		rs.mu.RUnlock()
		return
	}
	rs.wg.Add(1)
	rs.mu.RUnlock()
	// The gate lets one request through per MinInterval; singleflight makes
	// that one join the check in flight when the previous one has not
	// finished yet (a slow origin), instead of stacking a second.
	var led atomic.Bool
	ch := m.flight.DoChan(u.key, func() (any, error) {
		led.Store(true)
		m.check(rs.ctx, u)
		return nil, nil
	})
	go func() {
		defer rs.wg.Done()
		<-ch
		if !led.Load() {
			m.counter.suppressed.Add(1)
		}
	}()
}

// check runs one probe of u and records it.
func (m *Monitor) check(ctx context.Context, u *upstream) {
	m.counter.run.Add(1)
	u.inflight.Store(true)
	u.wanted.Store(false)
	defer func() {
		u.inflight.Store(false)
		select {
		case u.kick <- struct{}{}:
		default:
		}
	}()
	t := u.target.Load()
	started := m.clock.Now()
	res := m.opts.Checker.Check(ctx, *t)
	if ctx.Err() != nil {
		// Shutting down: a check cut short says nothing about the origin.
		return
	}
	m.record(u, res, started)
}

// record stores a check result, schedules the next check and republishes
// the site.
func (m *Monitor) record(u *upstream, res probe.Result, started time.Time) {
	now := m.clock.Now()
	up := res.OK()
	u.mu.Lock()
	st := &u.st
	changed := !st.has || st.up != up
	recovered := st.has && !st.up && up
	if changed {
		st.since = now
	}
	if recovered {
		st.recovered = now
	}
	st.last, st.has, st.up, st.done, st.started = res, true, up, now, started
	st.checks++
	if up {
		st.failures = 0
	} else {
		st.failures++
	}
	st.next = now.Add(m.interval(up, st.failures))
	close(u.done)
	u.done = make(chan struct{})
	u.mu.Unlock()
	if recovered {
		// From now on only new failures count against it.
		u.visitors.reset()
	}

	if res.Class != probe.ClassOK {
		m.counter.mu.Lock()
		m.counter.failures[res.Class]++
		m.counter.mu.Unlock()
	}
	if changed {
		m.log.Info("upstream state", "site", u.cfg.Site, "upstream", u.cfg.Name, "up", up, "class", string(res.Class), "detail", res.Detail)
	} else {
		m.log.Debug("upstream checked", "site", u.cfg.Site, "upstream", u.cfg.Name, "up", up, "class", string(res.Class))
	}
	m.publish(u.site, now)
}

// interval is the wait before the next background check: Interval while
// up; while down DownInterval, doubling per further failure up to
// MaxDownInterval, so a long outage is not polled at the fast rate forever
// (visitors' error pages can still ask for a check every MinInterval).
func (m *Monitor) interval(up bool, failures int) time.Duration {
	if up {
		return m.opts.Interval
	}
	d := m.opts.DownInterval
	for i := 1; i < failures && d < m.opts.MaxDownInterval; i++ {
		d *= 2
	}
	return min(d, max(m.opts.MaxDownInterval, m.opts.DownInterval))
}

// publish rebuilds the snapshot Status reads. When the origin goes from
// down to up it starts the recovery period and forgets the visitors counted
// during the outage: from then on, only new failures count against it.
func (m *Monitor) publish(s *site, now time.Time) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	prev := s.snap.Load()
	sn := &siteSnap{ups: make([]UpstreamStatus, len(s.ups)), recoveredAt: prev.recoveredAt}
	var up, down int
	for i, u := range s.ups {
		u.mu.Lock()
		st := u.st
		u.mu.Unlock()
		us := UpstreamStatus{Name: u.cfg.Name, Last: st.last, Up: st.up, Since: st.since, Checks: st.checks}
		if u.target.Load() != nil {
			us.NextCheck = later(st.next, now)
			if !st.has {
				us.NextCheck = now
			}
		}
		sn.ups[i] = us
		if !st.has {
			continue
		}
		if st.done.After(sn.checkedAt) {
			sn.checkedAt = st.done
		}
		if st.up {
			up++
			continue
		}
		down++
		if sn.nextDown.IsZero() || st.next.Before(sn.nextDown) {
			sn.nextDown = st.next
		}
	}
	switch {
	case down > 0 && up == 0:
		// Down only when every checked upstream is: with several, one
		// dead server does not make the site down (pages name their own
		// upstream's state, see Upstream).
		sn.origin = HopDown
	case up > 0:
		sn.origin = HopUp
	default:
		sn.origin = HopUnknown
	}
	if prev.origin == HopDown && sn.origin == HopUp {
		sn.recoveredAt = now
		s.visitors.reset()
	}
	s.snap.Store(sn)
}
