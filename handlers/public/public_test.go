package public_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/handlers/public"
	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident/record"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const testConfig = `
[server]
listen = "127.0.0.1:0"
trusted_proxies = ["127.0.0.1/32"]

[[site]]
name = "shop"
hosts = ["shop.example"]
[site.brand]
title = "Shop & Co"
[site.brand.colors]
primary = "#aa3300"
[site.contact]
email = "help@shop.example"
url = "https://shop.example/contact"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:9/health"
addrs = ["127.0.0.1:9"]

[[site]]
name = "blog"
hosts = ["blog.example"]
default_locale = "fr"
[site.brand]
title = "Blog"
`

// fakeStatus is a StatusSource with a fixed answer that records visits.
// Observe names upstream; Fresh returns fresh when set, else view.
type fakeStatus struct {
	mu       sync.Mutex
	view     monitor.UpstreamView
	fresh    *monitor.UpstreamView
	upstream string
	visits   []monitor.Visit
	waited   int
}

func (f *fakeStatus) Upstream(site, name string) monitor.UpstreamView {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.view
	v.Site, v.Name = site, name
	return v
}

func (f *fakeStatus) Observe(site string, v monitor.Visit) (string, [16]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.visits = append(f.visits, v)
	return f.upstream, f.VisitorKey(v.IP, v.UserAgent)
}

func (f *fakeStatus) Fresh(ctx context.Context, site, name string, since time.Time) monitor.UpstreamView {
	f.mu.Lock()
	f.waited++
	fresh := f.fresh
	f.mu.Unlock()
	if fresh != nil {
		v := *fresh
		v.Site, v.Name = site, name
		return v
	}
	return f.Upstream(site, name)
}

func (f *fakeStatus) set(v monitor.UpstreamView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.view = v
}

func (f *fakeStatus) VisitorKey(ip, ua string) [16]byte { return fakeVisitorKey(ip, ua) }

// fakeVisitorKey is a visitor key tests can predict: the address, then
// the user agent, cut to 16 bytes.
func fakeVisitorKey(ip, ua string) (k [16]byte) {
	n := copy(k[:], ip)
	copy(k[n:], ua)
	return k
}

// fakeRecorder keeps the events it is given.
type fakeRecorder struct {
	mu     sync.Mutex
	events []record.Event
}

func (f *fakeRecorder) Record(e record.Event) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) < 100 { // benchmarks record millions
		f.events = append(f.events, e)
	}
	return true
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var testTime = time.Date(2026, 11, 22, 9, 30, 15, 0, time.UTC)

type testServer struct {
	h       http.Handler
	status  *fakeStatus
	events  *fakeRecorder
	metrics *public.PromMetrics
	cfg     *config.Config
	catalog *locales.Catalog
	board   *announce.Board
}

func mustServer(tb testing.TB, mutate ...func(*config.Config)) *testServer {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gatewatch.toml")
	if err := os.WriteFile(path, []byte(testConfig), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range mutate {
		m(cfg)
	}
	cat, err := locales.New("en")
	if err != nil {
		tb.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		tb.Fatal(err)
	}
	// The upstream's check fails, and has for a while: pages say down.
	st := &fakeStatus{view: monitor.UpstreamView{
		Probe: cause.ProbeDown, Class: probe.ClassRefused, Pending: true, Affected: 37, Many: true,
		Window: 5 * time.Minute, RetryAfter: 10 * time.Second,
		Started: testTime.Add(-3 * time.Second), CheckedAt: testTime.Add(-3 * time.Second),
	}}
	m := public.NewMetrics(prometheus.NewRegistry())
	rec := &fakeRecorder{}
	board := newTestBoard()
	h, err := public.New(public.Deps{Config: cfg, Catalog: cat, Assets: assets, Status: st, Events: rec, Clock: fixedClock{testTime},
		Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Board: board})
	if err != nil {
		tb.Fatal(err)
	}
	return &testServer{h: h, status: st, events: rec, metrics: m, cfg: cfg, catalog: cat, board: board}
}

// req builds a request as nginx's @gatewatch location sends it: from a
// trusted loopback peer, with the headers of the generated include.
func nginxReq(method, target string, hdr map[string]string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Host = "shop.example"
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	for k, v := range hdr {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	return r
}

func (s *testServer) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func doc(tb testing.TB, w *httptest.ResponseRecorder) *goquery.Document {
	tb.Helper()
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestStatusCodeFromTrustedProxyOnly(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		name   string
		remote string
		xcode  string
		want   int
	}{
		{"default is 502", "127.0.0.1:1", "", 502},
		{"trusted 504", "127.0.0.1:1", "504", 504},
		{"trusted 503", "127.0.0.1:1", "503", 503},
		{"trusted 500", "127.0.0.1:1", "500", 500},
		{"trusted 404", "127.0.0.1:1", "404", 404},
		{"trusted 418", "127.0.0.1:1", "418", 418},
		{"trusted 507", "127.0.0.1:1", "507", 507},
		{"untrusted is ignored", "192.0.2.7:1", "504", 502},
		{"not an error code", "127.0.0.1:1", "200", 502},
		{"out of range", "127.0.0.1:1", "999", 502},
		{"garbage", "127.0.0.1:1", "50x<script>", 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := nginxReq("GET", "/cart", map[string]string{"X-Code": tc.xcode})
			r.RemoteAddr = tc.remote
			w := s.do(r)
			if w.Code != tc.want {
				t.Errorf("X-Code %q from %s: status = %d; want %d", tc.xcode, tc.remote, w.Code, tc.want)
			}
			if got := doc(t, w).Find("[data-testid=page]").AttrOr("data-code", ""); got != strconv.Itoa(tc.want) {
				t.Errorf("page data-code = %q; want %d", got, tc.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		code       string
		retryAfter bool
	}{{"502", true}, {"503", true}, {"504", true}, {"500", false}, {"404", false}} {
		w := s.do(nginxReq("GET", "/x", map[string]string{"X-Code": tc.code, "X-Request-ID": "0123456789abcdef0123456789abcdef"}))
		h := w.Header()
		for k, want := range map[string]string{
			"Cache-Control":          "no-store",
			"X-Request-ID":           "0123456789abcdef0123456789abcdef",
			"X-Robots-Tag":           "noindex, nofollow",
			"Referrer-Policy":        "no-referrer",
			"X-Content-Type-Options": "nosniff",
			"Content-Type":           "text/html; charset=utf-8",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("code %s: %s = %q; want %q", tc.code, k, got, want)
			}
		}
		if got := h.Get("Retry-After"); (got != "") != tc.retryAfter {
			t.Errorf("code %s: Retry-After = %q; want present=%v", tc.code, got, tc.retryAfter)
		}
		if tc.retryAfter && h.Get("Retry-After") != "10" {
			t.Errorf("code %s: Retry-After = %q; want the monitor's 10", tc.code, h.Get("Retry-After"))
		}
		csp := h.Get("Content-Security-Policy")
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP %q allows unsafe inline code", csp)
		}
		d := doc(t, w)
		d.Find("script").Each(func(_ int, sel *goquery.Selection) {
			if src := sel.AttrOr("src", ""); !strings.HasPrefix(src, static.Prefix) {
				t.Errorf("script %q: want every script a file under %s, none inline", src, static.Prefix)
			}
		})
		d.Find("style").Each(func(_ int, sel *goquery.Selection) {
			sum := sha256.Sum256([]byte(sel.Text()))
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, h) {
				t.Errorf("inline style %q: CSP %q lacks its hash %s", sel.Text(), csp, h)
			}
		})
		if !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("CSP %q: want scripts from the page's own origin only", csp)
		}
	}
}

func TestHeadHasNoBody(t *testing.T) {
	s := mustServer(t)
	w := s.do(nginxReq("HEAD", "/cart", map[string]string{"X-Code": "503"}))
	if w.Code != 503 {
		t.Errorf("HEAD status = %d; want 503", w.Code)
	}
	if w.Body.Len() != 0 {
		t.Errorf("HEAD body has %d bytes; want none", w.Body.Len())
	}
	if w.Header().Get("Content-Length") == "" {
		t.Error("HEAD has no Content-Length")
	}
}

func TestAnyMethodGetsThePage(t *testing.T) {
	s := mustServer(t)
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		w := s.do(nginxReq(m, "/api/orders", map[string]string{"X-Original-Method": m}))
		if w.Code != 502 {
			t.Errorf("%s: status = %d; want 502", m, w.Code)
		}
		if got := doc(t, w).Find("[data-testid=page]").AttrOr("data-method", ""); got != m {
			t.Errorf("%s: data-method = %q; want %q", m, got, m)
		}
	}
}

func TestFormats(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		wantCT string
	}{
		{"browser", map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, "text/html; charset=utf-8"},
		{"curl", map[string]string{"Accept": "*/*"}, "text/plain; charset=utf-8"},
		{"no accept", map[string]string{"Accept": ""}, "text/plain; charset=utf-8"},
		{"json", map[string]string{"Accept": "application/json"}, "application/problem+json"},
		{"problem", map[string]string{"Accept": "application/problem+json"}, "application/problem+json"},
		{"q-values prefer json", map[string]string{"Accept": "text/html;q=0.1, application/json;q=0.9"}, "application/problem+json"},
		{"q-values prefer text", map[string]string{"Accept": "application/json;q=0.2, text/plain"}, "text/plain; charset=utf-8"},
		{"x-format wins", map[string]string{"Accept": "text/html", "X-Format": "application/json"}, "application/problem+json"},
		{"hostile accept", map[string]string{"Accept": strings.Repeat("text/html;q=", 500)}, "text/plain; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.do(nginxReq("GET", "/x", tc.hdr))
			if got := w.Header().Get("Content-Type"); got != tc.wantCT {
				t.Errorf("Content-Type = %q; want %q", got, tc.wantCT)
			}
			if w.Code != 502 {
				t.Errorf("status = %d; want 502", w.Code)
			}
		})
	}
}

func TestProblemDetails(t *testing.T) {
	s := mustServer(t)
	w := s.do(nginxReq("GET", "/api", map[string]string{"Accept": "application/json", "X-Code": "503",
		"X-Request-ID": "abc123", "Accept-Language": "de"}))
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	for k, want := range map[string]any{
		"type": "about:blank", "title": "Service Unavailable", "status": 503.0, "request_id": "abc123",
		"retry_after": 10.0, "instance": "urn:gatewatch:request:abc123", "verdict": "down_for_everyone",
	} {
		if p[k] != want {
			t.Errorf("problem[%q] = %v; want %v", k, p[k], want)
		}
	}
	if d, _ := p["detail"].(string); d == "" || !strings.Contains(w.Header().Get("Content-Language"), "de") {
		t.Errorf("detail = %q, Content-Language = %q; want German detail", d, w.Header().Get("Content-Language"))
	}
}

func TestTextFormat(t *testing.T) {
	s := mustServer(t)
	w := s.do(nginxReq("GET", "/", map[string]string{"Accept": "*/*", "X-Request-ID": "ref42"}))
	body := w.Body.String()
	for _, want := range []string{"502", "Reference: ref42", "Time (UTC): 2026-11-22 09:30:15 UTC", "down for everyone"} {
		if !strings.Contains(body, want) {
			t.Errorf("text body %q lacks %q", body, want)
		}
	}
}

func TestLocaleNegotiation(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		name, target, host, accept, cookie string
		wantLang, wantDir                  string
	}{
		{"default", "/", "shop.example", "", "", "en", "ltr"},
		{"accept-language", "/", "shop.example", "de-DE,de;q=0.9,en;q=0.5", "", "de", "ltr"},
		{"query wins", "/?lang=ja", "shop.example", "de", "fr", "ja", "ltr"},
		{"cookie beats header", "/", "shop.example", "de", "nl", "nl", "ltr"},
		{"arabic is rtl", "/", "shop.example", "ar-EG", "", "ar", "rtl"},
		{"hebrew is rtl", "/", "shop.example", "he", "", "he", "rtl"},
		{"chinese", "/", "shop.example", "zh-CN", "", "zh-Hans", "ltr"},
		{"site default", "/", "blog.example", "", "", "fr", "ltr"},
		{"visitor beats site default", "/", "blog.example", "it", "", "it", "ltr"},
		{"junk falls back", "/?lang=%3Cscript%3E", "shop.example", "xx;q=abc", "\x00", "en", "ltr"},
		{"norwegian nynorsk", "/?lang=nn", "shop.example", "", "", "nb", "ltr"},
		// The matcher answers High for Kurdish → Turkish; a Kurdish reader
		// gets the default, not Turkish (Estonian, once the example, now
		// has its own file).
		{"no guess across languages", "/", "shop.example", "ku-IQ,ku;q=0.9", "", "en", "ltr"},
		{"estonian is not finnish", "/", "shop.example", "et-EE,et;q=0.9,fi;q=0.5", "", "et", "ltr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := nginxReq("GET", tc.target, map[string]string{"Host": tc.host, "Accept-Language": tc.accept})
			if tc.cookie != "" {
				r.Header.Set("Cookie", locales.CookieName+"="+tc.cookie)
			}
			w := s.do(r)
			html := doc(t, w).Find("html")
			if got := html.AttrOr("lang", ""); got != tc.wantLang {
				t.Errorf("lang = %q; want %q", got, tc.wantLang)
			}
			if got := html.AttrOr("dir", ""); got != tc.wantDir {
				t.Errorf("dir = %q; want %q", got, tc.wantDir)
			}
			want := s.catalog.Translator(mustLang(t, s.catalog, tc.wantLang)).T("error.502.headline", nil)
			if got := strings.TrimSpace(doc(t, w).Find("[data-testid=headline]").Text()); got != want {
				t.Errorf("headline = %q; want %q", got, want)
			}
		})
	}
}

func mustLang(tb testing.TB, c *locales.Catalog, code string) locales.Language {
	tb.Helper()
	l, ok := c.Lookup(code)
	if !ok {
		tb.Fatalf("no language %q", code)
	}
	return l
}

func TestLangQuerySetsCookie(t *testing.T) {
	s := mustServer(t)
	w := s.do(nginxReq("GET", "/cart?lang=pl&item=3", nil))
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != locales.CookieName || c[0].Value != "pl" || c[0].Path != "/" || !c[0].HttpOnly {
		t.Fatalf("cookies = %v; want %s=pl on / (HttpOnly)", c, locales.CookieName)
	}
	// The site's own "lang" cookie is the site's: it does not choose ours.
	r := nginxReq("GET", "/", map[string]string{"Accept-Language": "de"})
	r.Header.Set("Cookie", "lang=fr")
	if got := doc(t, s.do(r)).Find("html").AttrOr("lang", ""); got != "de" {
		t.Errorf("with the site's cookie lang=fr: page in %q; want de from Accept-Language", got)
	}
	// The switcher keeps the other query parameters.
	d := doc(t, w)
	if got := d.Find("[data-testid=lang] input[name=item]").AttrOr("value", ""); got != "3" {
		t.Errorf("switcher keeps item = %q; want 3", got)
	}
	if got := d.Find("[data-testid=lang]").AttrOr("action", ""); got != "/cart" {
		t.Errorf("switcher action = %q; want /cart", got)
	}
	if n := d.Find("[data-testid=lang] option").Length(); n < 12 {
		t.Errorf("switcher offers %d languages; want at least 12", n)
	}
}

// TestHostileInputNeverReflected sends markup through every header and
// parameter that reaches the page, in every format.
func TestHostileInputNeverReflected(t *testing.T) {
	s := mustServer(t)
	payload := `"><script>alert(1)</script><img src=x onerror=alert(1)>`
	for _, accept := range []string{"text/html", "application/json", "*/*"} {
		for name, r := range map[string]*http.Request{
			"original uri": nginxReq("GET", "/", map[string]string{"X-Original-URI": "/a?q=" + payload}),
			"path":         nginxReq("GET", "/%22%3E%3Cscript%3Ealert(1)%3C/script%3E", nil),
			"query":        nginxReq("GET", "/?x="+strings.ReplaceAll(payload, " ", "%20")+"&lang="+strings.ReplaceAll(payload, " ", "%20"), nil),
			"host":         nginxReq("GET", "/", map[string]string{"Host": payload}),
			"request id":   nginxReq("GET", "/", map[string]string{"X-Request-ID": payload}),
			"method":       nginxReq("GET", "/", map[string]string{"X-Original-Method": payload}),
			"user agent":   nginxReq("GET", "/", map[string]string{"User-Agent": payload}),
			"cookie":       nginxReq("GET", "/", map[string]string{"Cookie": locales.CookieName + "=" + payload}),
		} {
			r.Header.Set("Accept", accept)
			w := s.do(r)
			body := w.Body.String()
			for _, bad := range []string{"<script>alert", "<img src=x", "onerror=alert(1)>"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s (%s): body reflects %q unescaped", name, accept, bad)
				}
			}
			if w.Code != 502 {
				t.Errorf("%s (%s): status = %d; want 502", name, accept, w.Code)
			}
		}
	}
}

func TestNoInternalAddressesInAnyFormat(t *testing.T) {
	s := mustServer(t)
	for _, accept := range []string{"text/html", "application/json", "*/*"} {
		w := s.do(nginxReq("GET", "/", map[string]string{
			"Accept": accept, "X-Upstream-Addr": "10.20.30.40:8080", "X-Upstream-Status": "502",
			"X-Upstream-Connect-Time": "0.001", "X-Nginx-Connection": "77",
		}))
		for _, leak := range []string{"10.20.30.40", "127.0.0.1:9", "/health"} {
			if strings.Contains(w.Body.String(), leak) {
				t.Errorf("%s body leaks %q", accept, leak)
			}
		}
	}
}

func TestPageContent(t *testing.T) {
	s := mustServer(t)
	w := s.do(nginxReq("GET", "/cart?x=1", map[string]string{
		"X-Request-ID": "feedface", "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
		"X-Forwarded-Proto": "https",
	}))
	d := doc(t, w)
	if got := d.Find("[data-testid=brand]").Text(); !strings.Contains(got, "Shop & Co") {
		t.Errorf("brand = %q; want the site's title", got)
	}
	var steps []string
	d.Find("[data-testid=steps] [data-step]").Each(func(_ int, s *goquery.Selection) { steps = append(steps, s.AttrOr("data-step", "")) })
	if got, want := strings.Join(steps, ","), "later,contact,retry,hard-refresh,clear,other"; got != want {
		t.Errorf("steps = %q; want %q", got, want)
	}
	if got := d.Find("[data-step=hard-refresh] kbd").First().Text(); !strings.Contains(got, "Option") {
		t.Errorf("hard refresh in Safari on a Mac starts with key %q; want Option (⌥⌘R)", got)
	}
	if got := d.Find("[data-step=clear] li").First().Text(); !strings.Contains(got, "Safari") {
		t.Errorf("first clear-data instruction = %q; want Safari's for a Safari visitor", got)
	}
	if got := d.Find("[data-step=retry] a").AttrOr("href", ""); got != "/cart?x=1" {
		t.Errorf("retry href = %q; want the failed URI", got)
	}
	mail := d.Find("[data-step=contact] a[href^='mailto:']").AttrOr("href", "")
	for _, want := range []string{"mailto:help@shop.example?subject=", "feedface", "https%3A%2F%2Fshop.example%2Fcart%3Fx%3D1", "2026-11-22%2009%3A30%3A15%20UTC"} {
		if !strings.Contains(mail, want) {
			t.Errorf("mailto %q lacks %q", mail, want)
		}
	}
	if got := d.Find("[data-step=contact] a[href='https://shop.example/contact']").Length(); got != 1 {
		t.Errorf("contact page links = %d; want 1", got)
	}
	if got := d.Find("[data-testid=ref-id]").Text(); got != "feedface" {
		t.Errorf("reference = %q; want feedface", got)
	}
	if got := d.Find("[data-testid=ref-time]").Text(); got != "2026-11-22 09:30:15 UTC" {
		t.Errorf("time = %q", got)
	}
	if got := strings.TrimSpace(d.Find("[data-testid=verdict-answer]").Text()); got != "Yes, it's down for everyone right now." {
		t.Errorf("verdict = %q", got)
	}
	if got := strings.TrimSpace(d.Find("[data-testid=verdict-count]").Text()); got != "37 visitors hit this in the last 5 minutes." {
		t.Errorf("count = %q", got)
	}
	if got := d.Find(".hop[data-hop=origin]").AttrOr("data-state", ""); got != "down" {
		t.Errorf("origin hop = %q; want down", got)
	}
	if d.Find("[data-testid=staff-link]").Length() != 0 {
		t.Error("staff link shown without admin_url")
	}
	// Brand color reaches the page through the hashed inline style only.
	if !strings.Contains(w.Body.String(), "--brand-light:#aa3300") {
		t.Error("brand color missing from the page")
	}
	// The visit was reported to the monitor, with nginx's upstream address.
	if len(s.status.visits) != 1 {
		t.Errorf("visits observed = %d; want 1", len(s.status.visits))
	}
}

func TestStaffLinkWhenAdminURLSet(t *testing.T) {
	s := mustServer(t, func(c *config.Config) { c.Server.AdminURL = "https://admin.shop.example/" })
	d := doc(t, s.do(nginxReq("GET", "/", map[string]string{"X-Request-ID": "r-1"})))
	// Site and time find the incident of a request that was only counted.
	want := "https://admin.shop.example/admin/r/r-1?site=shop&at=" + testTime.Format(time.RFC3339)
	if got := d.Find("[data-testid=staff-link]").AttrOr("href", ""); got != want {
		t.Errorf("staff link = %q; want %q", got, want)
	}
}

func TestFourOhFourPage(t *testing.T) {
	s := mustServer(t)
	d := doc(t, s.do(nginxReq("GET", "/missing", map[string]string{"X-Code": "404"})))
	if d.Find("[data-testid=verdict]").Length() != 0 {
		t.Error("404 page shows the down-for-everyone verdict")
	}
	var steps []string
	d.Find("[data-step]").Each(func(_ int, s *goquery.Selection) { steps = append(steps, s.AttrOr("data-step", "")) })
	if got, want := strings.Join(steps, ","), "check-address,home,contact"; got != want {
		t.Errorf("404 steps = %q; want %q", got, want)
	}
}

func TestStaticAssets(t *testing.T) {
	s := mustServer(t)
	d := doc(t, s.do(nginxReq("GET", "/", nil)))
	for _, sel := range []string{"link[rel=stylesheet]", "script[src]", "link[rel=icon]"} {
		attr := "href"
		if strings.HasPrefix(sel, "script") {
			attr = "src"
		}
		u := d.Find(sel).AttrOr(attr, "")
		if !strings.HasPrefix(u, static.Prefix) {
			t.Fatalf("%s = %q; want it under %s", sel, u, static.Prefix)
		}
		r := httptest.NewRequest("GET", u, nil)
		r.Header.Set("Accept-Encoding", "gzip, br")
		w := s.do(r)
		if w.Code != 200 {
			t.Fatalf("GET %s = %d", u, w.Code)
		}
		if got := w.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s Cache-Control = %q; want immutable", u, got)
		}
		if w.Header().Get("Content-Encoding") == "gzip" {
			if _, err := gzip.NewReader(bytes.NewReader(w.Body.Bytes())); err != nil {
				t.Errorf("%s: bad gzip: %v", u, err)
			}
		}
	}
	if w := s.do(httptest.NewRequest("GET", "/_gatewatch/static/nope.css", nil)); w.Code != 404 {
		t.Errorf("unknown asset = %d; want 404", w.Code)
	}
	if w := s.do(httptest.NewRequest("POST", "/_gatewatch/static/x.css", nil)); w.Code != 405 {
		t.Errorf("POST asset = %d; want 405", w.Code)
	}
	if w := s.do(httptest.NewRequest("GET", "/_gatewatch/nothing", nil)); w.Code != 404 {
		t.Errorf("unknown /_gatewatch/ path = %d; want 404", w.Code)
	}
}

// TestPageBudget keeps the page within the first round trip: HTML, CSS
// and JS of the 502 page at most 14 KB gzipped, in every language.
func TestPageBudget(t *testing.T) {
	s := mustServer(t)
	for _, l := range s.catalog.Languages() {
		// What a browser downloads: the page as served gzipped (spliced,
		// so a little larger than gzip of the whole), then its CSS and JS.
		zipped := s.do(nginxReq("GET", "/cart?lang="+l.Code, map[string]string{"Accept-Encoding": "gzip"}))
		if zipped.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: page not served gzipped", l.Code)
		}
		total := zipped.Body.Len()
		d := doc(t, s.do(nginxReq("GET", "/cart?lang="+l.Code, nil)))
		for _, u := range []string{d.Find("link[rel=stylesheet]").AttrOr("href", ""), d.Find("script[src]").AttrOr("src", "")} {
			r := httptest.NewRequest("GET", u, nil)
			r.Header.Set("Accept-Encoding", "gzip")
			total += s.do(r).Body.Len()
		}
		if total > 14*1024 {
			t.Errorf("%s: page weighs %d bytes gzipped; budget 14336", l.Code, total)
		}
		t.Logf("%s: %d bytes gzipped (HTML+CSS+JS)", l.Code, total)
	}
}

// TestGolden502 pins the whole 502 page in two languages; run with
// -update after an intended change and read the diff.
func TestGolden502(t *testing.T) {
	s := mustServer(t)
	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) {
			w := s.do(nginxReq("GET", "/cart", map[string]string{"Accept-Language": lang, "X-Request-ID": "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b",
				"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"}))
			got := w.Body.Bytes()
			path := filepath.Join("testdata", "502."+lang+".golden.html")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./handlers -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("502 page (%s) differs from %s; run go test ./handlers -run TestGolden502 -update and review the diff", lang, path)
			}
		})
	}
}

func TestEventRecorded(t *testing.T) {
	s := mustServer(t)
	s.do(nginxReq("POST", "/checkout?step=2", map[string]string{
		"X-Request-ID": "req-9", "X-Code": "504", "X-Original-Method": "POST", "X-Real-IP": "203.0.113.9",
		"X-Upstream-Addr": "127.0.0.8:80, 127.0.0.1:9", "X-Upstream-Status": "504", "X-Upstream-Connect-Time": "0.001",
		"X-Nginx-Connection": "4242", "User-Agent": "Mozilla/5.0 Firefox/130.0", "Accept-Language": "de",
	}))
	if len(s.events.events) != 1 {
		t.Fatalf("events = %d; want 1", len(s.events.events))
	}
	e := s.events.events[0]
	want := record.Event{
		Time: testTime, Site: "shop", Upstream: "app", Host: "shop.example", Path: "/checkout", Method: "POST",
		Code: 504, RequestID: "req-9", NginxConn: 4242, UpstreamAddr: "127.0.0.8:80, 127.0.0.1:9", UpstreamStatus: "504",
		UpstreamConnectTime: "0.001", Locale: "de", VisitorKey: fakeVisitorKey("203.0.113.9", "Mozilla/5.0 Firefox/130.0"), Browser: "firefox",
	}
	if e != want {
		t.Errorf("event = %+v\nwant    %+v", e, want)
	}
}

// TestGzipSplicedPage: a client that takes gzip gets the same page,
// compressed, with the request's own values; a stream check (CRC and
// length) is part of gzip.Reader's reading to EOF.
func TestGzipSplicedPage(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"browser", map[string]string{"X-Request-ID": "gz-1", "Accept-Language": "ja"}},
		{"long uri", map[string]string{"X-Original-URI": "/q?" + strings.Repeat("a=%3Cb%3E&", 150), "X-Request-ID": "gz-2"}},
		{"four oh four", map[string]string{"X-Code": "404", "X-Request-ID": "gz-3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := s.do(nginxReq("GET", "/cart?x=1", tc.hdr))
			hdr := map[string]string{"Accept-Encoding": "gzip, br"}
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			zipped := s.do(nginxReq("GET", "/cart?x=1", hdr))
			if zipped.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding = %q; want gzip", zipped.Header().Get("Content-Encoding"))
			}
			if got := zipped.Header().Get("Content-Length"); got != strconv.Itoa(zipped.Body.Len()) {
				t.Errorf("Content-Length = %s; body has %d", got, zipped.Body.Len())
			}
			zr, err := gzip.NewReader(bytes.NewReader(zipped.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if !bytes.Equal(got, plain.Body.Bytes()) {
				t.Errorf("gunzipped page differs from the plain one")
			}
			// The request's own values go in uncompressed: a long query
			// string weighs its full length.
			if zipped.Body.Len() >= plain.Body.Len() {
				t.Errorf("gzip body %d bytes for a %d-byte page; want it compressed", zipped.Body.Len(), plain.Body.Len())
			}
			t.Logf("%d bytes plain, %d gzipped", plain.Body.Len(), zipped.Body.Len())
		})
	}
}
