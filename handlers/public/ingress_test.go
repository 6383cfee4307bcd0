package public_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/internal/config"
)

// TestIngressNginxDefaultBackend is ingress-nginx's custom default backend
// contract: it asks for "/" with X-Code, X-Format (the visitor's Accept),
// X-Original-URI, X-Namespace, X-Ingress-Name, X-Service-Name,
// X-Service-Port and X-Request-ID; the service picks site and upstream.
func TestIngressNginxDefaultBackend(t *testing.T) {
	withServices := func(c *config.Config) {
		c.Sites[0].Upstreams = append(c.Sites[0].Upstreams, config.Upstream{Name: "api", Services: []string{"shop/api-svc:8080"}})
		c.Sites[1].Upstreams = append(c.Sites[1].Upstreams, config.Upstream{Name: "web", Services: []string{"blog/wordpress"}})
	}
	ingress := func(ns, svc, port string) map[string]string {
		return map[string]string{
			"Host": "shop.example", "Accept": "*/*", "X-Code": "503", "X-Format": "text/html",
			"X-Original-URI": "/checkout?step=2", "X-Namespace": ns, "X-Ingress-Name": "shop-ing",
			"X-Service-Name": svc, "X-Service-Port": port, "X-Request-ID": "0123456789abcdef0123456789abcdef",
		}
	}
	for _, tc := range []struct {
		name, ns, svc, port string
		site, upstream      string
	}{
		{"configured service and port", "shop", "api-svc", "8080", "shop", "api"},
		{"configured service, any port", "blog", "wordpress", "80", "blog", "web"},
		{"by convention: the upstream named like the service", "default", "app", "80", "shop", "app"},
		{"unknown service: the Host's site, no upstream named", "other", "nothing", "80", "shop", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServer(t, withServices)
			w := s.do(nginxReq("GET", "/", ingress(tc.ns, tc.svc, tc.port)))
			if w.Code != 503 {
				t.Fatalf("status = %d; want 503", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q; want the page (X-Format is the visitor's Accept)", ct)
			}
			if got := w.Header().Get("X-Request-ID"); got != "0123456789abcdef0123456789abcdef" {
				t.Errorf("X-Request-ID = %q; want ingress-nginx's", got)
			}
			if len(s.events.events) != 1 {
				t.Fatalf("%d events; want 1", len(s.events.events))
			}
			ev := s.events.events[0]
			if ev.Site != tc.site || ev.Upstream != tc.upstream || ev.Path != "/checkout" {
				t.Errorf("event site %q upstream %q path %q; want %q %q /checkout", ev.Site, ev.Upstream, ev.Path, tc.site, tc.upstream)
			}
		})
	}
	t.Run("untrusted peers name no service", func(t *testing.T) {
		s := mustServer(t, withServices)
		r := nginxReq("GET", "/", ingress("blog", "wordpress", "80"))
		r.RemoteAddr = "192.0.2.9:1"
		s.do(r)
		if ev := s.events.events[0]; ev.Site != "shop" {
			t.Errorf("site = %q; want shop, by Host", ev.Site)
		}
	})
}
