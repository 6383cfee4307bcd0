package public_test

import (
	"testing"
)

// TestErrorRoute is the contract of /_gatewatch/error/{code} as Traefik's
// errors middleware uses it (query "/_gatewatch/error/{status}?url={url}"):
// Traefik asks with GET, the visitor's own headers copied (so nginx's
// headers in it are the visitor's), {url} the escaped original URL.
func TestErrorRoute(t *testing.T) {
	visitor := map[string]string{
		"Accept-Language": "fr-FR,fr;q=0.9", "X-Code": "418", "X-Upstream-Addr": "10.9.8.7:80",
		"X-Original-URI": "/evil", "X-Nginx-Connection": "77",
	}
	t.Run("from a trusted proxy: the code of the path, recorded", func(t *testing.T) {
		s := mustServer(t)
		w := s.do(nginxReq("GET", "/_gatewatch/error/504?url=%2Fcart%3Fx%3D1", visitor))
		if w.Code != 504 {
			t.Fatalf("status = %d; want 504", w.Code)
		}
		if got := doc(t, w).Find("html").AttrOr("lang", ""); got != "fr" {
			t.Errorf("lang = %q; want fr", got)
		}
		if len(s.events.events) != 1 {
			t.Fatalf("recorded %d events; want 1", len(s.events.events))
		}
		ev := s.events.events[0]
		if ev.Code != 504 || ev.Path != "/cart" || ev.UpstreamAddr != "" || ev.NginxConn != 0 {
			t.Errorf("event = code %d path %q upstream %q conn %d; want 504 /cart and no nginx evidence",
				ev.Code, ev.Path, ev.UpstreamAddr, ev.NginxConn)
		}
		if len(s.status.visits) != 1 {
			t.Errorf("visits = %d; want 1", len(s.status.visits))
		}
	})
	t.Run("from anyone else: a page, no trace", func(t *testing.T) {
		s := mustServer(t)
		r := nginxReq("GET", "/_gatewatch/error/503", visitor)
		r.RemoteAddr = "192.0.2.7:5000"
		w := s.do(r)
		if w.Code != 503 {
			t.Errorf("status = %d; want 503", w.Code)
		}
		if len(s.events.events) != 0 || len(s.status.visits) != 0 {
			t.Errorf("an untrusted peer left %d events and %d visits; want none", len(s.events.events), len(s.status.visits))
		}
	})
	for _, tc := range []struct{ path string }{{"/_gatewatch/error/abc"}, {"/_gatewatch/error/200"}, {"/_gatewatch/error/5000"}} {
		t.Run(tc.path, func(t *testing.T) {
			s := mustServer(t)
			if w := s.do(nginxReq("GET", tc.path, nil)); w.Code != 404 {
				t.Errorf("GET %s = %d; want 404", tc.path, w.Code)
			}
		})
	}
}
