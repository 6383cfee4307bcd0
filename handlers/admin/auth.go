package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/safeurl"
	"github.com/gatewatch/gatewatch/internal/signin"
	"github.com/gatewatch/gatewatch/internal/trust"
)

// Session and form limits.
const (
	// sessionTTL is how long a sign-in lasts: a working day, after which
	// staff sign in again.
	sessionTTL = 12 * time.Hour
	// loginFormTTL is how long a sign-in form's CSRF cookie lives.
	loginFormTTL = time.Hour
	// maxFormBytes bounds a POST body: a user name, a password, two tokens.
	maxFormBytes = 16 << 10
	// maxUserName bounds user names from forms and the auth header.
	maxUserName = signin.MaxUserName
)

// Cookie names. Under TLS the session cookie takes the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain: no sibling host
// or plain-HTTP page can set or overwrite it.
const (
	sessionCookie    = "gw_admin"
	loginCookie      = "gw_login"
	hostCookiePrefix = "__Host-"
)

// principal is who a request acts for.
type principal struct {
	user      string
	csrf      string
	sessionID string // empty when an authenticating proxy vouched for the user
}

type principalKey struct{}

func principalFrom(r *http.Request) (principal, bool) {
	p, ok := r.Context().Value(principalKey{}).(principal)
	return p, ok
}

// authenticate finds the request's user: the trusted auth header first
// (only from a trusted proxy, and only when configured), then the session
// cookie.
func (d *adminDeps) authenticate(r *http.Request) (principal, bool) {
	if h := d.Config.Admin.AuthHeader; h != "" && d.trust.Trusted(r.RemoteAddr) {
		if u := r.Header.Get(h); validUserName(u) {
			return principal{user: u, csrf: d.headerCSRF(u)}, true
		}
	}
	// Under TLS only the __Host- cookie counts: a plain-HTTP page on a
	// sibling host could set the unprefixed one.
	name := sessionCookie
	if d.secure(r) {
		name = hostCookiePrefix + sessionCookie
	}
	c, err := r.Cookie(name)
	if err != nil {
		return principal{}, false
	}
	s, ok := d.sessions.Get(r.Context(), c.Value, d.Clock.Now())
	if !ok {
		return principal{}, false
	}
	return principal{user: s.User, csrf: s.CSRF, sessionID: c.Value}, true
}

// headerCSRF is the CSRF token of a proxy-authenticated user, who has no
// session to keep one in: an HMAC of the name under a per-process key.
func (d *adminDeps) headerCSRF(user string) string {
	m := hmac.New(sha256.New, d.csrfKey)
	m.Write([]byte("csrf\x00" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func validUserName(s string) bool {
	if s == "" || len(s) > maxUserName {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func withPrincipal(r *http.Request, p principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// requirePage lets signed-in users through and sends everyone else to the
// sign-in form, keeping the link they followed so that they land on it.
func (d *adminDeps) requirePage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := d.authenticate(r); ok {
			next.ServeHTTP(w, withPrincipal(r, p))
			return
		}
		target := adminLoginPath
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		seeOther(w, target)
	})
}

// seeOther redirects without a body: http.Redirect would echo the target,
// and with it the path asked for, to a client that has not signed in.
func seeOther(w http.ResponseWriter, target string) {
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

// requireAPI lets signed-in users through, and clients with HTTP Basic
// credentials of an [[admin.user]] (scripts, Prometheus), under the same
// rate limits as the sign-in form. Everyone else gets 401.
func (d *adminDeps) requireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := d.authenticate(r); ok {
			next.ServeHTTP(w, withPrincipal(r, p))
			return
		}
		if user, pw, ok := r.BasicAuth(); ok {
			switch ok, wait := d.checkPassword(r, user, pw); {
			case wait > 0:
				w.Header().Set("Retry-After", retryAfter(wait))
				d.Error(w, r, httpx.Errorf(http.StatusTooManyRequests, "too many failed sign-in attempts"))
				return
			case ok:
				next.ServeHTTP(w, withPrincipal(r, principal{user: user}))
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="gatewatch admin", charset="UTF-8"`)
		d.Error(w, r, httpx.Errorf(http.StatusUnauthorized, "sign in, or send HTTP Basic credentials of an admin user"))
	})
}

// requireMetrics lets a scraper presenting admin.metrics_token as a
// bearer token through, outside the sign-in limits; anything else is
// requireAPI's business.
func (d *adminDeps) requireMetrics(next http.Handler) http.Handler {
	api := d.requireAPI(next)
	token := d.Config.Admin.MetricsToken
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token != "" {
			if !tokensEqual(got, token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatewatch metrics"`)
				d.Error(w, r, httpx.Errorf(http.StatusUnauthorized, "wrong metrics token"))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// requireCSRF rejects a POST whose form lacks the principal's CSRF token.
// It runs after requirePage, which put the principal in the context.
func (d *adminDeps) requireCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principalFrom(r)
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !ok || r.ParseForm() != nil || !tokensEqual(r.PostForm.Get("csrf"), p.csrf) {
			d.Error(w, r, httpx.Errorf(http.StatusForbidden, "forbidden: missing or wrong CSRF token; reload the page and try again"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokensEqual compares a submitted token with the expected one in
// constant time; an empty expected token never matches.
func tokensEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// secure reports whether the client reached the admin listener over TLS:
// directly, through a trusted proxy that says so, or as admin_url promises.
func (d *adminDeps) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if d.trust.Trusted(r.RemoteAddr) && r.Header.Get("X-Forwarded-Proto") == "https" {
		return true
	}
	return strings.HasPrefix(d.Config.Server.AdminURL, "https://")
}

// cookie builds an admin cookie: HttpOnly, SameSite=Strict (a link from
// another site arrives without it, so it can neither read nor post), and
// under TLS Secure with the __Host- prefix.
func (d *adminDeps) cookie(r *http.Request, name, value, path string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, SameSite: http.SameSiteStrictMode}
	if d.secure(r) {
		c.Secure = true
		if path == "/" {
			c.Name = hostCookiePrefix + name
		}
	}
	switch {
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	case maxAge < 0:
		c.MaxAge = -1
	}
	return c
}

// clientKey is the rate-limit key of the client: its address, or for IPv6
// its /64, which one host can fill with addresses at will. X-Real-IP
// counts only from admin.trusted_proxies: the public listener's proxies
// are not the admin's, and a client that set it would choose its key.
func (d *adminDeps) clientKey(r *http.Request) string {
	ip, ok := trust.PeerIP(r.RemoteAddr)
	if ok && d.realIPTrust.Trusted(r.RemoteAddr) {
		if fwd, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
			ip = fwd.Unmap()
		}
	}
	if !ok {
		return "?"
	}
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// checkPassword verifies a sign-in attempt under the per-address and
// per-user limits. wait > 0 means the attempt was refused unchecked and
// says when to try again. A correct password gives its tokens back, so only
// failures count against the limits.
func (d *adminDeps) checkPassword(r *http.Request, user, password string) (ok bool, wait time.Duration) {
	res, wait := d.limits.Reserve(r.Context(), d.clientKey(r), user, d.Clock.Now())
	if wait > 0 {
		return false, wait
	}
	if !validUserName(user) {
		return false, 0
	}
	if d.verifier.Verify(r.Context(), user, password) {
		res.Refund(r.Context())
		return true, 0
	}
	return false, 0
}

func retryAfter(wait time.Duration) string {
	return strconv.Itoa(int((wait + time.Second - 1) / time.Second))
}

// safeNext returns next when it is a path on this admin listener, and the
// dashboard otherwise, so that the sign-in form cannot be turned into an
// open redirect (//evil.example, /\evil.example, https://…).
func safeNext(next string) string {
	if !safeurl.IsLocal(next) {
		return adminHome
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return adminHome
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, adminHome) || clean == adminLoginPath || clean == adminLogout {
		return adminHome
	}
	return next
}

// handleLoginForm serves GET /admin/login. A signed-in user goes straight
// on; otherwise the form carries a CSRF token that is also set as a cookie
// scoped to the form, since there is no session to keep it in yet.
func handleLoginForm(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := safeNext(r.URL.Query().Get("next"))
		if _, ok := d.authenticate(r); ok {
			seeOther(w, next)
			return
		}
		d.renderLogin(w, r, http.StatusOK, loginState{next: next})
	})
}

// loginState is what the sign-in form shows again after an attempt.
type loginState struct {
	next, user, errorID string
	wait                time.Duration
}

// loginToken returns the form's CSRF token, reusing the cookie's so that
// several open tabs keep working.
func (d *adminDeps) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := signin.RandomToken()
	http.SetCookie(w, d.cookie(r, loginCookie, tok, adminLoginPath, loginFormTTL))
	return tok
}

// handleLogin serves POST /admin/login.
func handleLogin(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			d.Error(w, r, httpx.Errorf(http.StatusBadRequest, "bad form"))
			return
		}
		f := r.PostForm
		st := loginState{next: safeNext(f.Get("next")), user: strings.ToValidUTF8(httpx.Clip(f.Get("user"), maxUserName), "")}
		cookieTok := ""
		if c, err := r.Cookie(loginCookie); err == nil {
			cookieTok = c.Value
		}
		if !tokensEqual(f.Get("csrf"), cookieTok) {
			st.errorID = "admin.login.expired"
			d.renderLogin(w, r, http.StatusForbidden, st)
			return
		}
		ok, wait := d.checkPassword(r, f.Get("user"), f.Get("password"))
		switch {
		case wait > 0:
			st.errorID, st.wait = "admin.login.rate_limited", wait
			w.Header().Set("Retry-After", retryAfter(wait))
			d.renderLogin(w, r, http.StatusTooManyRequests, st)
			return
		case !ok:
			d.Logger.Info("admin sign-in failed", "user", st.user, "client", d.clientKey(r))
			st.errorID = "admin.login.failed"
			d.renderLogin(w, r, http.StatusUnauthorized, st)
			return
		}
		id, _, err := d.sessions.Create(r.Context(), f.Get("user"), d.Clock.Now())
		if err != nil {
			d.Logger.Warn("admin sign-in: cannot store the session", "user", st.user, "err", err)
			d.Error(w, r, &httpx.StatusError{Code: http.StatusServiceUnavailable, Detail: "sign-in unavailable: the store does not answer; try again", Err: err, Logged: true})
			return
		}
		http.SetCookie(w, d.cookie(r, sessionCookie, id, "/", sessionTTL))
		http.SetCookie(w, d.cookie(r, loginCookie, "", adminLoginPath, -1))
		d.Logger.Info("admin signed in", "user", st.user, "client", d.clientKey(r))
		seeOther(w, st.next)
	})
}

// handleLogout serves POST /admin/logout: the session ends on the server,
// not just in the browser.
func handleLogout(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := principalFrom(r); ok && p.sessionID != "" {
			if err := d.sessions.Delete(r.Context(), p.sessionID); err != nil {
				d.Logger.Warn("admin sign-out: cannot delete the session", "user", p.user, "err", err)
			}
		}
		http.SetCookie(w, d.cookie(r, sessionCookie, "", "/", -1))
		seeOther(w, adminLoginPath)
	})
}
