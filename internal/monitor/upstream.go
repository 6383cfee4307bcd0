package monitor

import (
	"context"
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/probe"
)

// UpstreamView is what the monitor knows of the upstream one failed
// request came from: the evidence a verdict is decided on (see package
// cause). Class and the times are admin-only evidence, like SiteStatus's.
type UpstreamView struct {
	Site string
	Name string // "" when the request's upstream is not known
	// Probe is the latest check's state; ProbeNone before the first.
	Probe  cause.ProbeState
	Class  probe.Class
	Detail string // the latest check's detail: admin-only
	// Started is when the latest completed check started: a check that
	// started after a failure is fresh evidence about it. For several
	// upstreams viewed together, the earliest of them.
	Started   time.Time
	CheckedAt time.Time
	// Failed: the upstream went from down to up within RecoveryPeriod.
	Failed bool
	// Pending: there is something to check, so a check will come.
	Pending   bool
	NextCheck time.Time
	// Affected is the distinct visitors with errors on this upstream (on
	// the site when Name is "") within Window; Many when that reaches
	// DownThreshold.
	Affected int
	Many     bool
	Window   time.Duration
	// RetryAfter is when a client should ask again, as in SiteStatus.
	RetryAfter time.Duration
}

// Fresh reports whether the view's check started at or after t.
func (v UpstreamView) Fresh(t time.Time) bool {
	return v.Probe != cause.ProbeNone && !v.Started.Before(t)
}

// Upstream returns the view of one upstream of site; name "" views the
// site's upstreams together (the only one, or all of them: down only when
// every checked one is down). It never waits and never probes.
func (m *Monitor) Upstream(site, name string) UpstreamView {
	now := m.clock.Now()
	v := UpstreamView{Site: site, Name: name, Window: m.opts.Window, RetryAfter: m.opts.Interval}
	s := m.sites[site]
	if s == nil {
		return v
	}
	ups := s.ups
	if name == "" && len(ups) == 1 {
		name = ups[0].cfg.Name
		v.Name = name
	}
	if name != "" {
		ups = nil
		for _, u := range s.ups {
			if u.cfg.Name == name {
				ups = []*upstream{u}
				break
			}
		}
		if ups == nil {
			v.Name = ""
			ups = s.ups
		}
	}
	var nUp, nDown, unchecked int
	var nextDown time.Time
	for _, u := range ups {
		u.mu.Lock()
		st := u.st
		u.mu.Unlock()
		if u.target.Load() != nil {
			v.Pending = true
		}
		if !st.has {
			unchecked++
			continue
		}
		if v.Started.IsZero() || st.started.Before(v.Started) {
			v.Started = st.started
		}
		if st.done.After(v.CheckedAt) {
			v.CheckedAt = st.done
		}
		if !st.recovered.IsZero() && now.Sub(st.recovered) < m.opts.RecoveryPeriod {
			v.Failed = true
		}
		v.Class, v.Detail = st.last.Class, st.last.Detail
		if st.up {
			nUp++
		} else {
			nDown++
			if nextDown.IsZero() || st.next.Before(nextDown) {
				nextDown = st.next
			}
		}
		if v.NextCheck.IsZero() || st.next.Before(v.NextCheck) {
			v.NextCheck = st.next
		}
	}
	switch {
	case unchecked > 0:
		// One unchecked upstream makes the whole unknown.
		v.Probe, v.Started = cause.ProbeNone, time.Time{}
	case nDown > 0 && nUp == 0:
		v.Probe = cause.ProbeDown
		v.RetryAfter = max(nextDown.Sub(now), minRetryAfter)
	case nUp > 0 && nDown == 0:
		v.Probe = cause.ProbeUp
	default:
		// Some up, some down, and the request does not say which it met:
		// no check will settle that.
		v.Probe, v.Pending = cause.ProbeNone, false
	}
	if v.Name != "" {
		v.Affected = m.affected(&ups[0].visitors, now)
	} else {
		v.Affected = m.affected(&s.visitors, now)
	}
	v.Many = v.Affected >= m.opts.DownThreshold
	return v
}

// Fresh returns the view of an upstream (as Upstream does) once a check
// that started at or after since has completed, or when ctx ends, or at
// once when nothing can be checked. A page whose failure contradicts the
// cache waits here briefly for the check Observe asked for.
func (m *Monitor) Fresh(ctx context.Context, site, name string, since time.Time) UpstreamView {
	for {
		v := m.Upstream(site, name)
		if v.Fresh(since) || !v.Pending || ctx.Err() != nil {
			return v
		}
		var waits []<-chan struct{}
		for _, u := range m.upstreamsOf(site, v.Name) {
			u.mu.Lock()
			waits = append(waits, u.done)
			u.mu.Unlock()
		}
		if len(waits) == 0 {
			return v
		}
		for _, w := range waits {
			select {
			case <-w:
			case <-ctx.Done():
				return m.Upstream(site, name)
			}
		}
	}
}

// upstreamsOf returns the named upstream of site, or all of them.
func (m *Monitor) upstreamsOf(site, name string) []*upstream {
	s := m.sites[site]
	if s == nil {
		return nil
	}
	if name == "" {
		return s.ups
	}
	for _, u := range s.ups {
		if u.cfg.Name == name {
			return []*upstream{u}
		}
	}
	return nil
}
