//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// ingressNginxLocations are what ingress-nginx's template writes for an
// Ingress of service shop/api-svc:8080 with custom-http-errors 502,504
// and gatewatch as the default backend: error_page with "=" (the
// backend's answer is the response) to a named location per code that
// passes X-Code and the service's names and asks the backend for "/".
const ingressNginxLocations = `
        location /k8s/ {
            set $namespace "shop"; set $ingress_name "shop-ing";
            set $service_name "api-svc"; set $service_port "8080";
            proxy_pass http://127.0.0.1:%[1]d;
            proxy_intercept_errors on;
            error_page 502 = @custom_upstream-default-backend_502;
            error_page 504 = @custom_upstream-default-backend_504;
        }
        location /k8s-hang/ {
            set $namespace "shop"; set $ingress_name "shop-ing";
            set $service_name "api-svc"; set $service_port "8080";
            proxy_pass http://127.0.0.1:%[2]d;
            proxy_read_timeout 1s;
            proxy_intercept_errors on;
            error_page 502 = @custom_upstream-default-backend_502;
            error_page 504 = @custom_upstream-default-backend_504;
        }
%[3]s`

const ingressNginxBackend = `
        location @custom_upstream-default-backend_%[1]d {
            internal;
            proxy_intercept_errors off;
            proxy_set_header X-Code %[1]d;
            proxy_set_header X-Format $http_accept;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Namespace $namespace;
            proxy_set_header X-Ingress-Name $ingress_name;
            proxy_set_header X-Service-Name $service_name;
            proxy_set_header X-Service-Port $service_port;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header Host $host;
            rewrite (.*) / break;
            proxy_pass http://127.0.0.1:%[2]d;
        }
`

// TestIngressNginxDefaultBackend: real nginx configured as ingress-nginx
// configures itself for a custom default backend; gatewatch keeps the
// code, answers in the visitor's language and format, and names the
// service's upstream (site.upstream.services) for staff.
func TestIngressNginxDefaultBackend(t *testing.T) {
	dead, hang, gwPort := freePort(t), hangingUpstream(t), gatewatchPort(t)
	cfg := adminConfig(t, gwPort, freePort(t), dead, "") + `
[[site.upstream]]
name = "api"
services = ["shop/api-svc:8080"]
`
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	writeFile(t, cfgPath, cfg)
	gw := startGatewatch(t, cfgPath)
	extra := fmt.Sprintf(ingressNginxLocations, dead, hang,
		fmt.Sprintf(ingressNginxBackend, 502, gwPort)+fmt.Sprintf(ingressNginxBackend, 504, gwPort))
	ng := startNginx(t, "", nginxParams{DeadPort: dead, LivePort: freePort(t), HangPort: hang, Extra: extra})

	for _, c := range []struct {
		path, lang string
		code       int
	}{{"/k8s/cart", "de", 502}, {"/k8s-hang/slow", "fr", 504}} {
		t.Run(c.path, func(t *testing.T) {
			resp, body := get(t, ng.base+c.path, map[string]string{"Accept": "text/html", "Accept-Language": c.lang})
			if resp.StatusCode != c.code {
				t.Fatalf("status = %d; want %d", resp.StatusCode, c.code)
			}
			d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(d.Find("[data-testid=headline]").Text()); got != headline(t, c.lang, fmt.Sprint(c.code)) {
				t.Errorf("headline = %q; want the %s %d headline", got, c.lang, c.code)
			}
			id := resp.Header.Get("X-Request-ID")
			if !hex32.MatchString(id) || d.Find("[data-testid=ref-id]").Text() != id {
				t.Errorf("reference %q; want nginx's $request_id on the page", id)
			}
			ev := staffEvent(t, gw.admin, id)
			if ev.Upstream != "api" || ev.Path != c.path || ev.Code != c.code {
				t.Errorf("event upstream %q path %q code %d; want api %s %d", ev.Upstream, ev.Path, ev.Code, c.path, c.code)
			}
		})
	}
	t.Run("X-Format: an API client gets problem+json", func(t *testing.T) {
		resp, _ := get(t, ng.base+"/k8s/api", map[string]string{"Accept": "application/json"})
		if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%d %s; want 502 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
