package incident_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

type healthFakePinger struct{ err error }

func (p *healthFakePinger) Ping(context.Context) error { return p.err }

type healthFakeWriter struct{ err error }

func (w *healthFakeWriter) WriteBatch(context.Context, *incident.Batch) error { return w.err }

// TestHealth: a failed ping or a failed write makes the store not ready
// until it answers, or a write succeeds, again; each change is logged
// once, however many checks come in between.
func TestHealth(t *testing.T) {
	var log bytes.Buffer
	p, w := &healthFakePinger{}, &healthFakeWriter{}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	h := incident.NewHealth(p, slog.New(slog.NewTextHandler(&log, nil)), func() time.Time { return now })
	ew := h.Writer(w)
	ctx := context.Background()
	check := func(wantReady bool) {
		t.Helper()
		for range 3 {
			if err := h.Check(ctx); (err == nil) != wantReady {
				t.Fatalf("Check() = %v; want ready %v", err, wantReady)
			}
		}
	}
	check(true)
	w.err = errors.New("disk I/O error")
	ew.WriteBatch(ctx, &incident.Batch{})
	check(false)
	w.err = nil
	ew.WriteBatch(ctx, &incident.Batch{})
	check(true)
	p.err = errors.New("database file gone")
	check(false)
	p.err = nil
	check(true)
	// A write cut short by shutdown is not a store fault.
	w.err = context.Canceled
	ew.WriteBatch(ctx, &incident.Batch{})
	check(true)
	// A failed write with none after it counts for WriteFailureMemory:
	// out of rotation, no visitor would come to prove the store back.
	w.err = errors.New("read-only file system")
	ew.WriteBatch(ctx, &incident.Batch{})
	check(false)
	now = now.Add(incident.WriteFailureMemory)
	check(true)

	got := log.String()
	if n := strings.Count(got, "store not ready"); n != 3 {
		t.Errorf("logged 'not ready' %d times; want 3 (once per change):\n%s", n, got)
	}
	if n := strings.Count(got, "store ready again"); n != 3 {
		t.Errorf("logged 'ready again' %d times; want 3:\n%s", n, got)
	}
	if !strings.Contains(got, "disk I/O error") || !strings.Contains(got, "database file gone") {
		t.Errorf("log does not say why:\n%s", got)
	}
}
