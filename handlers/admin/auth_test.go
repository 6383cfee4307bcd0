package admin_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/handlers/admin"
	"github.com/gatewatch/gatewatch/internal/config"
)

// publicAdminPaths are the route templates that answer without a session:
// health checks, the pages' CSS, redirects to the dashboard and the sign-in
// form. Every other route must refuse.
var publicAdminPaths = map[string]bool{
	"/healthz": true, "/readyz": true, "/_gatewatch/static/{name}": true,
	"/": true, "/admin": true, "/admin/login": true,
}

var routeVar = regexp.MustCompile(`\{([a-z]+)(:[^}]*)?\}`)

// concrete fills a route template's variables with seeded values, so that
// an answer with data would have data to leak.
func (e *adminEnv) concrete(template string) string {
	return routeVar.ReplaceAllStringFunc(template, func(v string) string {
		switch routeVar.FindStringSubmatch(v)[1] {
		case "id":
			return strconv.FormatInt(e.incID, 10)
		case "rid":
			return seedRID
		case "name":
			return e.assetName("css/admin.css")
		}
		return "x"
	})
}

// secrets are strings only a signed-in user may see.
var secrets = []string{seedRID, hostileRID, "/cart", "127.0.0.1:9", "Connection refused", "gatewatch_test_total"}

func TestAdminEveryRouteRequiresSession(t *testing.T) {
	e := mustAdmin(t)
	routes, err := admin.AdminRoutes(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 15 {
		t.Fatalf("AdminRoutes found %d routes; want the whole surface", len(routes))
	}
	session := e.login(t)
	for _, rt := range routes {
		target := e.concrete(rt.Path)
		if rt.Path == "/admin/search" {
			target += "?q=" + seedRID
		}
		api := strings.HasPrefix(rt.Path, "/admin/api/") || rt.Path == "/metrics"
		for _, m := range rt.Methods {
			t.Run(m+" "+rt.Path, func(t *testing.T) {
				w := e.do(adminReq(m, target, strings.NewReader("")))
				body := w.Body.String()
				for _, s := range secrets {
					if strings.Contains(body, s) {
						t.Errorf("%s %s without session: body contains %q", m, target, s)
					}
				}
				switch {
				case publicAdminPaths[rt.Path]:
					if w.Code >= 500 {
						t.Errorf("%s %s = %d; want no server error", m, target, w.Code)
					}
				case w.Code == http.StatusMethodNotAllowed:
					// The method has no handler: nothing to guard.
				case api:
					if w.Code != http.StatusUnauthorized {
						t.Errorf("%s %s without session = %d; want 401", m, target, w.Code)
					}
					if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
						t.Errorf("%s %s: WWW-Authenticate = %q; want Basic", m, target, got)
					}
				default:
					loc := w.Header().Get("Location")
					if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login") {
						t.Errorf("%s %s without session = %d to %q; want 303 to /admin/login", m, target, w.Code, loc)
					}
				}
				// The same request with a session reaches the handler: the
				// refusals above were not 404s in disguise.
				if m == http.MethodGet && w.Code != http.StatusMethodNotAllowed {
					w := e.do(adminReq(m, target, nil), session)
					if w.Code >= 400 {
						t.Errorf("GET %s with session = %d; want success", target, w.Code)
					}
				}
			})
		}
	}
}

func TestAdminRedirectToLoginKeepsTarget(t *testing.T) {
	e := mustAdmin(t)
	target := "/admin/incidents/" + strconv.FormatInt(e.incID, 10) + "?tab=log"
	w := e.get(t, target, nil)
	want := "/admin/login?next=" + url.QueryEscape(target)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != want {
		t.Fatalf("GET %s = %d to %q; want 303 to %q", target, w.Code, loc, want)
	}
	w = e.get(t, want, nil)
	next, _ := parseDoc(t, w.Body.String()).Find(`[data-testid=login] input[name=next]`).Attr("value")
	if next != target {
		t.Errorf("sign-in form next = %q; want %q", next, target)
	}
	w = e.postLogin(t, staffAddr, adminUser, adminPassword, next)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != target {
		t.Errorf("sign-in with next = %d to %q; want 303 to %q", w.Code, loc, target)
	}
}

func TestAdminLoginNextIsNeverAnOpenRedirect(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"", "/admin/"},
		{"/admin/r/abc", "/admin/r/abc"},
		{"/admin/search?q=x", "/admin/search?q=x"},
		{"//evil.example/admin/", "/admin/"},
		{"https://evil.example/admin/", "/admin/"},
		{`/\evil.example`, "/admin/"},
		{"/admin/../../evil", "/admin/"},
		{"/metrics", "/admin/"},
		{"javascript:alert(1)", "/admin/"},
		{"/admin/login", "/admin/"},
		{"/admin/\r\nSet-Cookie: x=y", "/admin/"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			e := mustAdmin(t)
			w := e.postLogin(t, staffAddr, adminUser, adminPassword, tc.next)
			if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != tc.want {
				t.Errorf("sign-in with next=%q = %d to %q; want 303 to %q", tc.next, w.Code, loc, tc.want)
			}
		})
	}
}

func TestAdminCSRF(t *testing.T) {
	t.Run("login", func(t *testing.T) {
		e := mustAdmin(t)
		tok, cookie := e.loginForm(t)
		for _, tc := range []struct {
			name   string
			field  string
			cookie bool
			want   int
		}{
			{"no token, no cookie", "", false, http.StatusForbidden},
			{"cookie but no token", "", true, http.StatusForbidden},
			{"token but no cookie", tok, false, http.StatusForbidden},
			{"wrong token", tok[:len(tok)-2] + "xx", true, http.StatusForbidden},
			{"right token", tok, true, http.StatusSeeOther},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"user": {adminUser}, "password": {adminPassword}}
				if tc.field != "" {
					form.Set("csrf", tc.field)
				}
				r := adminReq(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
				if tc.cookie {
					r.AddCookie(cookie)
				}
				w := e.do(r)
				if w.Code != tc.want {
					t.Errorf("POST /admin/login (%s) = %d; want %d", tc.name, w.Code, tc.want)
				}
				if tc.want == http.StatusForbidden && cookieNamed(w, "gw_admin") != nil {
					t.Errorf("POST /admin/login (%s) set a session cookie", tc.name)
				}
			})
		}
	})
	t.Run("logout", func(t *testing.T) {
		e := mustAdmin(t)
		session := e.login(t)
		w := e.get(t, "/admin/", session)
		tok, _ := parseDoc(t, w.Body.String()).Find(`[data-testid=logout] input[name=csrf]`).Attr("value")
		if tok == "" {
			t.Fatal("dashboard has no sign-out form with a CSRF token")
		}
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"missing", "", http.StatusForbidden},
			{"wrong", strings.Repeat("A", len(tok)), http.StatusForbidden},
			{"another session's", e.sessionToken(t), http.StatusForbidden},
			{"right", tok, http.StatusSeeOther},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{}
				if tc.token != "" {
					form.Set("csrf", tc.token)
				}
				w := e.do(adminReq(http.MethodPost, "/admin/logout", strings.NewReader(form.Encode())), session)
				if w.Code != tc.want {
					t.Errorf("POST /admin/logout (%s token) = %d; want %d", tc.name, w.Code, tc.want)
				}
			})
		}
		if w := e.get(t, "/admin/", session); w.Code != http.StatusSeeOther {
			t.Errorf("GET /admin/ after sign-out = %d; want 303: the session must end on the server", w.Code)
		}
	})
	t.Run("header auth", func(t *testing.T) {
		e := mustAdmin(t, func(c *config.Config) { c.Admin.AuthHeader = "X-Auth-User" })
		r := adminReq(http.MethodPost, "/admin/logout", strings.NewReader(""))
		r.RemoteAddr = proxyAddr
		r.Header.Set("X-Auth-User", "alice")
		if w := e.do(r); w.Code != http.StatusForbidden {
			t.Errorf("POST /admin/logout as a proxy-authenticated user without token = %d; want 403", w.Code)
		}
	})
}

// sessionToken signs in again and returns that session's CSRF token.
func (e *adminEnv) sessionToken(tb testing.TB) string {
	tb.Helper()
	w := e.get(tb, "/admin/", e.login(tb))
	tok, _ := parseDoc(tb, w.Body.String()).Find(`[data-testid=logout] input[name=csrf]`).Attr("value")
	return tok
}

// The sign-in limits' bursts: per address, and per user at one address.
const (
	ipBurst   = 10
	userBurst = 5
)

func TestAdminLoginRateLimits(t *testing.T) {
	t.Run("per user and address", func(t *testing.T) {
		e := mustAdmin(t)
		const guesser = "192.0.2.66:1"
		for i := range userBurst {
			if w := e.postLogin(t, guesser, adminUser, "guess"+strconv.Itoa(i), ""); w.Code != http.StatusUnauthorized {
				t.Fatalf("wrong password #%d = %d; want 401", i+1, w.Code)
			}
		}
		// From the same address, even with the right password: that name is
		// being guessed at from there, so it waits.
		w := e.postLogin(t, guesser, adminUser, adminPassword, "")
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("sign-in after 5 failures from the same address = %d; want 429", w.Code)
		}
		if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After = %q; want seconds", w.Header().Get("Retry-After"))
		}
		if cookieNamed(w, "gw_admin") != nil {
			t.Error("a refused sign-in set a session cookie")
		}
		if got := parseDoc(t, w.Body.String()).Find(`[data-testid=login-error]`).Text(); !strings.Contains(got, "Try again in") {
			t.Errorf("rate-limit message = %q; want it to say when to try again", got)
		}
		// Case variants share the name's limit.
		if w := e.postLogin(t, guesser, "ADMIN", "x", ""); w.Code != http.StatusTooManyRequests {
			t.Errorf("sign-in as ADMIN after 5 failures as admin = %d; want 429", w.Code)
		}
		// The owner, elsewhere, is not locked out by the guessing.
		if w := e.postLogin(t, staffAddr, adminUser, adminPassword, ""); w.Code != http.StatusSeeOther {
			t.Errorf("the owner's sign-in from another address = %d; want 303", w.Code)
		}
		e.clock.Advance(time.Minute)
		if w := e.postLogin(t, guesser, adminUser, adminPassword, ""); w.Code != http.StatusSeeOther {
			t.Errorf("sign-in a minute later = %d; want 303", w.Code)
		}
	})
	t.Run("no wall per user", func(t *testing.T) {
		e := mustAdmin(t)
		// Five wrong passwords a minute from ever new addresses, for five
		// minutes: the real admin still signs in, every time.
		for minute := range 5 {
			for i := range 5 {
				addr := fmt.Sprintf("198.51.100.%d:1", minute*5+i+1)
				if w := e.postLogin(t, addr, adminUser, "guess", ""); w.Code != http.StatusUnauthorized {
					t.Fatalf("guess %d.%d = %d; want 401", minute, i, w.Code)
				}
			}
			if w := e.postLogin(t, staffAddr, adminUser, adminPassword, ""); w.Code != http.StatusSeeOther {
				t.Fatalf("minute %d: the owner's sign-in = %d; want 303", minute, w.Code)
			}
			e.clock.Advance(time.Minute)
		}
	})
	t.Run("per address", func(t *testing.T) {
		e := mustAdmin(t)
		for i := range 10 {
			if w := e.postLogin(t, staffAddr, "user"+strconv.Itoa(i), "x", ""); w.Code != http.StatusUnauthorized {
				t.Fatalf("attempt #%d = %d; want 401", i+1, w.Code)
			}
		}
		if w := e.postLogin(t, staffAddr, adminUser, adminPassword, ""); w.Code != http.StatusTooManyRequests {
			t.Errorf("11th attempt from one address = %d; want 429", w.Code)
		}
		// Another address in the same IPv6 /64 is the same client.
		for i := range 10 {
			e.postLogin(t, "[2001:db8::"+strconv.Itoa(i+1)+"]:1", "v6user"+strconv.Itoa(i), "x", "")
		}
		if w := e.postLogin(t, "[2001:db8::ffff]:1", adminUser, adminPassword, ""); w.Code != http.StatusTooManyRequests {
			t.Errorf("attempt from a fresh address in a busy /64 = %d; want 429", w.Code)
		}
	})
	t.Run("successes do not count", func(t *testing.T) {
		e := mustAdmin(t)
		for i := range 15 {
			if w := e.postLogin(t, staffAddr, adminUser, adminPassword, ""); w.Code != http.StatusSeeOther {
				t.Fatalf("sign-in #%d = %d; want 303", i+1, w.Code)
			}
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		e := mustAdmin(t)
		for i := range 5 {
			r := adminReq(http.MethodGet, "/admin/api/v1/sites", nil)
			r.SetBasicAuth(adminUser, "guess"+strconv.Itoa(i))
			r.RemoteAddr = "192.0.2.66:1"
			if w := e.do(r); w.Code != http.StatusUnauthorized {
				t.Fatalf("API with wrong password #%d = %d; want 401", i+1, w.Code)
			}
		}
		r := adminReq(http.MethodGet, "/admin/api/v1/sites", nil)
		r.SetBasicAuth(adminUser, adminPassword)
		r.RemoteAddr = "192.0.2.66:1"
		if w := e.do(r); w.Code != http.StatusTooManyRequests {
			t.Errorf("API after 5 wrong passwords from that address = %d; want 429", w.Code)
		}
		// The scraper at its own address goes on.
		r = adminReq(http.MethodGet, "/metrics", nil)
		r.SetBasicAuth(adminUser, adminPassword)
		if w := e.do(r); w.Code != http.StatusOK {
			t.Errorf("/metrics with Basic auth from another address = %d; want 200", w.Code)
		}
	})
	t.Run("X-Real-IP only from admin.trusted_proxies", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			trusted []string
			want    int // the 11th attempt, from one peer rotating X-Real-IP
		}{
			{"default: nobody", nil, http.StatusTooManyRequests},
			{"the admin's proxy", []string{"127.0.0.1/32"}, http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := mustAdmin(t, func(c *config.Config) { c.Admin.TrustedProxies = tc.trusted })
				var w *httptest.ResponseRecorder
				for i := range ipBurst + 1 {
					r := adminReq(http.MethodGet, "/admin/api/v1/sites", nil)
					r.RemoteAddr = proxyAddr // trusted by server.trusted_proxies
					r.Header.Set("X-Real-IP", fmt.Sprintf("203.0.113.%d", i+1))
					r.SetBasicAuth(fmt.Sprintf("user%d", i), "x")
					w = e.do(r)
				}
				if w.Code != tc.want {
					t.Errorf("attempt %d rotating X-Real-IP = %d; want %d", ipBurst+1, w.Code, tc.want)
				}
			})
		}
	})
}

func TestMetricsToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	e := mustAdmin(t, func(c *config.Config) { c.Admin.MetricsToken = token })
	scrape := func(auth string) int {
		r := adminReq(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = "192.0.2.66:1"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return e.do(r).Code
	}
	// Someone guesses at admin from the scraper's address until it is slowed.
	for range ipBurst + 1 {
		r := adminReq(http.MethodGet, "/admin/api/v1/sites", nil)
		r.RemoteAddr = "192.0.2.66:1"
		r.SetBasicAuth(adminUser, "guess")
		e.do(r)
	}
	for i := range 20 {
		if code := scrape("Bearer " + token); code != http.StatusOK {
			t.Fatalf("scrape %d with the token = %d; want 200, whatever the sign-in limits", i+1, code)
		}
	}
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token[:31], "bearer " + token} {
		if code := scrape(auth); code == http.StatusOK {
			t.Errorf("/metrics with Authorization %q = 200; want a refusal", auth)
		}
	}
	// The token opens /metrics only.
	r := adminReq(http.MethodGet, "/admin/api/v1/sites", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	if w := e.do(r); w.Code != http.StatusUnauthorized {
		t.Errorf("API with the metrics token = %d; want 401", w.Code)
	}
}

func TestAdminSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls        bool
		addr       string
		proto      string
		cookieName string
		secure     bool
	}{
		{"plain HTTP", false, staffAddr, "", "gw_admin", false},
		{"TLS", true, staffAddr, "", "__Host-gw_admin", true},
		{"TLS at a trusted proxy", false, proxyAddr, "https", "__Host-gw_admin", true},
		{"untrusted peer claiming TLS", false, staffAddr, "https", "gw_admin", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustAdmin(t)
			prep := func(r *http.Request) *http.Request {
				r.RemoteAddr = tc.addr
				if tc.tls {
					r.TLS = &tls.ConnectionState{}
				}
				if tc.proto != "" {
					r.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				return r
			}
			w := e.do(prep(adminReq(http.MethodGet, "/admin/login", nil)))
			tok, _ := parseDoc(t, w.Body.String()).Find(`input[name=csrf]`).Attr("value")
			lc := cookieNamed(w, "gw_login")
			if lc == nil || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode || lc.Secure != tc.secure {
				t.Fatalf("sign-in form cookie = %+v; want HttpOnly, SameSite=Strict, Secure=%v", lc, tc.secure)
			}
			form := url.Values{"csrf": {tok}, "user": {adminUser}, "password": {adminPassword}}
			w = e.do(prep(adminReq(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))), lc)
			c := cookieNamed(w, tc.cookieName)
			if c == nil {
				t.Fatalf("sign-in set cookies %v; want %s", w.Result().Cookies(), tc.cookieName)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tc.secure || c.Path != "/" || c.Domain != "" {
				t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Strict, Secure=%v, Path=/, no Domain", c, tc.secure)
			}
			if len(c.Value) < 43 {
				t.Errorf("session ID %q is shorter than 32 random bytes", c.Value)
			}
			if w := e.do(prep(adminReq(http.MethodGet, "/admin/", nil)), c); w.Code != http.StatusOK {
				t.Errorf("GET /admin/ with the new session = %d; want 200", w.Code)
			}
		})
	}
}

func TestAdminSessionExpires(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	e.clock.Advance(11 * time.Hour)
	if w := e.get(t, "/admin/", session); w.Code != http.StatusOK {
		t.Fatalf("GET /admin/ after 11 h = %d; want 200", w.Code)
	}
	e.clock.Advance(2 * time.Hour)
	if w := e.get(t, "/admin/", session); w.Code != http.StatusSeeOther {
		t.Errorf("GET /admin/ after 13 h = %d; want 303 to sign in again", w.Code)
	}
	forged := &http.Cookie{Name: "gw_admin", Value: strings.Repeat("A", 43)}
	if w := e.get(t, "/admin/", forged); w.Code != http.StatusSeeOther {
		t.Errorf("GET /admin/ with a made-up session = %d; want 303", w.Code)
	}
}

func TestAdminAuthHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string // config's auth_header
		addr   string
		value  string
		want   int
	}{
		{"from trusted proxy", "X-Auth-User", proxyAddr, "alice", http.StatusOK},
		{"from untrusted peer", "X-Auth-User", staffAddr, "alice", http.StatusSeeOther},
		{"empty value", "X-Auth-User", proxyAddr, "", http.StatusSeeOther},
		{"not configured", "", proxyAddr, "alice", http.StatusSeeOther},
		{"control characters", "X-Auth-User", proxyAddr, "al\x01ice", http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustAdmin(t, func(c *config.Config) { c.Admin.AuthHeader = tc.header })
			r := adminReq(http.MethodGet, "/admin/", nil)
			r.RemoteAddr = tc.addr
			r.Header.Set("X-Auth-User", tc.value)
			w := e.do(r)
			if w.Code != tc.want {
				t.Fatalf("GET /admin/ %s = %d; want %d", tc.name, w.Code, tc.want)
			}
			if tc.want == http.StatusOK {
				if got := parseDoc(t, w.Body.String()).Find(`[data-testid=user]`).Text(); !strings.Contains(got, tc.value) {
					t.Errorf("header shows user %q; want %q", got, tc.value)
				}
			}
		})
	}
}

func TestAdminDepsRequired(t *testing.T) {
	e := mustAdmin(t)
	for _, tc := range []struct {
		field string
		clear func(*admin.Deps)
	}{
		{"Config", func(d *admin.Deps) { d.Config = nil }},
		{"Catalog", func(d *admin.Deps) { d.Catalog = nil }},
		{"Assets", func(d *admin.Deps) { d.Assets = nil }},
		{"Store", func(d *admin.Deps) { d.Store = nil }},
		{"Status", func(d *admin.Deps) { d.Status = nil }},
		{"Evidence", func(d *admin.Deps) { d.Evidence = nil }},
		{"Gatherer", func(d *admin.Deps) { d.Gatherer = nil }},
		{"Clock", func(d *admin.Deps) { d.Clock = nil }},
		{"Logger", func(d *admin.Deps) { d.Logger = nil }},
	} {
		d := e.deps
		tc.clear(&d)
		if _, err := admin.New(d); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New without %s = %v; want an error naming it", tc.field, err)
		}
	}
}
