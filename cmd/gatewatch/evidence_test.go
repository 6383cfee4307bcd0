package main

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

func TestEvidenceWriterAttachesLineToRows(t *testing.T) {
	const line = `2026/11/22 01:55:20 [error] 1234#1234: *7 connect() failed (111: Connection refused) while connecting to upstream, ` +
		`client: 127.0.0.1, server: localhost, request: "GET /cart HTTP/1.1", upstream: "http://127.0.0.1:9/cart", host: "shop.example"`
	entry, err := nginxlog.ParseLine(line, time.UTC)
	if err != nil {
		t.Fatalf("ParseLine(%q) = %v", line, err)
	}
	index := nginxlog.NewIndex(0)
	index.Add(entry)
	next := &keepEvents{}
	w := evidenceWriter{next: next, index: index}
	at := time.Date(2026, 11, 22, 1, 55, 20, 0, time.UTC)
	events := []incident.Event{
		{Time: at, Method: "GET", Path: "/cart", NginxConn: 7, RequestID: "row"},
		{Time: at, Method: "GET", Path: "/cart", NginxConn: 7, RequestID: "count", CountOnly: true},
	}
	b := incident.Batch{Rows: events}
	if err := w.WriteBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	for _, e := range next.got {
		want := line
		if e.CountOnly {
			want = "" // no row to show it in
		}
		if e.NginxLog != want {
			t.Errorf("NginxLog of %q = %q; want %q", e.RequestID, e.NginxLog, want)
		}
	}
}
