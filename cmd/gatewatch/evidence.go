package main

import (
	"context"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// evidenceWindow is how far apart nginx's log line and gatewatch's event
// may be: nginx logs whole seconds and reuses connection numbers.
const evidenceWindow = 5 * time.Second

// evidenceWriter attaches nginx's own error.log line to each row as the
// recorder writes a batch, so that the line is stored with the event and
// opens on any instance sharing the store, after a restart too; a
// count-only event keeps no row to show it in, so it is not looked up. By then (the batch waits up to the recorder's
// flush interval) the follower has read the line that nginx wrote before
// it handed the request to gatewatch.
type evidenceWriter struct {
	next  incident.EventWriter
	index *nginxlog.Index
}

func (w evidenceWriter) WriteBatch(ctx context.Context, b *incident.Batch) error {
	for i := range b.Rows {
		e := &b.Rows[i]
		if e.CountOnly || e.NginxConn == 0 || e.NginxLog != "" {
			continue
		}
		// The request's own line that names a cause is the evidence;
		// failing that, the connection's latest line (Index.Evidence).
		if raw, ok := w.index.Evidence(e.NginxConn, e.Time, evidenceWindow, e.Method, e.Path); ok {
			e.NginxLog = raw
		}
	}
	return w.next.WriteBatch(ctx, b)
}

// closeRecovered closes the incidents of upstreams that have been up for
// the quiet period (monitor.quiet_period: a flapping origin stays one
// incident), every interval until ctx ends.
func closeRecovered(ctx context.Context, store incident.Store, states func() map[string][]upstreamState, every, quietPeriod time.Duration, now func() time.Time) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for site, ups := range states() {
			for _, u := range ups {
				if !u.up || u.since.IsZero() {
					continue
				}
				if now().Sub(u.since) < quietPeriod+every {
					// The timeline's "recovered"; written once per recovery.
					store.RecordRecovery(ctx, site, u.name, u.since)
				}
				if now().Sub(u.since) >= quietPeriod {
					store.CloseIncidents(ctx, site, u.name, u.since.Add(quietPeriod))
				}
			}
		}
	}
}

type upstreamState struct {
	name  string
	up    bool
	since time.Time
}
