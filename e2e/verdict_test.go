//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// verdictConfig is a site with two upstreams: "dead" (a port nothing
// listens on, until the test brings it back) and "app" (up, whose
// application fails some pages). Checks run every 3 s while up, so a
// cached "up" can be seconds older than a failure.
const verdictConfig = `
[server]
listen = "127.0.0.1:%d"
trusted_proxies = ["127.0.0.1/32"]

[monitor]
interval = "3s"
down_interval = "1s"
min_interval = "200ms"
timeout = "1s"

[nginx]
error_log = "%[4]s"

[[site]]
name = "shop"
hosts = ["shop.test"]
[site.brand]
title = "E2E Shop"
[[site.upstream]]
name = "dead"
check = "http://127.0.0.1:%[2]d/health"
addrs = ["127.0.0.1:%[2]d"]
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:%[3]d/health"
addrs = ["127.0.0.1:%[3]d"]
`

// verdictLocations route /d/ to the dead upstream and /a/ to the app,
// whose own errors nginx hands to gatewatch (proxy_intercept_errors).
const verdictLocations = `
        location /d/ { proxy_pass http://127.0.0.1:%d; }
        location /a/ {
            proxy_pass http://127.0.0.1:%d;
            proxy_intercept_errors on;
            proxy_read_timeout 1s;
        }
`

type verdictStack struct {
	base string // nginx
	dead int
}

// appHandler is the healthy upstream: its health check passes while
// /a/boom fails with 500, /a/maint is in maintenance for 120 s and
// /a/slow answers after nginx's read timeout.
func appHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health", "/d/health", "/a/ok":
			fmt.Fprint(w, "ok")
		case "/a/boom":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/a/maint":
			w.Header().Set("Retry-After", "120")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case "/a/cookies":
			// An answer whose header outgrows nginx's proxy_buffer_size
			// (4 KB): as when the site's cookies have grown too large.
			w.Header().Set("Set-Cookie", "big="+strings.Repeat("x", 10000))
			fmt.Fprint(w, "ok")
		case "/a/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	})
}

func startVerdictStack(t *testing.T) *verdictStack {
	t.Helper()
	app := httptest.NewServer(appHandler())
	t.Cleanup(app.Close)
	appPort := app.Listener.Addr().(*net.TCPAddr).Port
	dead := freePort(t)
	gwPort := gatewatchPort(t)
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	prefix := t.TempDir()
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(verdictConfig, gwPort, dead, appPort, filepath.Join(prefix, "error.log"))), 0o644); err != nil {
		t.Fatal(err)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	startGatewatch(t, cfgPath)
	ng := startNginx(t, include, nginxParams{Prefix: prefix, DeadPort: freePort(t), LivePort: freePort(t), HangPort: freePort(t),
		Extra: fmt.Sprintf(verdictLocations, dead, appPort)})
	return &verdictStack{base: ng.base, dead: dead}
}

// verdictOf fetches path through nginx as a browser would and returns the
// status, the verdict's data-state and the page's poll URL.
func (s *verdictStack) verdictOf(t *testing.T, method, path string) (int, string, *url.URL, *goquery.Document, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "shop.test"
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	d, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	state, _ := d.Find("[data-testid=verdict]").Attr("data-state")
	poll, _ := d.Find("#gw").Attr("data-status-url")
	u, err := url.Parse(poll)
	if err != nil {
		t.Fatalf("data-status-url %q: %v", poll, err)
	}
	return resp.StatusCode, state, u, d, resp.Header
}

// statusAnswer is what the page's script reads of the status API.
type statusAnswer struct {
	Verdict string `json:"verdict"`
	Reload  bool   `json:"reload"`
	Origin  string `json:"origin"` // the latest check
}

// status asks the status API through nginx, as the page's script does.
func (s *verdictStack) status(t *testing.T, u *url.URL) statusAnswer {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+u.String(), nil)
	req.Host = "shop.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st statusAnswer
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestVerdictThroughNginx: each failure of a two-upstream site is told
// from its own evidence and its own upstream, through a real nginx.
func TestVerdictThroughNginx(t *testing.T) {
	s := startVerdictStack(t)
	waitHTTP(t, s.base+"/a/ok", 200)
	for _, tc := range []struct {
		path, state, upstream, kind string
		code                        int
	}{
		{"/d/cart", "down_for_everyone", "dead", "unreachable", 502},
		{"/a/boom", "app_error", "app", "app_error", 500},
		{"/a/maint", "maintenance", "app", "maintenance", 503},
		{"/a/slow", "overloaded", "app", "overloaded", 504},
		// nginx's 502 says only "bad answer"; its error.log line says the
		// header was too big: the visitor's cookies, told so at once.
		{"/a/cookies", "just_you", "app", "client", 502},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, state, poll, d, hdr := s.verdictOf(t, "GET", tc.path)
			if code != tc.code || state != tc.state {
				t.Errorf("%s: %d %s; want %d %s", tc.path, code, state, tc.code, tc.state)
			}
			if q := poll.Query(); q.Get("upstream") != tc.upstream || q.Get("kind") != tc.kind {
				t.Errorf("%s polls %s; want upstream %s, kind %s", tc.path, poll, tc.upstream, tc.kind)
			}
			if tc.state == "maintenance" && hdr.Get("Retry-After") != "120" {
				t.Errorf("maintenance Retry-After = %q; want the app's 120", hdr.Get("Retry-After"))
			}
			if tc.state == "just_you" {
				if first, _ := d.Find("[data-step]").First().Attr("data-step"); first != "clear" {
					t.Errorf("cookies too large: the page leads with %q; want clear (this site's cookies)", first)
				}
				if st := s.status(t, poll); st.Verdict != "just_you" || st.Reload {
					t.Errorf("cookies too large: poll = %+v; want just_you, no reload", st)
				}
			}
			if tc.state == "app_error" {
				if first, _ := d.Find("[data-step]").First().Attr("data-step"); first != "retry" {
					t.Errorf("app error leads with %q; want retry", first)
				}
				if st := s.status(t, poll); st.Verdict != "app_error" || st.Reload {
					t.Errorf("app error poll = %+v; want app_error, never a reload", st)
				}
			}
		})
	}
	// A dead upstream does not change the verdict on pages from another.
	if _, state, _, _, _ := s.verdictOf(t, "GET", "/a/boom"); state != "app_error" {
		t.Errorf("/a/boom beside a dead upstream says %s", state)
	}
	// A failed POST warns in the HTML and offers no hard refresh.
	_, _, _, d, _ := s.verdictOf(t, "POST", "/d/checkout")
	if d.Find("[data-testid=post-warning]").Length() != 1 || d.Find("[data-step=hard-refresh]").Length() != 0 {
		t.Error("the failed POST's page has no warning, or offers a hard refresh")
	}
}

// TestFirstViewOfAnOutage measures how soon a page says "down" after an
// upstream dies: the monitor saw it up a moment ago, so the failure
// contradicts its cache. The page either says down at once (the check the
// failure asked for came back within the wait) or says "checking" and
// its first poll, due within 2 s, says down. It reports the median over
// 5 tries (GATEWATCH_OUTAGE_TRIES=20 for the figure in the notes).
func TestFirstViewOfAnOutage(t *testing.T) {
	s := startVerdictStack(t)
	tries := 5
	if n, err := strconv.Atoi(os.Getenv("GATEWATCH_OUTAGE_TRIES")); err == nil && n > 0 {
		tries = n
	}
	var took []time.Duration
	var atOnce int
	for i := 0; i < tries; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.dead))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: appHandler()}
		go srv.Serve(ln)
		eventually(t, 10*time.Second, "the revived upstream answers", func() bool {
			code, _, _, _, _ := s.verdictOf(t, "GET", "/d/health")
			return code == 200
		})
		// Once a check has seen it up, kill it: the cache says up.
		upURL, _ := url.Parse("/_gatewatch/api/v1/status?site=shop&upstream=dead&lang=en")
		eventually(t, 10*time.Second, "a check saw the upstream up", func() bool { return s.status(t, upURL).Origin == "up" })
		// Elapsed time is the point: the kill lands at a different moment
		// of the check interval in each round.
		time.Sleep(time.Duration(i%5) * 100 * time.Millisecond)
		srv.Close()
		died := time.Now()
		code, state, poll, d, hdr := s.verdictOf(t, "GET", "/d/cart")
		if code != 502 {
			t.Fatalf("dead upstream answered %d", code)
		}
		switch state {
		case "down_for_everyone":
			atOnce++
		case "checking":
			if ra := hdr.Get("Retry-After"); ra != "2" {
				t.Errorf("checking page's Retry-After = %q; want 2", ra)
			}
			if got, _ := d.Find("#gw").Attr("data-retry-after"); got != "2" {
				t.Errorf("checking page's first poll in %q s; want 2", got)
			}
			// Elapsed time is the point: the page's first poll comes after
			// its Retry-After, and must then have the verdict.
			time.Sleep(2 * time.Second)
			if v := s.status(t, poll).Verdict; v != "down_for_everyone" {
				t.Fatalf("first poll after the outage says %s; want down_for_everyone", v)
			}
		default:
			t.Fatalf("first page of an outage says %q", state)
		}
		took = append(took, time.Since(died))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("death to a page showing down: median %v, max %v over %d tries; %d said down on the first page", took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), tries, atOnce)
}

// TestPageReloadsOnlyOnEvidence drives Chromium: the application
// error's page never reloads itself in two minutes (virtual time, so the
// test does not wait them), although it keeps polling; the dead
// upstream's page reloads by itself within a poll of its return.
func TestPageReloadsOnlyOnEvidence(t *testing.T) {
	s := startVerdictStack(t)
	waitHTTP(t, s.base+"/a/ok", 200)

	t.Run("application error", func(t *testing.T) {
		tb := openTab(t, 60*time.Second)
		tb.load(t, desktop, s.base+"/a/boom")
		if got := eval[string](t, tb, `document.querySelector("[data-testid=verdict]").dataset.state`); got != "app_error" {
			t.Fatalf("verdict = %q; want app_error", got)
		}
		eval[bool](t, tb, `window.gwMarker = true`)
		expired := make(chan struct{}, 1)
		if err := chromedp.Listen(tb.ctx, func(ev any) {
			if _, ok := ev.(*emulation.EventVirtualTimeBudgetExpired); ok {
				select {
				case expired <- struct{}{}:
				default:
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		budget := float64(2*time.Minute/time.Millisecond) + 5000
		if _, err := chromedp.Call(tb.ctx, emulation.SetVirtualTimePolicy, emulation.SetVirtualTimePolicyParams{
			Policy: emulation.VirtualTimePolicyPauseIfNetworkFetchesPending, Budget: &budget,
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-expired:
		case <-tb.ctx.Done():
			t.Fatal("the virtual two minutes did not pass")
		}
		if !eval[bool](t, tb, `window.gwMarker === true`) {
			t.Fatal("the application error's page reloaded itself")
		}
		polls := eval[int](t, tb, `performance.getEntriesByType("resource").filter((e) => e.name.includes("/_gatewatch/api/v1/status")).length`)
		if polls < 1 {
			t.Errorf("the page polled %d times in two minutes; want at least once", polls)
		}
		t.Logf("application error page: %d polls, no reload, in 2 virtual minutes", polls)
	})

	t.Run("dead upstream comes back", func(t *testing.T) {
		tb := openTab(t, 40*time.Second)
		tb.load(t, desktop, s.base+"/d/cart")
		if got := eval[string](t, tb, `document.querySelector("[data-testid=verdict]").dataset.state`); got != "down_for_everyone" {
			t.Fatalf("verdict = %q; want down_for_everyone", got)
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.dead))
		if err != nil {
			t.Fatal(err)
		}
		back := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "back again") })}
		go back.Serve(ln)
		t.Cleanup(func() { back.Close() })
		revived := time.Now()
		if err := waitJS(tb.ctx, `document.body.textContent.includes("back again")`, 20*time.Second); err != nil {
			t.Fatalf("the page did not reload into the working site: %v", err)
		}
		t.Logf("reloaded into the working site %v after the upstream returned", time.Since(revived).Round(100*time.Millisecond))
	})
}
