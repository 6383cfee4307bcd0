package incident_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// testRowAfterCount: the recorder counts an event in one batch and may
// write its row in the next; the row joins the incident its count opened
// and is not counted twice, and its own cause (an nginx log line the
// evidence writer found) still reaches the incident.
func testRowAfterCount(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	e := ev("shop", "app", 0, "late-row")
	counts := incident.CountEvents([]incident.Event{e})
	counts.Rows = nil
	if err := s.WriteBatch(ctx, &counts); err != nil {
		t.Fatalf("WriteBatch(counts) = %v", err)
	}
	id := counts.Counts[0].IncidentID
	e.NginxLog = `2026/03/01 12:00:00 [error] 7#7: *3 connect() failed (111: Connection refused) while connecting to upstream`
	rows := incident.Batch{Rows: []incident.Event{e}}
	if err := s.WriteBatch(ctx, &rows); err != nil {
		t.Fatalf("WriteBatch(rows) = %v", err)
	}
	if rows.Rows[0].IncidentID != id {
		t.Errorf("the late row's IncidentID = %d; want %d", rows.Rows[0].IncidentID, id)
	}
	in := mustIncident(t, s, id)
	if in.Requests != 1 || in.Visitors != 1 || in.Codes[502] != 1 {
		t.Errorf("Incident = %+v; want 1 request, 1 visitor, counted once", in)
	}
	if in.Cause.Source != incident.SourceNginxLog || in.Cause.Class != incident.ClassConnectFailed {
		t.Errorf("Incident cause = %+v; want the row's log line (%s)", in.Cause, incident.ClassConnectFailed)
	}
	got, err := s.Event(ctx, "late-row")
	if err != nil || got.IncidentID != id {
		t.Errorf("Event(late-row) = %+v, %v; want the row in incident %d", got, err, id)
	}
}

// testRecorderFlood drives a real Recorder into this store far faster
// than its small row queue drains: incident, code, visitor and per-second
// figures are exact, and every lost row is counted.
func testRecorderFlood(t *testing.T, s incident.Store) {
	const (
		goroutines = 4
		each       = 2500
		total      = goroutines * each
	)
	r := incident.NewRecorder(s, incident.RecorderOptions{QueueSize: 16, BatchSize: 8, RowsPerSecond: 100,
		FlushInterval: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := ev("shop", "app", time.Duration(i%4)*time.Second, fmt.Sprintf("f%d-%d", g, i))
				e.Code = 502 + 2*(i%2)
				e.VisitorHash = fmt.Sprintf("v%d", (g*each+i)%37)
				e.Path = fmt.Sprintf("/p%d", i%5)
				r.Record(e)
			}
		})
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	st := r.Stats()
	if st.Recorded != total || st.Written != total || st.Failed != 0 || st.Pending != 0 {
		t.Fatalf("Stats() = %+v; want all %d recorded and written", st, total)
	}
	if st.Rows+st.Dropped+st.Shed > 4*100 || st.Rows == 0 {
		t.Errorf("Stats() = %+v; want rows + shed + dropped rows within 4 seconds' RowsPerSecond", st)
	}
	list, err := s.Incidents(ctxT(t), incident.Filter{Site: "shop"})
	if err != nil || len(list) != 1 {
		t.Fatalf("Incidents = %v, %v; want one", list, err)
	}
	in := mustIncident(t, s, list[0].ID)
	if in.Requests != total || in.Visitors != 37 || !reflect.DeepEqual(in.Codes, map[int]int64{502: total / 2, 504: total / 2}) {
		t.Errorf("Incident = %+v; want %d requests, 37 visitors, half 502 half 504", in, total)
	}
	for _, p := range in.TopPaths {
		if p.N != total/5 {
			t.Errorf("path %s counted %d; want %d", p.Key, p.N, total/5)
		}
	}
	if n, err := s.Visitors(ctxT(t), "shop", t0); err != nil || n != 37 {
		t.Errorf("Visitors(shop) = %d, %v; want 37", n, err)
	}
	series, err := s.Series(ctxT(t), "shop", t0.Truncate(time.Second), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, b := range series {
		if b.N != total/4 {
			t.Errorf("second %v counted %d; want %d", b.Start, b.N, total/4)
		}
		sum += b.N
	}
	if sum != total || len(series) != 4 {
		t.Errorf("Series = %v; want 4 seconds of %d", series, total/4)
	}
}

// testSiteVisitors: distinct visitors per site and window count every
// event, rows or not, once across instances sharing the store.
func testSiteVisitors(t *testing.T, open opener) {
	a, b := open(t), open(t)
	ctx := ctxT(t)
	mk := func(at time.Duration, visitor string, countOnly bool) incident.Event {
		e := ev("shop", "app", at, "sv-"+visitor+fmt.Sprint(at))
		e.VisitorHash, e.CountOnly = visitor, countOnly
		return e
	}
	mustAdd(t, a, mk(0, "alice", false), mk(time.Second, "bob", true), mk(2*time.Minute, "carol", true))
	mustAdd(t, b, mk(3*time.Second, "alice", true), mk(2*time.Minute+time.Second, "bob", false))
	other := ev("blog", "web", 0, "sv-blog")
	other.VisitorHash = "dave"
	mustAdd(t, b, other)
	for _, tc := range []struct {
		since time.Duration
		want  int64
	}{
		{0, 3}, {-time.Hour, 3}, {2 * time.Minute, 2}, {3 * time.Minute, 0},
	} {
		for i, s := range []incident.Store{a, b} {
			if got, err := s.Visitors(ctx, "shop", t0.Add(tc.since)); err != nil || got != tc.want {
				t.Errorf("instance %d: Visitors(shop, t0%+v) = %d, %v; want %d", i, tc.since, got, err, tc.want)
			}
		}
	}
	if _, err := a.Prune(ctx, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Visitors(ctx, "shop", t0.Add(-time.Hour)); got != 2 {
		t.Errorf("after pruning the first minute, Visitors = %d; want 2 (carol, bob)", got)
	}
}
