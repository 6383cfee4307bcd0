package incident

import (
	"context"
	"time"

	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// EvidenceWindow is how far apart nginx's log line and gatewatch's event
// may be: nginx logs whole seconds and reuses connection numbers.
const EvidenceWindow = 5 * time.Second

// LogIndex is what the evidence join needs of nginx's error.log:
// [nginxlog.Index] is one.
type LogIndex interface {
	LookupNear(conn int64, at time.Time, window time.Duration) []nginxlog.Entry
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
		if line, ok := evidenceLine(w.Index.LookupNear(e.NginxConn, e.Time, EvidenceWindow), e.Method, e.Path); ok {
			e.NginxLog = line
		}
	}
	return w.Next.WriteBatch(ctx, b)
}

// evidenceLine picks, among a connection's lines, the request's line that
// names a cause; failing that, the request's latest line.
func evidenceLine(near []nginxlog.Entry, method, path string) (string, bool) {
	entries := nginxlog.ForRequest(near, method, path)
	if len(entries) == 0 {
		return "", false
	}
	for j := len(entries) - 1; j >= 0; j-- {
		if entries[j].Cause != nginxlog.CauseOther {
			return entries[j].Raw, true
		}
	}
	return entries[len(entries)-1].Raw, true
}
