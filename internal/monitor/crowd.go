package monitor

import (
	"context"
	"time"
)

// Crowd is a store that instances share (PostgreSQL): each hands it the
// visitors it saw with errors and learns how many distinct visitors all
// of them saw, so that a page says how many others are affected, not how
// many this one instance answered.
type Crowd interface {
	// SyncCrowd records seen, drops sightings before prune, and returns
	// the distinct visitors every instance saw since since, per site and
	// upstream ("" for the site as a whole).
	SyncCrowd(ctx context.Context, seen []CrowdMark, since, prune time.Time) ([]CrowdCount, error)
}

// CrowdMark is a sighting of a visitor with an error on a site's upstream
// ("" for the site as a whole). IP is the key of the visitor's address
// alone, so that the store caps the visitors one address accounts for
// across instances as each instance does (MaxPerIP).
type CrowdMark struct {
	Site, Upstream string
	Visitor        [16]byte
	IP             [8]byte
	At             time.Time
}

// CrowdCount is the distinct visitors of a site's upstream on every
// instance.
type CrowdCount struct {
	Site, Upstream string
	Visitors       int
}

// affected is the distinct visitors of w at now: this instance's, or
// everyone's from the last crowd sync if larger and at most three syncs
// old (a store that stops answering leaves this instance's own count).
func (m *Monitor) affected(w *visitorWindow, now time.Time) int {
	return w.affected(m.mono(now), int64(m.opts.Window), int64(3*m.opts.CrowdEvery))
}

// wall is the time of mono time t.
func (m *Monitor) wall(t int64) time.Time { return m.epoch.Add(time.Duration(t - 1)) }

// crowdLoop syncs the crowd every CrowdEvery until ctx ends.
func (m *Monitor) crowdLoop(ctx context.Context) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.clock.After(m.opts.CrowdEvery):
		}
		err := m.syncCrowd(ctx)
		switch {
		case err != nil && !failing:
			m.log.Warn("crowd sync failed: affected visitors count this instance's only", "err", err)
		case err == nil && failing:
			m.log.Info("crowd sync works again")
		}
		failing = err != nil
	}
}

// syncCrowd hands the visitors seen since the last sync to the crowd
// store and takes everyone's counts. Sightings that fail to reach the
// store are not retried: the visitor's next error page hands them on.
func (m *Monitor) syncCrowd(ctx context.Context) error {
	type ref struct{ site, upstream string }
	windows := map[ref]*visitorWindow{}
	var seen []CrowdMark
	add := func(r ref, w *visitorWindow) {
		windows[r] = w
		for vk, e := range w.take() {
			seen = append(seen, CrowdMark{Site: r.site, Upstream: r.upstream, Visitor: vk, IP: e.ip, At: m.wall(e.shared)})
		}
	}
	for _, s := range m.sites {
		add(ref{s.name, ""}, &s.visitors)
		for _, u := range s.ups {
			add(ref{s.name, u.cfg.Name}, &u.visitors)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.CrowdEvery)
	defer cancel()
	now := m.clock.Now()
	counts, err := m.opts.Crowd.SyncCrowd(ctx, seen, now.Add(-m.opts.Window), now.Add(-2*m.opts.Window))
	if err != nil {
		return err
	}
	at := m.mono(now)
	got := make(map[ref]int64, len(counts))
	for _, c := range counts {
		got[ref{c.Site, c.Upstream}] = int64(c.Visitors)
	}
	for r, w := range windows {
		w.crowd.Store(got[r])
		w.crowdAt.Store(at)
	}
	return nil
}
