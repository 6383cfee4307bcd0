package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

type keepEvents struct{ got []incident.Event }

func (k *keepEvents) WriteBatch(_ context.Context, b *incident.Batch) error {
	k.got = append(k.got, b.Rows...)
	return nil
}

func mustParseLine(t *testing.T, line string) nginxlog.Entry {
	t.Helper()
	entry, err := nginxlog.ParseLine(line, time.UTC)
	if err != nil {
		t.Fatalf("ParseLine(%q) = %v", line, err)
	}
	return entry
}

func TestEvidenceWriterAttachesLineToRows(t *testing.T) {
	const line = `2026/11/22 01:55:20 [error] 1234#1234: *7 connect() failed (111: Connection refused) while connecting to upstream, ` +
		`client: 127.0.0.1, server: localhost, request: "GET /cart HTTP/1.1", upstream: "http://127.0.0.1:9/cart", host: "shop.example"`
	index := nginxlog.NewIndex(0)
	index.Add(mustParseLine(t, line))
	next := &keepEvents{}
	w := incident.EvidenceWriter{Next: next, Index: index}
	at := time.Date(2026, 11, 22, 1, 55, 20, 0, time.UTC)
	events := []incident.Event{
		{Time: at, Method: "GET", Path: "/cart", NginxConn: 7, RequestID: "row"},
		{Time: at, Method: "GET", Path: "/cart", NginxConn: 7, RequestID: "count", CountOnly: true},
		{Time: at, Method: "GET", Path: "/cart", NginxConn: 7, RequestID: "kept", NginxLog: "already"},
		{Time: at, Method: "GET", Path: "/cart", NginxConn: 8, RequestID: "other-conn"},
		{Time: at, Method: "GET", Path: "/other", NginxConn: 7, RequestID: "other-path"},
		{Time: at.Add(incident.EvidenceWindow + time.Second), Method: "GET", Path: "/cart", NginxConn: 7, RequestID: "too-late"},
	}
	// A path the connection logged nothing about gets the connection's
	// lines whole (nginxlog.ForRequest).
	want := map[string]string{"row": line, "count": "", "kept": "already", "other-conn": "", "other-path": line, "too-late": ""}
	b := incident.Batch{Rows: events}
	if err := w.WriteBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if len(next.got) != len(events) {
		t.Fatalf("next got %d rows; want %d", len(next.got), len(events))
	}
	for _, e := range next.got {
		if e.NginxLog != want[e.RequestID] {
			t.Errorf("NginxLog of %q = %q; want %q", e.RequestID, e.NginxLog, want[e.RequestID])
		}
	}
}

// A connection's line that names a cause wins over a later one that
// does not, for the same request.
func TestEvidenceWriterPrefersTheLineWithACause(t *testing.T) {
	const (
		cause = `2026/11/22 01:55:20 [error] 1234#1234: *7 upstream timed out (110: Connection timed out) while reading response header from upstream, ` +
			`client: 127.0.0.1, server: localhost, request: "GET /cart HTTP/1.1", upstream: "http://127.0.0.1:9/cart", host: "shop.example"`
		later = `2026/11/22 01:55:21 [info] 1234#1234: *7 client closed connection while sending to client, ` +
			`client: 127.0.0.1, server: localhost, request: "GET /cart HTTP/1.1", host: "shop.example"`
	)
	index := nginxlog.NewIndex(0)
	index.Add(mustParseLine(t, cause))
	index.Add(mustParseLine(t, later))
	if got := mustParseLine(t, later).Cause; got != nginxlog.CauseOther {
		t.Fatalf("cause of the later line = %q; the test wants one without a cause", got)
	}
	next := &keepEvents{}
	b := incident.Batch{Rows: []incident.Event{{Time: time.Date(2026, 11, 22, 1, 55, 21, 0, time.UTC), Method: "GET", Path: "/cart", NginxConn: 7}}}
	if err := (incident.EvidenceWriter{Next: next, Index: index}).WriteBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if got := next.got[0].NginxLog; got != cause {
		t.Errorf("NginxLog = %q; want %q", got, cause)
	}
}
