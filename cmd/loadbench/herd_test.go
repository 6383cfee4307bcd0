package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestGenerate checks the open-loop generator's bookkeeping: the warm-up
// is sent but not counted, every measured request is sent or missed, and
// the load is spread over the workers' connections.
func TestGenerate(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "shop.test" || r.Header.Get("Accept-Language") != "de" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const rate, workers = 1000, 8
	g := generate(context.Background(), genOptions{
		url: srv.URL, headers: [][2]string{{"Host", "shop.test"}, {"Accept-Language", "de"}},
		rate: rate, duration: time.Second, warmup: 300 * time.Millisecond, workers: workers,
	})
	if g.scheduled != rate {
		t.Errorf("scheduled %d in the measured second; want %d", g.scheduled, rate)
	}
	if g.sent+g.missed != g.scheduled {
		t.Errorf("sent %d + missed %d != scheduled %d", g.sent, g.missed, g.scheduled)
	}
	if g.errors != 0 || g.codes[http.StatusBadGateway] != g.sent {
		t.Errorf("codes %v, %d errors (%s); want every answer 502", g.codes, g.errors, g.firstErr)
	}
	if int64(len(g.latencies)) != g.sent || int64(len(g.sendLags)) != g.sent {
		t.Errorf("%d latencies, %d send lags for %d sent", len(g.latencies), len(g.sendLags), g.sent)
	}
	if g.elapsed < time.Second-2*time.Second/rate {
		t.Errorf("elapsed %s; want at least the measured second", g.elapsed)
	}
	if n := conns.Load(); n < 2 || n > workers {
		t.Errorf("%d connections; want the load spread over at most %d", n, workers)
	}
	t.Logf("latency p50 %s p99 %s; send lag p50 %s p99 %s; %d connections",
		g.percentile(50), g.percentile(99), percentile(g.sendLags, 50), percentile(g.sendLags, 99), conns.Load())
}
