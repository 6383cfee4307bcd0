//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatewatch/gatewatch/locales"
)

// shopConfig is e2eConfig for gatewatch on gwPort and the shop's origin
// (checked and reported) on dead.
func shopConfig(gwPort, dead int) string { return fmt.Sprintf(e2eConfig, gwPort, dead, dead) }

// writeShopConfig writes extra (more TOML, before the file's first
// table) and shopConfig to a file of the test's and returns its path.
func writeShopConfig(t *testing.T, gwPort, dead int, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gatewatch.toml")
	writeFile(t, p, extra+shopConfig(gwPort, dead))
	return p
}

const e2eConfig = `
[server]
listen = "127.0.0.1:%d"
trusted_proxies = ["127.0.0.1/32"]

[monitor]
interval = "1s"
down_interval = "1s"
min_interval = "200ms"
timeout = "1s"

[[site]]
name = "shop"
hosts = ["shop.test"]
[site.brand]
title = "E2E Shop"
[site.brand.colors]
primary = "#8a2be2"
[site.contact]
email = "help@shop.test"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:%d/health"
addrs = ["127.0.0.1:%d"]
`

type stack struct {
	gw    *gatewatch
	nginx *nginxServer
	dead  int
}

// startStack runs a live upstream, a dead port, a hanging upstream,
// gatewatch and nginx with the include gatewatch generates.
func startStack(t *testing.T) *stack {
	t.Helper()
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from upstream")
	}))
	t.Cleanup(live.Close)
	dead := freePort(t)
	hang := hangingUpstream(t)
	gwPort := gatewatchPort(t)

	cfgPath := writeShopConfig(t, gwPort, dead, "")
	if out, err := runCLI(t, "check-config", "--config", cfgPath); err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	gw := startGatewatch(t, cfgPath)
	lp := live.Listener.Addr().(*net.TCPAddr).Port
	ng := startNginx(t, include, nginxParams{DeadPort: dead, LivePort: lp, HangPort: hang})
	return &stack{gw: gw, nginx: ng, dead: dead}
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	return send(t, "GET", url, nil, hdr)
}

// postForm submits a form to url for shop.test, as a browser would.
func postForm(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	return send(t, "POST", url, strings.NewReader("a=1"),
		map[string]string{"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"})
}

// send makes a request for shop.test and reads the whole answer.
func send(t *testing.T, method, url string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	return sendHost(t, method, "shop.test", url, body, hdr)
}

// sendHost makes a request for host with the headers hdr (those with a
// value) and reads the whole answer.
func sendHost(t *testing.T, method, host, url string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	return sendWith(t, http.DefaultClient, method, host, url, body, hdr)
}

// sendWith is sendHost through the client c.
func sendWith(t *testing.T, c *http.Client, method, host, url string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func headline(t *testing.T, lang, code string) string {
	t.Helper()
	c, err := locales.New("en")
	if err != nil {
		t.Fatal(err)
	}
	l, ok := c.Lookup(lang)
	if !ok {
		t.Fatalf("no language %s", lang)
	}
	return c.Translator(l).T("error."+code+".headline", nil)
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestThroughNginx(t *testing.T) {
	s := startStack(t)
	browser := map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "de-DE,de;q=0.9"}

	t.Run("dead upstream gives the branded German 502", func(t *testing.T) {
		resp, body := get(t, s.nginx.base+"/dead/cart?x=1", browser)
		if resp.StatusCode != 502 {
			t.Fatalf("status = %d; want 502\n%s", resp.StatusCode, body)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Find("html").AttrOr("lang", ""); got != "de" {
			t.Errorf("lang = %q; want de", got)
		}
		if got := strings.TrimSpace(d.Find("[data-testid=headline]").Text()); got != headline(t, "de", "502") {
			t.Errorf("headline = %q; want the German 502 headline", got)
		}
		if !strings.Contains(d.Find("[data-testid=brand]").Text(), "E2E Shop") {
			t.Error("page is not branded E2E Shop")
		}
		id := resp.Header.Get("X-Request-ID")
		if !hex32.MatchString(id) {
			t.Errorf("X-Request-ID = %q; want nginx's $request_id", id)
		}
		if got := d.Find("[data-testid=ref-id]").Text(); got != id {
			t.Errorf("reference on page = %q; want %q", got, id)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q", got)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After on 502")
		}
		if strings.Contains(body, fmt.Sprint(s.dead)) {
			t.Errorf("page leaks the upstream port %d", s.dead)
		}
		// The page's assets come through nginx's /_gatewatch/ location.
		css := d.Find("link[rel=stylesheet]").AttrOr("href", "")
		if r, _ := get(t, s.nginx.base+css, nil); r.StatusCode != 200 {
			t.Errorf("GET %s through nginx = %d; want 200", css, r.StatusCode)
		}
	})

	t.Run("live upstream is untouched", func(t *testing.T) {
		resp, body := get(t, s.nginx.base+"/live/", browser)
		if resp.StatusCode != 200 || body != "hello from upstream" {
			t.Errorf("live: %d %q; want 200 from the upstream", resp.StatusCode, body)
		}
	})

	t.Run("hanging upstream gives the 504 page", func(t *testing.T) {
		start := time.Now()
		resp, body := get(t, s.nginx.base+"/hang/slow", map[string]string{"Accept": "text/html", "Accept-Language": "fr"})
		if resp.StatusCode != 504 {
			t.Fatalf("status = %d; want 504", resp.StatusCode)
		}
		if !strings.Contains(body, headline(t, "fr", "504")) {
			t.Error("504 page lacks the French 504 headline")
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("504 took %v", time.Since(start))
		}
	})

	t.Run("curl gets text, APIs get problem+json", func(t *testing.T) {
		resp, body := get(t, s.nginx.base+"/dead/api", map[string]string{"Accept": "*/*"})
		if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("curl: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(body, resp.Header.Get("X-Request-ID")) {
			t.Errorf("text body lacks the reference:\n%s", body)
		}
		resp, _ = get(t, s.nginx.base+"/dead/api", map[string]string{"Accept": "application/json"})
		if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("api: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("visitors cannot pose as nginx", func(t *testing.T) {
		spoof := map[string]string{"Accept": "text/html", "X-Code": "418", "X-Upstream-Addr": "10.9.8.7:80", "X-Original-URI": "/evil"}
		resp, body := get(t, s.nginx.base+"/dead/x", spoof)
		if resp.StatusCode != 502 {
			t.Errorf("spoofed X-Code changed the status to %d", resp.StatusCode)
		}
		if strings.Contains(body, "10.9.8.7") || strings.Contains(body, "/evil") {
			t.Error("spoofed headers reached the page")
		}
		// Straight to /_gatewatch/: the include strips nginx's headers,
		// so an unknown path there is a plain 404, not a 418.
		resp, _ = get(t, s.nginx.base+"/_gatewatch/nope", spoof)
		if resp.StatusCode != 404 {
			t.Errorf("/_gatewatch/nope with X-Code 418 = %d; want 404", resp.StatusCode)
		}
		// The proxies' error route would take the code from the path.
		if resp, _ = get(t, s.nginx.base+"/_gatewatch/error/503", spoof); resp.StatusCode != 404 {
			t.Errorf("/_gatewatch/error/503 through nginx = %d; want 404", resp.StatusCode)
		}
	})

	t.Run("POST keeps its method and gets the page", func(t *testing.T) {
		resp, b := postForm(t, s.nginx.base+"/dead/checkout")
		if resp.StatusCode != 502 {
			t.Errorf("POST status = %d; want 502", resp.StatusCode)
		}
		if !strings.Contains(b, `data-method="POST"`) {
			t.Error("page does not know the request was a POST")
		}
	})
}

// TestStatusFlipsWhenOriginReturns: through nginx, the status API says
// down for everyone while the origin is down and flips within one check
// interval once it is back.
func TestStatusFlipsWhenOriginReturns(t *testing.T) {
	s := startFlakyStack(t)
	status := func() map[string]any {
		resp, body := get(t, s.nginx.base+"/_gatewatch/api/v1/status?site=shop&lang=de", map[string]string{"Accept": "application/json"})
		if resp.StatusCode != 200 {
			t.Fatalf("status API = %d", resp.StatusCode)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if strings.Contains(body, fmt.Sprint(s.port)) {
			t.Errorf("status API leaks the origin's port: %s", body)
		}
		return m
	}
	eventually(t, 10*time.Second, "down_for_everyone", func() bool { return status()["verdict"] == "down_for_everyone" })
	resp, body := get(t, s.nginx.base+"/flaky/x", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != 502 || !strings.Contains(body, `data-hop="origin" data-state="down"`) {
		t.Errorf("page while down: %d, origin hop not down", resp.StatusCode)
	}
	s.bringBack(t)
	var m map[string]any
	took := eventually(t, 5*time.Second, "status flips to origin up after the origin's return", func() bool {
		m = status()
		return m["origin"] == "up"
	})
	if v := m["verdict"]; v != "recovering" {
		t.Errorf("verdict after recovery = %v; want recovering", v)
	}
	// The check interval in e2eConfig is 1s.
	t.Logf("status flipped %v after the origin came back", took.Round(10*time.Millisecond))
}
