package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/handlers/admin"
)

// TestAdminSecurityHeadersOnEveryRoute walks the whole router: every
// route, signed in or not, answers with the security headers.
func TestAdminSecurityHeadersOnEveryRoute(t *testing.T) {
	e := mustAdmin(t)
	routes, err := admin.AdminRoutes(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	session := e.login(t)
	extra := []string{"/nope", "/admin/api/v1/nope"}
	var targets []string
	for _, rt := range routes {
		targets = append(targets, e.concrete(rt.Path))
	}
	for _, target := range append(targets, extra...) {
		for _, s := range []*http.Cookie{nil, session} {
			w := e.get(t, target, s)
			h := w.Header()
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("GET %s (session %v) = %d: %s = %q; want %q", target, s != nil, w.Code, k, got, want)
				}
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("GET %s (session %v): Content-Security-Policy = %q; want frame-ancestors 'none'", target, s != nil, csp)
			}
		}
	}
}

// TestAdminErrorFormat checks the listener's one error writer: the API's
// errors are problem+json, a page's missing record is a page, an unknown
// path or method is text, as they were.
func TestAdminErrorFormat(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	for _, tc := range []struct {
		method, target string
		session        bool
		code           int
		wantType       string
	}{
		{http.MethodGet, "/admin/api/v1/incidents/999999", true, 404, "application/problem+json"},
		{http.MethodGet, "/admin/api/v1/sites", false, 401, "application/problem+json"},
		{http.MethodGet, "/metrics", false, 401, "application/problem+json"},
		{http.MethodGet, "/admin/incidents/999999", true, 404, "text/html; charset=utf-8"},
		{http.MethodGet, "/admin/api/v1/nope", true, 404, "text/plain; charset=utf-8"},
		{http.MethodPut, "/admin/api/v1/sites", true, 405, "text/plain; charset=utf-8"},
		{http.MethodPost, "/admin/logout", true, 403, "text/plain; charset=utf-8"}, // no CSRF token
		{http.MethodGet, "/_gatewatch/static/nope.css", false, 404, "text/plain; charset=utf-8"},
	} {
		var cookies []*http.Cookie
		if tc.session {
			cookies = append(cookies, session)
		}
		w := e.do(adminReq(tc.method, tc.target, nil), cookies...)
		if w.Code != tc.code || w.Header().Get("Content-Type") != tc.wantType {
			t.Errorf("%s %s (session %v) = %d %q; want %d %q", tc.method, tc.target, tc.session, w.Code,
				w.Header().Get("Content-Type"), tc.code, tc.wantType)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s: Cache-Control = %q; want no-store", tc.method, tc.target, got)
		}
	}
}
