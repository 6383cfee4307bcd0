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

func (discard) AddEvents(context.Context, []incident.Event) error { return nil }
