package public_test

import (
	"net/http"
	"strings"
	"testing"
)

// checkSecurityHeaders fails unless w carries the headers every response
// of both listeners carries (httpx.SecurityHeaders).
func checkSecurityHeaders(t *testing.T, name string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q; want %q", name, k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: Content-Security-Policy = %q; want default-src 'none' and frame-ancestors 'none'", name, csp)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		name string
		r    *http.Request
		code int
	}{
		{"error page", nginxReq(http.MethodGet, "/cart", map[string]string{"X-Code": "502"}), 502},
		{"error page as text", nginxReq(http.MethodGet, "/cart", map[string]string{"Accept": "text/plain"}), 502},
		{"error page as problem", nginxReq(http.MethodGet, "/cart", map[string]string{"Accept": "application/problem+json"}), 502},
		{"status", nginxReq(http.MethodGet, "/_gatewatch/api/v1/status?site=shop", nil), 200},
		{"status of no site", nginxReq(http.MethodGet, "/_gatewatch/api/v1/status?site=nope", nil), 404},
		{"unknown asset", nginxReq(http.MethodGet, "/_gatewatch/static/nope.css", nil), 404},
		{"cross-origin clear", nginxReq(http.MethodPost, "/_gatewatch/clear-site-data", map[string]string{"Sec-Fetch-Site": "cross-site"}), 403},
		{"same-origin clear", nginxReq(http.MethodPost, "/_gatewatch/clear-site-data", map[string]string{"Sec-Fetch-Site": "same-origin"}), 204},
		{"404 page", nginxReq(http.MethodGet, "/_gatewatch/nope", nil), 404},
		{"405 page", nginxReq(http.MethodDelete, "/_gatewatch/api/v1/status", nil), 405},
	} {
		w := s.do(tc.r)
		if w.Code != tc.code {
			t.Errorf("%s: status %d; want %d", tc.name, w.Code, tc.code)
		}
		checkSecurityHeaders(t, tc.name, w.Header())
	}
}

// TestErrorFormat checks the listener's one error writer: problem+json
// for the status API's clients, text for the rest.
func TestErrorFormat(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		target, wantType, wantBody string
		code                       int
	}{
		{"/_gatewatch/api/v1/status?site=nope", "application/problem+json",
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"no such site"}` + "\n", 404},
		{"/_gatewatch/static/nope.css", "text/plain; charset=utf-8", "not found\n", 404},
	} {
		w := s.do(nginxReq(http.MethodGet, tc.target, nil))
		if w.Code != tc.code || w.Header().Get("Content-Type") != tc.wantType || w.Body.String() != tc.wantBody {
			t.Errorf("GET %s = %d %q %q; want %d %q %q", tc.target, w.Code, w.Header().Get("Content-Type"), w.Body.String(),
				tc.code, tc.wantType, tc.wantBody)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q; want no-store", tc.target, got)
		}
	}
}
