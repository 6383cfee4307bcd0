//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// fallbackLocations are an application whose own errors nginx hands on
// (proxy_intercept_errors): /app/500, /app/503 (with Retry-After: 120).
const fallbackLocations = `
        location /app/ {
            proxy_pass http://127.0.0.1:%d;
            proxy_intercept_errors on;
        }
`

// A second site, German by default, on the same nginx server.
const fallbackSite = `
[[site]]
name = "laden"
hosts = ["laden.test", "*.laden.test"]
default_locale = "de"
[site.brand]
title = "Der Laden"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:%d/health"
`

// TestFallbackWhenGatewatchIsDown: with gatewatch frozen (SIGSTOP: it
// accepts and never answers) and then stopped, nginx serves the
// pre-rendered page with the request's own code (502 from a dead
// upstream, 504 from a hanging one, the application's 500 and 503), the
// site's brand, the visitor's language or else the site's, nginx's request
// id as the reference, a "Try again" link to the failed address, and its
// CSP allows exactly the page's inline style. Frozen, it answers within a
// second or so of the failure.
func TestFallbackWhenGatewatchIsDown(t *testing.T) {
	dead := freePort(t)
	gwPort := gatewatchPort(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app/503":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
		case "/app/500":
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(app.Close)
	pagesDir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	// [nginx] goes before the [[site]] tables, as TOML wants.
	writeFile(t, cfgPath, fmt.Sprintf("[nginx]\nfallback_dir = %q\n", pagesDir)+shopConfig(gwPort, dead)+fmt.Sprintf(fallbackSite, dead))
	if out, err := runCLI(t, "render", "--config", cfgPath); err != nil {
		t.Fatalf("render: %v\n%s", err, out)
	}
	if gz, _ := filepath.Glob(filepath.Join(pagesDir, "*", "*", "*.gz")); len(gz) > 0 {
		t.Errorf("render wrote %s: a precompressed page skips SSI", gz[0])
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("nginx: %v\n%s", err, include)
	}
	gw := startGatewatch(t, cfgPath)
	ng := startNginx(t, include, nginxParams{DeadPort: dead, LivePort: freePort(t), HangPort: hangingUpstream(t),
		Extra: fmt.Sprintf(fallbackLocations, app.Listener.Addr().(*net.TCPAddr).Port)})

	// With gatewatch up, its own page answers (it has the live verdict).
	_, body := get(t, ng.base+"/dead/x", map[string]string{"Accept": "text/html", "Accept-Language": "de"})
	if !strings.Contains(body, `data-testid="verdict"`) {
		t.Fatal("with gatewatch running, the page should be gatewatch's live page")
	}

	type scenario struct {
		name, path string
		code       int
		upstream   time.Duration // the site's own wait before its error (proxy_read_timeout on /hang/)
	}
	scenarios := []scenario{
		{"dead upstream", "/dead/cart?id=7&step=2", 502, 0},
		{"hanging upstream", "/hang/slow", 504, time.Second},
		{"application 500", "/app/500", 500, 0},
		{"application 503", "/app/503", 503, 0},
	}
	check := func(t *testing.T, host, accept, wantLang, brand string, sc scenario) time.Duration {
		t.Helper()
		start := time.Now()
		resp, body := sendHost(t, "GET", host, ng.base+sc.path, nil, map[string]string{"Accept": "text/html", "Accept-Language": accept})
		took := time.Since(start)
		if resp.StatusCode != sc.code {
			t.Errorf("%s: status = %d; want %d", sc.path, resp.StatusCode, sc.code)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Find("html").Attr("lang"); got != wantLang {
			t.Errorf("%s, Host %s, Accept-Language %q: page in %q; want %q", sc.path, host, accept, got, wantLang)
		}
		if got := d.Find(`[data-testid="brand"]`).Text(); !strings.Contains(got, brand) {
			t.Errorf("%s: brand %q; want %q", sc.path, got, brand)
		}
		if got, want := d.Find(`[data-testid="headline"]`).Text(), headline(t, wantLang, fmt.Sprint(sc.code)); got != want {
			t.Errorf("%s: headline %q; want the %d headline %q", sc.path, got, sc.code, want)
		}
		id := resp.Header.Get("X-Request-ID")
		if !hex32.MatchString(id) {
			t.Errorf("%s: X-Request-ID %q is not nginx's $request_id", sc.path, id)
		}
		if got := d.Find(`[data-testid="ref-id"]`).Text(); got != id {
			t.Errorf("%s: reference %q; want nginx's request id %q", sc.path, got, id)
		}
		if got := d.Find(`[data-testid="ref-time"]`).Text(); !refTimeNear(got, time.Now()) {
			t.Errorf("%s: time %q is not now, UTC", sc.path, got)
		}
		if got, _ := d.Find(`[data-step="retry"] a[data-retry-button]`).Attr("href"); got != sc.path {
			t.Errorf("%s: Try again links to %q", sc.path, got)
		}
		if mail, _ := d.Find(`a[href^="mailto:"]`).Attr("href"); brand == "E2E Shop" && !strings.Contains(mail, id) {
			t.Errorf("%s: the e-mail to support lacks the reference: %s", sc.path, mail)
		}
		if strings.Contains(body, "<!--#") || strings.Contains(body, "<script") {
			t.Errorf("%s: page has an unprocessed SSI command or a script", sc.path)
		}
		// The CSP names the hash of the page's one inline style.
		m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: fallback page has no inline style", sc.path)
		}
		sum := sha256.Sum256([]byte(m[1]))
		want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q does not allow exactly the inline style %s", sc.path, csp, want)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control = %q", sc.path, resp.Header.Get("Cache-Control"))
		}
		wantRetry := "30"
		if sc.code == 503 {
			wantRetry = "120" // the application's own
		}
		if got := resp.Header.Get("Retry-After"); got != wantRetry {
			t.Errorf("%s: Retry-After %q; want %s", sc.path, got, wantRetry)
		}
		return took - sc.upstream
	}
	all := func(t *testing.T) []time.Duration {
		var waits []time.Duration
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				waits = append(waits,
					check(t, "shop.test", "de-DE,de;q=0.9,en;q=0.8", "de", "E2E Shop", sc),
					check(t, "shop.test", "", "en", "E2E Shop", sc),
					check(t, "laden.test", "", "de", "Der Laden", sc),
					check(t, "www.laden.test", "fr-CA", "fr", "Der Laden", sc))
			})
		}
		// ?lang= over the header; zh-TW by the matcher; an address that
		// would lead off the site is not offered as "Try again".
		_, b := sendHost(t, "GET", "shop.test", ng.base+"/dead/x?lang=ar", nil, map[string]string{"Accept-Language": "de"})
		if !strings.Contains(b, `<html lang="ar" dir="rtl"`) {
			t.Error("?lang=ar: the fallback is not the Arabic page")
		}
		_, b = sendHost(t, "GET", "shop.test", ng.base+"/dead/x", nil, map[string]string{"Accept-Language": "zh-TW,zh;q=0.8"})
		if !strings.Contains(b, `<html lang="zh-Hant"`) {
			t.Error("zh-TW: the fallback is not in Traditional Chinese")
		}
		// A first tag gatewatch has no language for: the next ones count.
		for accept, want := range map[string]string{"eu-ES, es;q=0.8": "es", "cy, gd;q=0.9, de;q=0.5": "de", "ms-ID, fr": "fr"} {
			if _, b = sendHost(t, "GET", "shop.test", ng.base+"/dead/x", nil, map[string]string{"Accept-Language": accept}); !strings.Contains(b, `<html lang="`+want+`"`) {
				t.Errorf("Accept-Language %q: the fallback is not in %s", accept, want)
			}
		}
		// Serbian's two scripts are two pages, each in its own letters.
		for _, sr := range []struct{ accept, lang, headline string }{
			{"sr-RS,sr;q=0.9", "sr", "Сајт тренутно не одговара"},
			{"sr-Latn-RS,sr;q=0.9", "sr-Latn", "Sajt trenutno ne odgovara"},
			{"sr-ME", "sr-Latn", "Sajt trenutno ne odgovara"},
			{"bs-BA", "hr", "Web-stranica trenutačno ne odgovara"},
		} {
			_, b = sendHost(t, "GET", "shop.test", ng.base+"/dead/x", nil, map[string]string{"Accept-Language": sr.accept})
			if !strings.Contains(b, `<html lang="`+sr.lang+`"`) || !strings.Contains(b, sr.headline) {
				t.Errorf("Accept-Language %s: the fallback is not the %s page (%q)", sr.accept, sr.lang, sr.headline)
			}
		}
		// nginx merges the slashes to find /dead/; a link to "//dead/x"
		// would lead to the host "dead".
		_, b = sendHost(t, "GET", "shop.test", ng.base+"//dead/x", nil, nil)
		d, err := goquery.NewDocumentFromReader(strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Find(`[data-step="retry"] a[data-retry-button]`).Attr("href"); got != "/" {
			t.Errorf("a request for //dead/x: Try again links to %q; want /", got)
		}
		if d.Find(`[data-testid="post-warning"]`).Length() != 0 || d.Find(`[data-step="hard-refresh"]`).Length() == 0 {
			t.Error("a GET's page warns of a form submission or lacks the hard refresh")
		}
		// A failed form submission: warned at once, no JS needed, and
		// nothing on the page would submit it again.
		resp, b := postForm(t, ng.base+"/dead/checkout?step=pay")
		if d, err = goquery.NewDocumentFromReader(strings.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 502 || d.Find(`[data-testid="post-warning"]`).Length() != 1 {
			t.Errorf("POST: %d, warning %d; want 502 and the warning that the form may not have been sent", resp.StatusCode, d.Find(`[data-testid="post-warning"]`).Length())
		}
		if d.Find(`[data-step="hard-refresh"]`).Length() != 0 || d.Find(`form[method="post"]`).Length() != 0 || strings.Contains(b, "<!--#") {
			t.Error("POST: the page offers a reload that resubmits, or keeps an SSI command")
		}
		if got, _ := d.Find(`[data-step="retry"] a[data-retry-button]`).Attr("href"); got != "/dead/checkout?step=pay" {
			t.Errorf("POST: Try again links to %q; want a GET of the same address", got)
		}
		return waits
	}

	if err := gw.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.cmd.Process.Signal(syscall.SIGCONT) })
	t.Run("frozen", func(t *testing.T) {
		waits := all(t)
		var worst time.Duration
		for _, w := range waits {
			worst = max(worst, w)
		}
		t.Logf("frozen gatewatch: the fallback answered within %v of the failure (worst of %d), e.g. %v", worst, len(waits), waits[:3])
		if worst >= 3*time.Second {
			t.Errorf("frozen gatewatch: the fallback took %v; want about 1 s", worst)
		}
	})
	gw.cmd.Process.Signal(syscall.SIGCONT)
	gw.stop()
	t.Run("stopped", func(t *testing.T) {
		var worst time.Duration
		for _, w := range all(t) {
			worst = max(worst, w)
		}
		t.Logf("stopped gatewatch: the fallback answered within %v of the failure", worst)
	})
	// Pages never rendered (here: the shop's 500s): a line of text, still
	// with the request's code and reference.
	gone, _ := filepath.Glob(filepath.Join(pagesDir, "shop", "*", "500.html"))
	for _, p := range gone {
		os.Remove(p)
	}
	resp, b := get(t, ng.base+"/app/500", map[string]string{"Accept-Language": "de"})
	if id := resp.Header.Get("X-Request-ID"); resp.StatusCode != 500 || id == "" || !strings.Contains(b, id) {
		t.Errorf("without rendered pages: %d, X-Request-ID %q, body %q; want 500 naming the reference", resp.StatusCode, id, b)
	}
}

// refTimeNear reports whether s ("2006-01-02 15:04:05 UTC") is within a
// minute of now.
func refTimeNear(s string, now time.Time) bool {
	at, err := time.Parse("2006-01-02 15:04:05 UTC", s)
	return err == nil && at.Sub(now).Abs() < time.Minute
}
