//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/gatewatch/gatewatch/internal/notify"
)

const webhookSecret = "e2e-webhook-secret-0123456789"

// announceStack is gatewatch behind nginx with an admin listener, a
// webhook receiver and a fake status page.
type announceStack struct {
	*flakyStack
	admin string // admin base URL
	hooks *hookReceiver
	// maintenance switches the fake status page's maintenance on.
	maintenance atomic.Bool
}

// hookReceiver records the webhooks gatewatch sends.
type hookReceiver struct {
	mu    sync.Mutex
	got   []notify.Payload
	bad   int // bodies whose signature did not verify
	calls int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if !notify.Verify([]byte(webhookSecret), body, r.Header.Get(notify.SignatureHeader)) {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p notify.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.Event != r.Header.Get("X-Gatewatch-Event") {
		h.bad++
		return
	}
	h.got = append(h.got, p)
}

func (h *hookReceiver) events() (map[string]int, []notify.Payload, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := map[string]int{}
	for _, p := range h.got {
		n[p.Event]++
	}
	return n, append([]notify.Payload(nil), h.got...), h.bad
}

const summaryTmpl = `{"page":{"id":"p","name":"E2E status"},
 "components":[{"id":"c1","name":"Shop"},{"id":"c2","name":"Blog"}],
 "incidents":[{"id":"i9","name":"Blog is slow","status":"investigating","created_at":"2026-01-01T00:00:00Z","components":[{"id":"c2","name":"Blog"}]}],
 "scheduled_maintenances":[%s]}`

func startAnnounceStack(t *testing.T) *announceStack {
	t.Helper()
	s := &announceStack{hooks: &hookReceiver{}}
	hooks := httptest.NewServer(s.hooks)
	t.Cleanup(hooks.Close)
	statusPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := ""
		if s.maintenance.Load() {
			now := time.Now().UTC()
			m = fmt.Sprintf(`{"id":"m1","name":"Database upgrade","status":"in_progress","created_at":%q,
				"scheduled_for":%q,"scheduled_until":%q,"components":[{"id":"c1","name":"Shop"}],
				"incident_updates":[{"body":"Writes are paused","created_at":%q}]}`,
				now.Add(-time.Hour).Format(time.RFC3339), now.Add(-time.Minute).Format(time.RFC3339),
				now.Add(time.Hour).Format(time.RFC3339), now.Format(time.RFC3339))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, summaryTmpl, m)
	}))
	t.Cleanup(statusPage.Close)

	flaky, gwPort, adminPort := freePort(t), gatewatchPort(t), gatewatchPort(t)
	hash, err := runCLIStdin(t, adminPassword+"\n", "hash-password")
	if err != nil {
		t.Fatalf("hash-password: %v", err)
	}
	cfg := fmt.Sprintf(`[server]
listen = "127.0.0.1:%d"
admin_listen = "127.0.0.1:%d"
admin_url = "http://127.0.0.1:%d"
trusted_proxies = ["127.0.0.1/32"]

[monitor]
interval = "1s"
down_interval = "1s"
min_interval = "200ms"
timeout = "1s"
quiet_period = "2s"

[notify]
attempts = 3
timeout = "2s"
[[notify.webhook]]
url = "%s/hook"
secret = %q

[[site]]
name = "shop"
hosts = ["shop.test"]
[site.brand]
title = "E2E Shop"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:%d/health"
addrs = ["127.0.0.1:%d"]
[[site.status_page]]
url = "%s/api/v2/summary.json"
component = "Shop"
interval = "10s"

[[admin.user]]
name = "support"
password_hash = %q
`, gwPort, adminPort, adminPort, hooks.URL, webhookSecret, flaky, flaky, statusPage.URL, strings.TrimSpace(hash))
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "check-config", "--config", cfgPath); err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	gw := startGatewatchArgs(t, "serve", "--config", cfgPath, "--data", t.TempDir())
	s.admin = gw.admin
	ng := startNginx(t, include, nginxParams{DeadPort: freePort(t), LivePort: freePort(t), HangPort: freePort(t), FlakyPort: flaky})
	s.flakyStack = &flakyStack{nginx: ng, port: flaky}
	return s
}

// api calls the admin API with HTTP Basic credentials.
func (s *announceStack) api(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(s.admin, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth("support", adminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// page fetches the failing page through nginx in a format.
func (s *announceStack) page(t *testing.T, accept string) string {
	t.Helper()
	resp, body := get(t, s.nginx.base+"/flaky/cart", map[string]string{"Accept": accept})
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("page = %d; want 502", resp.StatusCode)
	}
	return body
}

const hostileAnnouncement = `DB upgrade <script>window.pwned=1</script><img src=x onerror="window.pwned=2"> javascript:window.pwned=3 see https://status.example/db`

// TestAnnouncementThroughNginx: an announcement created through the admin
// API shows on the page through nginx in HTML, JSON and text within one
// poll, inert, and goes at its end; the status page's maintenance shows;
// the open page picks both up without a reload.
func TestAnnouncementThroughNginx(t *testing.T) {
	s := startAnnounceStack(t)
	if strings.Contains(s.page(t, "text/html"), `data-testid="announcement"`) {
		t.Fatal("an announcement shows before any was made")
	}

	// A browser holds the page open from before the announcement.
	ctx := newBrowser(t)
	run, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(run, chromedp.Navigate(s.nginx.base+"/flaky/cart")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(run, chromedp.Evaluate[bool](`window.keep = true`)); err != nil {
		t.Fatal(err)
	}

	end := time.Now().Add(25 * time.Second).UTC().Truncate(time.Second)
	body, _ := json.Marshal(map[string]string{"site": "shop", "text": hostileAnnouncement, "until": end.Format(time.RFC3339)})
	code, resp := s.api(t, http.MethodPost, "/admin/api/v1/announcements", string(body))
	if code != http.StatusCreated {
		t.Fatalf("POST announcement = %d %s", code, resp)
	}
	created := time.Now()

	// One poll of the page's script is at least 5 s (Retry-After).
	took := eventually(t, 5*time.Second, "announcement on the HTML page", func() bool {
		return strings.Contains(s.page(t, "text/html"), `data-testid="announcement"`)
	})
	t.Logf("announcement on the page %v after the API answered", took.Round(10*time.Millisecond))
	html := s.page(t, "text/html")
	if strings.Contains(html, "<script>window.pwned") || strings.Contains(html, "<img src=x") || strings.Contains(html, `href="javascript`) {
		t.Errorf("hostile announcement is live markup:\n%s", html)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	a := d.Find(`[data-testid=announcement]`)
	if got := a.Find(".text").Text(); got != hostileAnnouncement {
		t.Errorf("announcement text = %q; want %q", got, hostileAnnouncement)
	}
	if href := a.Find("a").AttrOr("href", ""); href != "https://status.example/db" || a.Find("a").Length() != 1 {
		t.Errorf("links = %d (%q); want only the https one", a.Find("a").Length(), href)
	}
	if got := a.Find(`[data-when=until] time`).AttrOr("datetime", ""); got != end.Format(time.RFC3339) {
		t.Errorf("until = %q; want %q", got, end.Format(time.RFC3339))
	}
	if strings.Index(html, `data-testid="announcements"`) > strings.Index(html, `data-testid="verdict"`) {
		t.Error("announcement is not above the verdict")
	}
	var pr struct {
		Announcements []struct{ Text string }
	}
	if err := json.Unmarshal([]byte(s.page(t, "application/problem+json")), &pr); err != nil || len(pr.Announcements) != 1 || pr.Announcements[0].Text != hostileAnnouncement {
		t.Errorf("problem+json announcements = %+v (%v)", pr.Announcements, err)
	}
	if txt := s.page(t, "text/plain"); !strings.Contains(txt, hostileAnnouncement) {
		t.Errorf("text page lacks the announcement:\n%s", txt)
	}

	// The open page shows it on its next poll, inert, without reloading.
	if err := waitJS(run, `!!document.querySelector('[data-testid=announcement]') && window.keep === true`, 20*time.Second); err != nil {
		live, _ := chromedp.Run(run, chromedp.Evaluate[string](`document.querySelector('[data-live]').textContent + ' | ' + document.querySelector('[data-testid=announcements]').outerHTML`))
		_, st := get(t, s.nginx.base+"/_gatewatch/api/v1/status?site=shop&lang=en", nil)
		t.Logf("live: %s\nstatus: %s", live, st)
		t.Fatalf("the open page did not pick the announcement up: %v", err)
	}
	if pwned, _ := chromedp.Run(run, chromedp.Evaluate[bool](`window.pwned !== undefined`)); pwned {
		t.Error("the hostile announcement ran script on the live page")
	}
	t.Logf("live page showed it %v after it was made", time.Since(created).Round(100*time.Millisecond))

	// The status page's maintenance joins it.
	s.maintenance.Store(true)
	// The fake page is fetched every 10 s.
	eventually(t, 15*time.Second, "status page maintenance on the page", func() bool {
		return strings.Contains(s.page(t, "text/html"), "Database upgrade: Writes are paused")
	})
	if strings.Contains(s.page(t, "text/html"), "Blog is slow") {
		t.Error("another component's incident shows on the shop's page")
	}

	// At its end the staff announcement goes, from every format and the
	// open page.
	// Elapsed time is the point: the announcement must stay until its end
	// (checked above) and go after it.
	time.Sleep(time.Until(end))
	eventually(t, 3*time.Second, "announcement gone after its end", func() bool {
		return !strings.Contains(s.page(t, "text/html"), "DB upgrade")
	})
	if txt := s.page(t, "text/plain"); strings.Contains(txt, "DB upgrade") {
		t.Errorf("text page still shows the ended announcement")
	}
	if err := waitJS(run, `![...document.querySelectorAll('[data-testid=announcement] .text')].some(e => e.textContent.includes('DB upgrade')) && window.keep === true`, 20*time.Second); err != nil {
		t.Errorf("the open page kept the ended announcement: %v", err)
	}
	code, list := s.api(t, http.MethodGet, "/admin/api/v1/announcements", "")
	if code != 200 || !strings.Contains(list, `"active":false`) {
		t.Errorf("GET announcements = %d %s; want it listed, ended", code, list)
	}
}

// TestOutageNotifiesOnce: thousands of page views of one outage send one
// signed "opened" and, after recovery, one "closed" webhook.
func TestOutageNotifiesOnce(t *testing.T) {
	s := startAnnounceStack(t)
	const views, workers = 3000, 16
	var wg sync.WaitGroup
	var served, other atomic.Int64
	next := atomic.Int64{}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= views {
				req, _ := http.NewRequest("GET", s.nginx.base+"/flaky/p", nil)
				req.Host = "shop.test"
				resp, err := client.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusBadGateway {
					served.Add(1)
				} else {
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d error pages through nginx in %v (%d other answers)", served.Load(), time.Since(start).Round(time.Millisecond), other.Load())
	if served.Load() < views*9/10 {
		t.Fatalf("only %d of %d views got the 502 page", served.Load(), views)
	}
	eventually(t, 10*time.Second, "the opened webhook", func() bool { n, _, _ := s.hooks.events(); return n[notify.EventOpened] > 0 })

	s.bringBack(t)
	// Up within a check (1 s), quiet for 2 s, closed within the next tick.
	eventually(t, 20*time.Second, "the closed webhook", func() bool { n, _, _ := s.hooks.events(); return n[notify.EventClosed] > 0 })
	// Elapsed time is the point: a duplicate webhook would come within
	// a few ticks; its absence can only be waited out.
	time.Sleep(3 * time.Second)
	n, got, bad := s.hooks.events()
	if n[notify.EventOpened] != 1 || n[notify.EventClosed] != 1 || bad != 0 {
		t.Errorf("webhooks: %v, %d with a bad signature; want one opened and one closed, all signed", n, bad)
	}
	for _, p := range got {
		if p.Incident.Site != "shop" || p.Incident.Upstream != "app" || !strings.HasPrefix(p.URL, "http://127.0.0.1:") || !strings.Contains(p.URL, "/admin/incidents/") {
			t.Errorf("payload %+v: want shop/app linked in the admin", p)
		}
		if p.Event == notify.EventClosed && (p.Incident.ClosedAt == nil || p.Incident.Requests < views*9/10) {
			t.Errorf("closed payload: closed_at %v, %d requests; want both", p.Incident.ClosedAt, p.Incident.Requests)
		}
	}
	// The incident's timeline has the story.
	if len(got) > 0 {
		code, body := s.api(t, http.MethodGet, fmt.Sprintf("/admin/api/v1/incidents/%d", got[0].Incident.ID), "")
		var inc struct {
			Timeline []struct{ Kind, Detail string }
		}
		if code != 200 || json.Unmarshal([]byte(body), &inc) != nil {
			t.Fatalf("incident API = %d %s", code, body)
		}
		kinds := map[string]int{}
		for _, e := range inc.Timeline {
			kinds[e.Kind]++
		}
		if kinds["opened"] != 1 || kinds["recovered"] != 1 || kinds["closed"] != 1 || kinds["notified"] < 2 {
			t.Errorf("timeline kinds = %v; want opened, recovered, closed and the notifications", kinds)
		}
	}
	var buf bytes.Buffer
	for _, p := range got {
		fmt.Fprintf(&buf, "%s #%d ", p.Event, p.Incident.ID)
	}
	t.Logf("webhooks: %s", buf.String())
}
