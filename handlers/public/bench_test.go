package public_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discard is a ResponseWriter that keeps nothing, as a network
// connection would, so that benchmarks measure the handler and not a
// recorder's buffers.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header  { return d.h }
func (d *discard) WriteHeader(code int) { d.code = code }
func (d *discard) Write(b []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += len(b)
	return len(b), nil
}

func (d *discard) reset() {
	clear(d.h)
	d.code, d.n = 0, 0
}

func benchHandler(b *testing.B, h http.Handler, r *http.Request, wantCode int) {
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	b.StopTimer()
	if w.code != wantCode {
		b.Fatalf("status %d; want %d", w.code, wantCode)
	}
	b.SetBytes(int64(w.n))
}

func benchPublic(b *testing.B, target string, hdr map[string]string) {
	s := mustServer(b)
	benchHandler(b, s.h, nginxReq("GET", target, hdr), 502)
}

// BenchmarkErrorPageBrowser is the whole public handler for a browser's
// request, as nginx passes it.
func BenchmarkErrorPageBrowser(b *testing.B) {
	benchPublic(b, "/cart", map[string]string{
		"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Accept-Encoding": "gzip, br",
		"Accept-Language": "de-DE,de;q=0.9",
		"User-Agent":      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
		"X-Request-ID":    "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b",
	})
}

// BenchmarkErrorPageJSON is an API client's request.
func BenchmarkErrorPageJSON(b *testing.B) {
	benchPublic(b, "/api", map[string]string{"Accept": "application/json"})
}

// BenchmarkStatusAPI is one poll of the live status.
func BenchmarkStatusAPI(b *testing.B) {
	s := mustServer(b)
	benchHandler(b, s.h, httptest.NewRequest("GET", "/_gatewatch/api/v1/status?site=shop&lang=de", nil), 200)
}

// BenchmarkErrorPageRealMonitor is the browser's request with the real
// monitor (visitor counting, check gating) instead of a fake status.
func BenchmarkErrorPageRealMonitor(b *testing.B) {
	origin := newCountingOrigin(b)
	h, _ := liveServer(b, origin.addr(), time.Second)
	benchHandler(b, h, nginxReq("GET", "/cart", map[string]string{
		"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Accept-Encoding": "gzip, br",
		"Accept-Language": "de-DE,de;q=0.9",
		"X-Request-ID":    "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b",
		"X-Real-IP":       "203.0.113.7",
	}), 502)
}

// TestErrorPageDoesNotAllocate backs the claim that a browser's page is
// served from its prepared, pre-compressed form without allocating: the
// benchmark above measures the same request.
func TestErrorPageDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items on purpose; make test also runs this without -race")
	}
	s := mustServer(t)
	r := nginxReq("GET", "/cart", map[string]string{
		"Accept-Encoding": "gzip, br",
		"Accept-Language": "de-DE,de;q=0.9",
		"User-Agent":      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
		"X-Request-ID":    "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b",
	})
	w := &discard{h: http.Header{}}
	s.h.ServeHTTP(w, r) // prepares the page variant
	if n := testing.AllocsPerRun(200, func() { w.reset(); s.h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("error page allocates %.1f times per request; want 0", n)
	}
	if w.code != 502 {
		t.Errorf("status %d; want 502", w.code)
	}
}
