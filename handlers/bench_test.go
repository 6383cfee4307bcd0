package handlers_test

import (
	"net/http/httptest"
	"testing"
)

func benchPublic(b *testing.B, target string, hdr map[string]string) {
	s := mustServer(b)
	r := nginxReq("GET", target, hdr)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
	}
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
	r := httptest.NewRequest("GET", "/_gatewatch/api/v1/status?site=shop&lang=de", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.h.ServeHTTP(httptest.NewRecorder(), r)
	}
}
