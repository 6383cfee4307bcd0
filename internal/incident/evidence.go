package incident

import (
	"context"
	"time"
)

// EvidenceWindow is how far apart nginx's log line and gatewatch's event
// may be: nginx logs whole seconds and reuses connection numbers.
const EvidenceWindow = 5 * time.Second

// LogIndex is what the evidence join needs of nginx's error.log:
// [nginxlog.Index] is one. Evidence picks, among a connection's lines
// within window of at, the request's line that names a cause, failing
// that the request's latest line (the connection's when the request has
// none), copying nothing but the line.
type LogIndex interface {
	Evidence(conn int64, at time.Time, window time.Duration, method, path string) (raw string, ok bool)
}

// EvidenceWriter attaches nginx's own error.log line to each row as the
// recorder writes a batch, so that the line is stored with the event and
// opens on any instance sharing the store, after a restart too; a
// count-only event keeps no row to show it in, so it is not looked up. By
// then (the batch waits up to the recorder's flush interval) the follower
// has read the line that nginx wrote before it handed the request to
// gatewatch.
type EvidenceWriter struct {
	Next  EventWriter
	Index LogIndex
}

// WriteBatch sets NginxLog on the batch's rows that have an nginx
// connection number and no line yet, then passes the batch to Next.
func (w EvidenceWriter) WriteBatch(ctx context.Context, b *Batch) error {
	for i := range b.Rows {
		e := &b.Rows[i]
		if e.CountOnly || e.NginxConn == 0 || e.NginxLog != "" {
			continue
		}
		if line, ok := w.Index.Evidence(e.NginxConn, e.Time, EvidenceWindow, e.Method, e.Path); ok {
			e.NginxLog = line
		}
	}
	return w.Next.WriteBatch(ctx, b)
}
