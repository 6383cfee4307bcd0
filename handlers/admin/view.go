package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
)

// adminCSP is the admin pages' policy. They have no scripts and no inline
// styles at all, so unlike the public page they need no nonce: styles from
// the listener itself, forms posting to it, nothing else.
const adminCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"base-uri 'none'; frame-ancestors 'none'"

// storeTimeout bounds the store queries of one admin page.
const storeTimeout = 5 * time.Second

// adminView is one admin request's localization and clock.
type adminView struct {
	d    *adminDeps
	tr   locales.Translator
	lang locales.Language
	now  time.Time
	who  principal
}

// view prepares an admin request. Staff get their browser's language;
// there is no switcher, as each staff member reads their own.
func (d *adminDeps) view(r *http.Request) *adminView {
	lang, ok := d.Catalog.Match("", "", r.Header.Get("Accept-Language"))
	if !ok {
		lang = d.Catalog.Default()
	}
	p, _ := principalFrom(r)
	return &adminView{d: d, tr: d.Catalog.Translator(lang), lang: lang, now: d.Clock.Now(), who: p}
}

// frame is the shared part of every signed-in page.
func (v *adminView) frame(title, query string) pages.AdminFrame {
	f := v.baseFrame(title)
	f.Search = &pages.SearchBox{
		Action:      adminSearch,
		Name:        "q",
		Label:       v.tr.T("admin.search.label", nil),
		Placeholder: v.tr.T("admin.search.placeholder", nil),
		Submit:      v.tr.T("admin.search.submit", nil),
		Value:       query,
	}
	if v.who.user != "" {
		f.User = v.tr.T("admin.nav.signed_in", map[string]any{"User": v.who.user})
	}
	f.Nav = []pages.Link{{URL: adminAnnounce, Text: v.tr.T("admin.nav.announcements", nil)}}
	if v.who.sessionID != "" {
		f.Logout = &pages.PostForm{Action: adminLogout, CSRF: v.who.csrf, Button: v.tr.T("admin.nav.logout", nil)}
	}
	return f
}

func (v *adminView) baseFrame(title string) pages.AdminFrame {
	a := v.d.Assets
	f := pages.AdminFrame{
		Lang:      v.lang.Code,
		Dir:       v.lang.Dir,
		Title:     title + " · gatewatch",
		IconURL:   a.URL("img/favicon.svg"),
		Product:   "gatewatch",
		HomeURL:   adminHome,
		HomeLabel: v.tr.T("admin.nav.dashboard", nil),
	}
	for _, css := range []string{"css/gatewatch.css", "css/admin.css"} {
		if u := a.URL(css); u != "" {
			f.StyleURLs = append(f.StyleURLs, u)
		}
	}
	return f
}

// render writes an admin page. Pages are built in full before the status
// line goes out, so that a failed render is still a clean 500.
func (d *adminDeps) render(w http.ResponseWriter, r *http.Request, status int, lang string, c templ.Component) {
	var buf bytes.Buffer
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Vary", "Accept-Language, Cookie")
	if err := c.Render(r.Context(), &buf); err != nil {
		d.Error(w, r, &httpx.StatusError{Code: http.StatusInternalServerError, Detail: "internal error", Err: fmt.Errorf("render admin page: %w", err)})
		return
	}
	h.Set("Content-Security-Policy", adminCSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// message renders a page that only says something, with the search box.
func (v *adminView) message(w http.ResponseWriter, r *http.Request, status int, heading, text, query string) {
	m := &pages.AdminMessage{Frame: v.frame(heading, query), Heading: heading, Text: text}
	v.d.render(w, r, status, v.lang.Code, pages.AdminMessageView(m))
}

func (d *adminDeps) storeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), storeTimeout)
}

// renderLogin shows the sign-in form, with a message after a failed try.
func (d *adminDeps) renderLogin(w http.ResponseWriter, r *http.Request, status int, st loginState) {
	v := d.view(r)
	title := v.tr.T("admin.login.title", nil)
	m := &pages.AdminLogin{
		Frame:         v.baseFrame(title),
		Heading:       v.tr.T("admin.login.heading", nil),
		Action:        adminLoginPath,
		CSRF:          d.loginToken(w, r),
		Next:          st.next,
		UserLabel:     v.tr.T("admin.login.user", nil),
		PasswordLabel: v.tr.T("admin.login.password", nil),
		Submit:        v.tr.T("admin.login.submit", nil),
		User:          st.user,
	}
	if st.errorID != "" {
		// Rounded up to whole minutes: "try again in 1 minute" after a
		// 20-second wait is honest, "less than a minute" reads as "now".
		wait := (st.wait + time.Minute - 1) / time.Minute * time.Minute
		m.Error = v.tr.T(st.errorID, map[string]any{"Wait": v.duration(wait)})
	}
	d.render(w, r, status, v.lang.Code, pages.AdminLoginView(m))
}

// adminTimeLayout shows times in UTC, as the visitor's reference does, so
// that staff compare like with like.
// adminTimeLayout is how staff see times: as the public page shows and
// mails a visitor's reference time, so that the two compare at a glance.
const adminTimeLayout = "2006-01-02 15:04:05 UTC"

func (v *adminView) time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return v.ltr(t.UTC().Format(adminTimeLayout))
}

// ltr isolates a left-to-right value (a time, an nginx variable name) in
// right-to-left pages, where the bidi algorithm would otherwise reorder
// its parts ("UTC 09:00:15 2026-11-22"). Isolate characters work inside
// sentences too, where markup cannot go.
func (v *adminView) ltr(s string) string {
	if v.lang.Dir != "rtl" || s == "" {
		return s
	}
	return "\u2066" + s + "\u2069"
}

// duration says how long in words, at the coarsest unit that fits.
func (v *adminView) duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return v.tr.T("admin.duration.under_minute", nil)
	case d < time.Hour:
		return v.tr.N("admin.duration.minutes", int(d/time.Minute), nil)
	case d < 48*time.Hour:
		return v.tr.N("admin.duration.hours", int(d/time.Hour), nil)
	}
	return v.tr.N("admin.duration.days", int(d/(24*time.Hour)), nil)
}

// since is "since TIME (DURATION)" for a state that began at t.
func (v *adminView) since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return v.tr.T("admin.upstream.since", map[string]any{"Time": v.time(t), "Duration": v.duration(v.now.Sub(t))})
}

// count formats a count, marking one that hit a bound as a minimum.
func count(n int64, atLeast bool) string {
	s := strconv.FormatInt(n, 10)
	if atLeast {
		return "≥" + s
	}
	return s
}

// writeJSON writes v as the API's answer. encoding/json escapes <, > and &,
// so visitor-controlled strings stay inert even if a browser sniffed them.
func (d *adminDeps) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		d.Error(w, r, &httpx.StatusError{Code: http.StatusInternalServerError, Err: fmt.Errorf("admin api: encode: %w", err)})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(append(b, '\n'))
	}
}
