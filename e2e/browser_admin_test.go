//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// adminStack is nginx with gatewatch's include in front of a dead origin,
// gatewatch with an admin user and nginx's error.log, and one visitor's
// error already recorded.
type adminStack struct {
	admin string // admin base URL
	ref   string // the visitor's reference
}

func startAdminStack(t *testing.T) *adminStack {
	t.Helper()
	dead, gwPort, adminPort := freePort(t), gatewatchPort(t), gatewatchPort(t)
	prefix := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	cfg := adminConfig(t, gwPort, adminPort, dead, fmt.Sprintf("[nginx]\nerror_log = %q\n", filepath.Join(prefix, "error.log")))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("nginx: %v\n%s", err, include)
	}
	ng := startNginx(t, include, nginxParams{Prefix: prefix, DeadPort: dead, LivePort: freePort(t), HangPort: freePort(t)})
	g := startGatewatchArgs(t, "serve", "--config", cfgPath, "--data", t.TempDir())
	waitOrigin(t, g.public, "down") // the monitor's first checks
	var ref string
	for i, path := range []string{"/dead/cart", "/dead/checkout", "/dead/cart"} {
		resp, _ := get(t, ng.base+path, map[string]string{"Accept": "text/html", "Accept-Language": []string{"de", "en", "fr"}[i]})
		ref = resp.Header.Get("X-Request-ID")
	}
	// Wait for the recorder's flush: the API knows the event.
	eventually(t, 10*time.Second, "the admin API knows the event", func() bool {
		req, _ := http.NewRequest("GET", g.admin+"/admin/api/v1/events/"+ref, nil)
		req.SetBasicAuth("support", adminPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return &adminStack{admin: g.admin, ref: ref}
}

// signIn fills the sign-in form in the tab, as staff would.
func (s *adminStack) signIn(t *testing.T, tb *tab, next string) {
	t.Helper()
	if err := chromedp.Do(tb.ctx,
		chromedp.Navigate(s.admin+next),
		chromedp.WaitVisible(chromedp.CSS("form[data-testid=login]")),
		chromedp.SendKeys(chromedp.CSS("input[name=user]"), "support"),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), adminPassword),
		chromedp.Submit(chromedp.CSS("input[name=password]")),
	); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tb.ctx, `location.pathname === `+fmt.Sprintf("%q", next), 10*time.Second); err != nil {
		body, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("after signing in: %v\n%.500s", err, body)
	}
}

// TestBrowserAdminAxe: the dashboard and the diagnosis pass axe-core at
// WCAG 2.1 AA, in English and Arabic, light and dark.
func TestBrowserAdminAxe(t *testing.T) {
	s := startAdminStack(t)
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			tb := openTab(t, 60*time.Second)
			if _, err := chromedp.Call(tb.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Accept-Language": lang}}); err != nil {
				t.Fatal(err)
			}
			s.signIn(t, tb, "/admin/r/"+s.ref)
			for _, page := range []string{"/admin/r/" + s.ref, "/admin/"} {
				for _, l := range []look{desktop, desktop.inDark()} {
					tb.load(t, l, s.admin+page)
					if got := eval[string](t, tb, `document.documentElement.lang`); got != lang {
						t.Errorf("%s: lang = %q; want %q", page, got, lang)
					}
					for _, v := range auditAxe(t, tb.ctx) {
						t.Errorf("%s (%s): %s", page, l.name, v)
					}
				}
			}
			// The diagnosis names the cause and nginx's own line.
			tb.load(t, desktop, s.admin+"/admin/r/"+s.ref)
			body := eval[string](t, tb, `document.body.innerText`)
			if !strings.Contains(body, "connect() failed (111: Connection refused)") {
				t.Errorf("diagnosis lacks nginx's log line")
			}
		})
	}
}

// TestAdminScreenshots writes the admin pages' pictures for the README
// with the other screenshots (see TestScreenshots).
func TestAdminScreenshots(t *testing.T) {
	dir := *screenshotDir
	if dir == "" {
		dir = os.Getenv("GATEWATCH_SCREENSHOTS")
	}
	if dir == "" {
		t.Skip("generator: run make screenshots to write the PNGs")
	}
	s := startAdminStack(t)
	tb := openTab(t, 60*time.Second)
	s.signIn(t, tb, "/admin/")
	for file, page := range map[string]string{"admin-dashboard.png": "/admin/", "admin-incident.png": "/admin/r/" + s.ref} {
		tb.load(t, desktop, s.admin+page)
		png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
