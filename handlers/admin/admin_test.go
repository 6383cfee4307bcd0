package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatewatch/gatewatch/handlers/admin"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/probe"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

const adminTestConfig = `
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
trusted_proxies = ["127.0.0.1/32"]

[[site]]
name = "shop"
hosts = ["shop.example"]
[site.brand]
title = "Shop & Co"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:9/health"
addrs = ["127.0.0.1:9"]

[[site]]
name = "blog"
hosts = ["blog.example"]
[site.brand]
title = "Blog"
[[site.upstream]]
name = "web"
check = "http://127.0.0.1:10/health"
addrs = ["127.0.0.1:10"]
`

// Test identities. staffAddr is a staff member's browser, not a trusted
// proxy.
const (
	adminUser     = "admin"
	adminPassword = "correct horse battery staple"
	staffAddr     = "192.0.2.10:50000"
	proxyAddr     = "127.0.0.1:40000"
)

// Seeded data. The references and the hostile path must never appear in
// an answer to a client without a session.
const (
	seedRID     = "0123456789abcdef0123456789abcdef"
	hostileRID  = "req-hostile"
	hostilePath = `/<script>alert(1)</script>?q="x"`
	hostileLog  = `2026/11/22 09:28:14 [error] 12#12: *18 upstream prematurely closed connection while reading response header from upstream, client: 10.0.0.2, server: shop.example, request: "GET /<img src=x onerror=alert(1)> HTTP/1.1", upstream: "http://127.0.0.1:9/", host: "shop.example"`
	refusedLog  = `2026/11/22 09:29:14 [error] 12#12: *17 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: shop.example, request: "GET /cart HTTP/1.1", upstream: "http://127.0.0.1:9/cart", host: "shop.example"`
)

var adminNow = time.Date(2026, 11, 22, 9, 30, 15, 0, time.UTC)

// adminClock is a clock tests can move.
type adminClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *adminClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *adminClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// adminStatus is a monitor with a fixed answer per site.
type adminStatus struct {
	mu    sync.Mutex
	sites map[string]monitor.SiteStatus
}

func (s *adminStatus) Status(site string) monitor.SiteStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sites[site]
	st.Site = site
	return st
}

// adminEvidence is an nginx error.log index over fixed lines.
type adminEvidence struct {
	byConn map[int64][]nginxlog.Entry
}

func (e *adminEvidence) LookupNear(conn int64, at time.Time, window time.Duration) []nginxlog.Entry {
	var out []nginxlog.Entry
	for _, en := range e.byConn[conn] {
		if d := en.Time.Sub(at).Abs(); d <= window {
			out = append(out, en)
		}
	}
	return out
}

type adminEnv struct {
	h      http.Handler
	deps   admin.Deps
	store  incident.Store
	clock  *adminClock
	cfg    *config.Config
	assets *static.Set
	incID  int64 // the open incident of shop/app
}

func mustLogLine(tb testing.TB, line string) nginxlog.Entry {
	tb.Helper()
	e, err := nginxlog.ParseLine(line, time.UTC)
	if err != nil {
		tb.Fatalf("ParseLine(%q) = %v", line, err)
	}
	return e
}

// mustAdmin builds the admin handler over a real SQLite store holding:
// three errors of shop/app in the last half hour (one with a hostile path),
// and a closed incident of blog/web.
func mustAdmin(tb testing.TB, mutate ...func(*config.Config)) *adminEnv {
	tb.Helper()
	cfg, err := config.Parse("admin_test.toml", tb.TempDir(), []byte(adminTestConfig))
	if err != nil {
		tb.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Admin.Users = []config.User{{Name: adminUser, PasswordHash: string(hash)}}
	for _, m := range mutate {
		m(cfg)
	}
	ctx := context.Background()
	store, err := incident.Open(ctx, "", tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	events := []incident.Event{
		{Time: adminNow.Add(-30 * time.Minute), Site: "shop", Upstream: "app", Host: "shop.example", Path: "/", Method: "GET",
			Code: 502, RequestID: "older-one", Locale: "en", VisitorHash: "v3", Browser: "firefox"},
		{Time: adminNow.Add(-2 * time.Minute), Site: "shop", Upstream: "app", Host: "shop.example", Path: hostilePath,
			Method: "GET", Code: 502, RequestID: hostileRID, NginxConn: 18, Locale: "en", VisitorHash: "v2", Browser: "chrome"},
		{Time: adminNow.Add(-time.Minute), Site: "shop", Upstream: "app", Host: "shop.example", Path: "/cart", Method: "GET",
			Code: 502, RequestID: seedRID, NginxConn: 17, UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "502",
			UpstreamConnectTime: "-", Locale: "de", VisitorHash: "v1", Browser: "firefox"},
		{Time: adminNow.Add(-50 * time.Minute), Site: "blog", Upstream: "web", Host: "blog.example", Path: "/post/1",
			Method: "GET", Code: 504, RequestID: "blog-req", Locale: "fr", VisitorHash: "v9", Browser: "safari"},
	}
	if err := store.AddEvents(ctx, events); err != nil {
		tb.Fatal(err)
	}
	if _, err := store.CloseIncidents(ctx, "blog", "web", adminNow.Add(-40*time.Minute)); err != nil {
		tb.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		tb.Fatal(err)
	}
	catalog, err := locales.New("en")
	if err != nil {
		tb.Fatal(err)
	}
	status := &adminStatus{sites: map[string]monitor.SiteStatus{
		"shop": {Verdict: monitor.VerdictDownForEveryone, Origin: monitor.HopDown, CheckedAt: adminNow.Add(-3 * time.Second),
			Affected: 2, Window: 5 * time.Minute, Upstreams: []monitor.UpstreamStatus{{
				Name: "app", Up: false, Since: adminNow.Add(-12 * time.Minute), Checks: 7,
				Last: probe.Result{
					Target: probe.Target{URL: "http://127.0.0.1:9/health"}, Class: probe.ClassRefused,
					Started: adminNow.Add(-3 * time.Second), Duration: 2 * time.Millisecond,
					Detail: "connect: dial tcp 127.0.0.1:9: connect: connection refused",
					Stages: []probe.Stage{
						{Name: probe.StageDNS, Duration: 400 * time.Microsecond, OK: true},
						{Name: probe.StageConnect, Duration: 1500 * time.Microsecond, Err: "dial tcp 127.0.0.1:9: connect: connection refused"},
					},
				},
			}}},
		"blog": {Verdict: monitor.VerdictNotEveryone, Origin: monitor.HopUp, CheckedAt: adminNow.Add(-5 * time.Second),
			Upstreams: []monitor.UpstreamStatus{{Name: "web", Up: true, Since: adminNow.Add(-40 * time.Minute), Checks: 90,
				Last: probe.Result{Target: probe.Target{URL: "http://127.0.0.1:10/health"}, Class: probe.ClassOK, StatusCode: 200,
					Started: adminNow.Add(-5 * time.Second), Stages: []probe.Stage{{Name: probe.StageConnect, Duration: time.Millisecond, OK: true},
						{Name: probe.StageHTTP, Duration: 12 * time.Millisecond, OK: true}}}}}},
	}}
	refused, hostile := mustLogLine(tb, refusedLog), mustLogLine(tb, hostileLog)
	// nginx logs local time; the test's lines are UTC, a second or two
	// before the events they belong to.
	evidence := &adminEvidence{byConn: map[int64][]nginxlog.Entry{17: {refused}, 18: {hostile}}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "gatewatch_test_total", Help: "A test metric."}))
	clock := &adminClock{t: adminNow}
	deps := admin.Deps{
		Config: cfg, Catalog: catalog, Assets: assets, Store: store, Status: status, Evidence: evidence,
		Gatherer: reg, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Notify: &fakeNotify{},
		Events: &fakeEventStats{},
	}
	h, err := admin.New(deps)
	if err != nil {
		tb.Fatal(err)
	}
	e := &adminEnv{h: h, deps: deps, store: store, clock: clock, cfg: cfg, assets: assets}
	ev, err := store.Event(ctx, seedRID)
	if err != nil {
		tb.Fatal(err)
	}
	e.incID = ev.IncidentID
	return e
}

// adminReq is a request from a staff member's browser.
func adminReq(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = staffAddr
	if body != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

func (e *adminEnv) do(r *http.Request, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func cookieNamed(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func parseDoc(tb testing.TB, body string) *goquery.Document {
	tb.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// loginForm fetches the sign-in form: its CSRF token and cookie.
func (e *adminEnv) loginForm(tb testing.TB) (token string, cookie *http.Cookie) {
	tb.Helper()
	w := e.do(adminReq(http.MethodGet, "/admin/login", nil))
	if w.Code != http.StatusOK {
		tb.Fatalf("GET /admin/login = %d; want 200", w.Code)
	}
	token, _ = parseDoc(tb, w.Body.String()).Find(`[data-testid=login] input[name=csrf]`).Attr("value")
	cookie = cookieNamed(w, "gw_login")
	if token == "" || cookie == nil {
		tb.Fatalf("sign-in form has token %q, cookie %v; want both", token, cookie)
	}
	return token, cookie
}

// postLogin submits the sign-in form from addr.
func (e *adminEnv) postLogin(tb testing.TB, addr, user, password, next string) *httptest.ResponseRecorder {
	tb.Helper()
	tok, c := e.loginForm(tb)
	form := url.Values{"csrf": {tok}, "user": {user}, "password": {password}, "next": {next}}
	r := adminReq(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
	r.RemoteAddr = addr
	return e.do(r, c)
}

// login signs in as the test user and returns the session cookie.
func (e *adminEnv) login(tb testing.TB) *http.Cookie {
	tb.Helper()
	w := e.postLogin(tb, staffAddr, adminUser, adminPassword, "")
	c := cookieNamed(w, "gw_admin")
	if c == nil {
		// admin_url is https: the cookie is Secure and __Host- prefixed.
		c = cookieNamed(w, "__Host-gw_admin")
	}
	if w.Code != http.StatusSeeOther || c == nil {
		tb.Fatalf("sign-in = %d with session cookie %v; want 303 and a cookie\n%s", w.Code, c, w.Body)
	}
	return c
}

// get requests target with the session cookie.
func (e *adminEnv) get(tb testing.TB, target string, session *http.Cookie, hdr ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := adminReq(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if session != nil {
		r.AddCookie(session)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// assetName is the hashed name of a static asset, for the static route.
func (e *adminEnv) assetName(logical string) string {
	return path.Base(e.assets.URL(logical))
}
