package incident_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/pgtest"
)

// benchmarkAddEvents writes batches of the recorder's default size into
// one incident, with a realistic spread of visitors and paths; countOnly
// makes every event one without a row of its own, as past the recorder's
// RowsPerSecond in a storm.
func benchmarkAddEvents(b *testing.B, s incident.Store, countOnly bool) {
	const size = 256
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch := make([]incident.Event, size)
		for i := range batch {
			batch[i] = incident.Event{
				Time: t0.Add(time.Duration(n) * time.Millisecond), Site: "shop", Upstream: "app",
				Host: "shop.example", Path: fmt.Sprintf("/p/%d", n%50), Method: "GET", Code: 502,
				RequestID: fmt.Sprintf("%032x", n), Locale: "en", VisitorHash: fmt.Sprintf("v%d", n%1000),
				UpstreamAddr: "10.0.0.1:80", UpstreamStatus: "502", UpstreamConnectTime: "-",
				CountOnly: countOnly,
			}
			n++
		}
		if err := s.AddEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAddEvents(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(b *testing.B) incident.Store
	}{
		{"sqlite", func(b *testing.B) incident.Store {
			s, err := incident.Open(context.Background(), "", b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) incident.Store {
			s, err := incident.Open(context.Background(), pgtest.Start(b).NewDatabase(b), "")
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	} {
		b.Run(db.name, func(b *testing.B) {
			for _, mode := range []struct {
				name      string
				countOnly bool
			}{{"rows", false}, {"count-only", true}} {
				b.Run(mode.name, func(b *testing.B) {
					s := db.open(b)
					defer s.Close()
					benchmarkAddEvents(b, s, mode.countOnly)
				})
			}
		})
	}
}

// BenchmarkRecorderStorm is the writer's throughput into SQLite during a
// storm, from Record to the store: events come as fast as the writer takes
// them (a full queue is retried, not dropped), each with one of 50 paths
// and 1000 visitors. With no row limit every event is a row; with the
// default limit of 1000 rows per second almost all are count-only and ride
// along in larger writes.
func BenchmarkRecorderStorm(b *testing.B) {
	for _, tt := range []struct {
		name          string
		rowsPerSecond int
	}{{"all-rows", 0}, {"rows-1000", 1000}} {
		b.Run(tt.name, func(b *testing.B) {
			s, err := incident.Open(context.Background(), "", b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			paths := make([]string, 50)
			for i := range paths {
				paths[i] = fmt.Sprintf("/p/%d", i)
			}
			r := incident.NewRecorder(s, incident.RecorderOptions{
				RowsPerSecond: tt.rowsPerSecond, Logger: slog.New(slog.DiscardHandler)})
			go func() { _ = r.Run(context.Background()) }()
			e := incident.Event{Site: "shop", Upstream: "app", Host: "shop.example", Method: "GET", Code: 502,
				RequestID: "storm", Locale: "en", UpstreamAddr: "10.0.0.1:80", UpstreamStatus: "502", UpstreamConnectTime: "-"}
			n := 0
			for b.Loop() {
				e.Path = paths[n%len(paths)]
				e.VisitorKey[0], e.VisitorKey[1] = byte(n%1000), byte(n%1000>>8)
				e.Time = time.Time{}
				for !r.Record(e) {
					time.Sleep(50 * time.Microsecond)
				}
				n++
			}
			if err := r.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			st := r.Stats()
			if st.Written != int64(n) {
				b.Fatalf("written %d of %d events: %+v", st.Written, n, st)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(st.CountOnly)/float64(n), "count-only/event")
		})
	}
}

// BenchmarkRecord is the cost a page pays to record its event.
func BenchmarkRecord(b *testing.B) {
	r := incident.NewRecorder(discard{}, incident.RecorderOptions{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	e := ev("shop", "app", 0, "bench")
	b.ReportAllocs()
	for b.Loop() {
		r.Record(e)
	}
}

type discard struct{}

func (discard) WriteBatch(context.Context, *incident.Batch) error { return nil }
