package monitor

import (
	"time"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// Verdict answers the visitor's question "is it down for everyone?".
type Verdict string

// The verdicts, as the status API spells them.
const (
	// VerdictDownForEveryone: the origin's check fails, or many distinct
	// visitors got error pages within the window.
	VerdictDownForEveryone Verdict = "down_for_everyone"
	// VerdictNotEveryone: the check passes and few visitors are affected, so
	// the visitor's own path or a passing glitch is the likely cause.
	VerdictNotEveryone Verdict = "not_everyone"
	// VerdictRecovering: the check passes again after a failure, within
	// RecoveryPeriod.
	VerdictRecovering Verdict = "recovering"
	// VerdictUnknown: nothing has been checked yet (no check configured, and
	// no configured address reported by nginx), and few visitors are affected.
	VerdictUnknown Verdict = "unknown"
)

// HopState is the state of one hop of the chain shown to visitors
// (you → gateway → origin).
type HopState string

// The hop states.
const (
	HopUp      HopState = "up"
	HopDown    HopState = "down"
	HopUnknown HopState = "unknown"
)

// SiteStatus is the cached status of one site. Upstreams and the probe
// results in it are admin-only evidence: they name addresses and errors
// that public pages must not show.
type SiteStatus struct {
	Site      string
	Verdict   Verdict
	CheckedAt time.Time // when the latest check of any of its upstreams completed
	// Origin is down when any checked upstream is down, up when all
	// checked ones are up, unknown when none has been checked.
	Origin HopState
	// Affected is the number of distinct visitors served an error page
	// within Window (since the last recovery, if more recent).
	Affected int
	Window   time.Duration
	// RetryAfter is when a client should ask again: while down, the time
	// until the next scheduled check (at least a few seconds); otherwise
	// the normal interval.
	RetryAfter time.Duration
	// Upstreams is shared with other readers: do not modify it.
	Upstreams []UpstreamStatus
}

// UpstreamStatus is the cached state of one upstream.
type UpstreamStatus struct {
	Name      string
	Last      probe.Result // the latest check; zero before the first
	Up        bool         // Last.OK(); false before the first check
	Since     time.Time    // when Up last changed (the first check counts as a change)
	Checks    int          // checks completed since start
	NextCheck time.Time    // when the next background check is due; zero if there is no target yet
}

// minRetryAfter keeps clients from polling harder than the checks can
// change anything.
const minRetryAfter = 3 * time.Second

// siteSnap is what publish computes after each check; Status adds the parts
// that depend on the time of the call.
type siteSnap struct {
	ups         []UpstreamStatus
	origin      HopState
	checkedAt   time.Time
	nextDown    time.Time // earliest next check of a down upstream
	recoveredAt time.Time // when the origin last went from down to up
}

// Status returns the cached status of site. It never waits on a probe and
// does not allocate. An unknown site gets VerdictUnknown.
func (m *Monitor) Status(site string) SiteStatus {
	now := m.clock.Now()
	s := m.sites[site]
	if s == nil {
		return SiteStatus{Site: site, Verdict: VerdictUnknown, Origin: HopUnknown, Window: m.opts.Window, RetryAfter: m.opts.Interval}
	}
	sn := s.snap.Load()
	st := SiteStatus{
		Site:      site,
		CheckedAt: sn.checkedAt,
		Origin:    sn.origin,
		Affected:  m.affected(&s.visitors, now),
		Window:    m.opts.Window,
		Upstreams: sn.ups,
	}
	recovering := !sn.recoveredAt.IsZero() && now.Sub(sn.recoveredAt) < m.opts.RecoveryPeriod
	st.Verdict = verdict(sn.origin, st.Affected >= m.opts.DownThreshold, recovering)
	st.RetryAfter = m.opts.Interval
	if st.Verdict == VerdictDownForEveryone && sn.origin == HopDown {
		st.RetryAfter = max(sn.nextDown.Sub(now), minRetryAfter)
	}
	return st
}

// verdict combines the probe-based origin state with the visitor evidence.
func verdict(origin HopState, many, recovering bool) Verdict {
	switch {
	case origin == HopDown || many:
		return VerdictDownForEveryone
	case origin == HopUnknown:
		return VerdictUnknown
	case recovering:
		return VerdictRecovering
	default:
		return VerdictNotEveryone
	}
}
