package public_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/handlers/public"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

// countingOrigin is a loopback origin that answers 503 and counts the
// connections it accepts: every probe is one connection.
type countingOrigin struct {
	ln      net.Listener
	accepts atomic.Int64
}

func newCountingOrigin(tb testing.TB) *countingOrigin {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	o := &countingOrigin{ln: ln}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				o.accepts.Add(1)
			}
		},
	}
	srv.SetKeepAlivesEnabled(false)
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return o
}

func (o *countingOrigin) addr() string { return o.ln.Addr().String() }

// liveServer wires the real monitor and prober, as serve does, with the
// site's upstream checked at origin.
func liveServer(tb testing.TB, origin string, minInterval time.Duration) (http.Handler, *monitor.Monitor) {
	tb.Helper()
	toml := fmt.Sprintf(`
[server]
trusted_proxies = ["127.0.0.1/32"]
[[site]]
name = "shop"
hosts = ["shop.example"]
[site.brand]
title = "Shop"
[[site.upstream]]
name = "app"
check = "http://%s/health"
addrs = ["%s"]
`, origin, origin)
	path := filepath.Join(tb.TempDir(), "g.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	mon, err := monitor.New(monitor.Options{
		Upstreams:    []monitor.Upstream{{Site: "shop", Name: "app", Check: cfg.Sites[0].Upstreams[0].Check, Addrs: cfg.Sites[0].Upstreams[0].Addrs}},
		Checker:      probe.New(probe.Options{Timeout: time.Second}),
		Interval:     time.Hour, // only page views and polls may ask for checks here
		DownInterval: time.Hour,
		MinInterval:  minInterval,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { mon.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	cat, err := locales.New("en")
	if err != nil {
		tb.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		tb.Fatal(err)
	}
	h, err := public.New(public.Deps{Config: cfg, Catalog: cat, Assets: assets, Status: mon, Events: &fakeRecorder{}, Clock: fixedClock{testTime},
		Metrics: public.NewMetrics(prometheus.NewRegistry()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Board: newTestBoard()})
	if err != nil {
		tb.Fatal(err)
	}
	return h, mon
}

// burst sends n requests made by mk from 8 goroutines.
func burst(h http.Handler, n int, mk func(i int) *http.Request) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				h.ServeHTTP(httptest.NewRecorder(), mk(i))
			}
		})
	}
	wg.Wait()
}

// TestHerdDoesNotAmplify: 20,000 error pages and 20,000 status polls in a
// burst against a down origin cause only a handful of probes.
func TestHerdDoesNotAmplify(t *testing.T) {
	origin := newCountingOrigin(t)
	h, mon := liveServer(t, origin.addr(), time.Second)
	start := time.Now()
	burst(h, 20000, func(i int) *http.Request {
		return nginxReq("GET", "/cart", map[string]string{"X-Real-IP": fmt.Sprintf("198.51.100.%d", i%250), "Accept": "text/html"})
	})
	pages := origin.accepts.Load()
	t.Logf("20,000 error pages in %v: %d probes reached the origin", time.Since(start).Round(time.Millisecond), pages)
	start = time.Now()
	burst(h, 20000, func(int) *http.Request {
		return httptest.NewRequest("GET", "/_gatewatch/api/v1/status?site=shop", nil)
	})
	polls := origin.accepts.Load() - pages
	t.Logf("20,000 status polls in %v: %d more probes", time.Since(start).Round(time.Millisecond), polls)
	// One probe per MinInterval at most: the bursts take a few seconds on
	// a slow machine, so allow one per started second plus one.
	limit := int64(time.Since(start)/time.Second) + 6
	if pages+polls > limit {
		t.Errorf("%d probes for 40,000 requests; want at most %d", pages+polls, limit)
	}
	if pages == 0 {
		t.Error("no probe at all: error pages should ask for a check")
	}
	c := mon.Counters()
	t.Logf("monitor counters: run %d, suppressed %d", c.ProbesRun, c.ProbesSuppressed)
}

// TestSpoofedTargetsAreNeverProbed sends every input a visitor or a
// confused proxy controls pointing at a loopback listener the config does
// not name, and proves nothing connects to it.
func TestSpoofedTargetsAreNeverProbed(t *testing.T) {
	origin := newCountingOrigin(t)
	bait := newCountingOrigin(t)
	h, _ := liveServer(t, origin.addr(), 10*time.Millisecond)
	b := bait.addr()
	for i, r := range []*http.Request{
		nginxReq("GET", "/", map[string]string{"X-Upstream-Addr": b}),
		nginxReq("GET", "/", map[string]string{"X-Upstream-Addr": origin.addr() + ", " + b + " : " + b}),
		nginxReq("GET", "/", map[string]string{"Host": b}),
		nginxReq("GET", "/?check=http://"+b+"/&site="+b+"&upstream="+b, nil),
		nginxReq("GET", "/", map[string]string{"X-Original-URI": "http://" + b + "/"}),
		httptest.NewRequest("GET", "/_gatewatch/api/v1/status?site="+b, nil),
		httptest.NewRequest("GET", "/_gatewatch/api/v1/status?site=shop&check=http://"+b, nil),
	} {
		r.RemoteAddr = "127.0.0.1:1000"
		h.ServeHTTP(httptest.NewRecorder(), r)
		// Give any (wrong) probe time to start between requests.
		time.Sleep(30 * time.Millisecond)
		if n := bait.accepts.Load(); n != 0 {
			t.Fatalf("request %d made gatewatch connect to the unnamed %s (%d times)", i, b, n)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := bait.accepts.Load(); n != 0 {
		t.Errorf("the unnamed listener got %d connections; want 0", n)
	}
	if origin.accepts.Load() == 0 {
		t.Error("the configured origin was never probed: the test proves nothing")
	}
}
