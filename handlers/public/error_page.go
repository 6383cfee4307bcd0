package public

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident/record"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

// langCookie remembers a language the visitor picked in the switcher:
// Path=/, as the switcher submits to the failed page's own path and the
// next error may come on any path of the site (see locales.CookieName).
const langCookie = locales.CookieName

// langCookieAge is how long that choice is remembered.
const langCookieAge = 365 * 24 * time.Hour

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// handleErrorPage serves every path that is not under /_gatewatch/: the
// error page for the code nginx passed in X-Code (502 by default), in the
// visitor's language and the format their client asked for.
func handleErrorPage(d *publicDeps) http.Handler {
	langs := d.catalog.Languages()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := readProxied(r, d.trust)
		record := fromErrorRoute(r, &p)
		site, pinned := d.siteFor(&p)
		q := &request{p: p, site: site, now: d.clock.Now(), langs: langs, quiet: !record, pinned: pinned, upstream: pinned}
		q.lang = d.negotiate(r, site)
		q.tr = d.catalog.Translator(q.lang)
		q.unsafe = unsafeMethod(p.Method)
		if siteDown(p.Code) {
			d.judge(r.Context(), q)
		}
		if l := queryValue(r.URL.RawQuery, "lang"); l != "" && l == q.lang.Code {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q.lang.Code, Path: "/",
				MaxAge: int(langCookieAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.Proto == "https"})
		}
		f := d.negotiateFormat(r)
		h := w.Header()
		d.commonHeaders(h, p, q)
		switch f {
		case formatProblem:
			d.writeProblem(w, r, q)
		case formatText:
			d.writeText(w, r, q)
		default:
			d.writePage(w, r, q)
		}
		d.pagesServed(site.Name, p.Code, q.lang.Code, f)
		if record {
			d.record(q)
		}
	})
}

// record hands the event of this response to the recorder. nginx's
// upstream variables are kept as evidence for staff; they never reach
// the visitor.
func (d *publicDeps) record(q *request) {
	p := q.p
	if !q.hasVisitor {
		// A page the monitor was not told of (a 4xx): hashed here.
		q.visitor = d.status.VisitorKey(p.ClientIP, p.UserAgent)
	}
	path, _, _ := strings.Cut(p.URI, "?")
	ev := record.Event{
		Time:                q.now.UTC(),
		Site:                q.site.Name,
		Upstream:            q.upstream,
		Host:                p.Host,
		Path:                path,
		Method:              p.Method,
		Code:                p.Code,
		RequestID:           p.RequestID,
		NginxConn:           p.NginxConn,
		UpstreamAddr:        p.Upstream.Addr,
		UpstreamStatus:      p.Upstream.Status,
		UpstreamConnectTime: p.Upstream.ConnectTime,
		Locale:              q.lang.Code,
		VisitorKey:          q.visitor,
		Browser:             p.Browser,
	}
	if ev.Upstream == "" {
		ev.Upstream = upstreamFor(q.site, p.Upstream.Addr)
	}
	// The request's own evidence first: the store derives the cause from
	// nginx's variables, except maintenance, which needs the upstream's
	// Retry-After it does not keep. Without any, the probe of its
	// upstream, if that saw it down.
	switch {
	case q.own == cause.Maintenance:
		ev.Cause = record.Cause{Source: record.SourceNginxVar, Class: string(q.own), Detail: record.Detail(q.own),
			Evidence: "upstream_status=" + p.Upstream.Status + " upstream_retry_after=" + p.Upstream.RetryAfter}
	case q.own == cause.Unknown && q.view.Probe == cause.ProbeDown && q.view.Class != "":
		ev.Cause = record.Cause{Source: record.SourceProbe, Class: string(q.view.Class), Detail: q.view.Detail}
	}
	d.events.Record(ev)
}

// upstreamFor names the configured upstream that nginx's $upstream_addr
// ("a:1, b:2 : c:3", last tried last) points at; a site with one upstream
// needs no match.
func upstreamFor(site *config.Site, reported string) string {
	// Splitting at commas and spaces leaves the " : " group separator as a
	// lone ":" token, which matches nothing.
	addrs := strings.FieldsFunc(reported, func(r rune) bool { return r == ',' || r == ' ' })
	for i := len(addrs) - 1; i >= 0; i-- {
		a := strings.TrimSpace(addrs[i])
		for _, u := range site.Upstreams {
			if slices.Contains(u.Addrs, a) {
				return u.Name
			}
		}
	}
	if len(site.Upstreams) == 1 {
		return site.Upstreams[0].Name
	}
	return ""
}

// negotiate picks the language for one request, falling back to the
// site's own default before the server's.
func (d *publicDeps) negotiate(r *http.Request, site *config.Site) locales.Language {
	cookie := cookieValue(httpx.HV(r.Header, "Cookie"), langCookie)
	if l, ok := d.catalog.Match(queryValue(r.URL.RawQuery, "lang"), cookie, httpx.HV(r.Header, "Accept-Language")); ok {
		return l
	}
	return SiteLanguage(d.catalog, site)
}

// Header values shared by every response. Assigning the same slices
// (never modified) instead of calling Header.Set saves an allocation each.
var (
	hdrNoIndex = []string{"noindex, nofollow"}
	hdrVary    = []string{"Accept, Accept-Encoding, Accept-Language, Cookie, X-Format"}
	hdrSeconds = func() (s [301][]string) {
		for i := range s {
			s[i] = []string{strconv.Itoa(i)}
		}
		return s
	}()
)

// statusPrefix returns the request's poll URL prefix, built once per
// site, upstream and language.
func (d *publicDeps) statusPrefix(q *request) string {
	k := statusKey{q.site.Name, q.upstream, q.lang.Code}
	if p, ok := d.prefixes.Get(k); ok {
		return p
	}
	p := statusPrefix(k.site, k.upstream, k.lang)
	d.prefixes.Add(k, p)
	return p
}

// secondsHeader is a header value of n seconds, shared for small n.
func secondsHeader(n int) []string {
	if n >= 0 && n < len(hdrSeconds) {
		return hdrSeconds[n]
	}
	return []string{strconv.Itoa(n)}
}

// retryAfter is when the visitor's page should ask again, in seconds.
func (q *request) retryAfter() int {
	return pollSeconds(q.dec, q.view, q.appRetry, q.now, q.now)
}

// commonHeaders sets the headers of every error response but the
// security headers, which httpx.SecurityHeaders set before (the page
// replaces its Content-Security-Policy). Keys are in canonical form, as
// Header.Set would store them.
func (d *publicDeps) commonHeaders(h http.Header, p proxied.Request, q *request) {
	h["Cache-Control"] = httpx.HdrNoStore
	if p.RequestIDHeader != nil {
		h["X-Request-Id"] = p.RequestIDHeader
	} else {
		h["X-Request-Id"] = []string{p.RequestID}
	}
	h["X-Robots-Tag"] = hdrNoIndex
	h["Content-Language"] = d.langHeaders[q.lang.Code]
	h["Vary"] = hdrVary
	switch p.Code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		h["Retry-After"] = secondsHeader(q.retryAfter())
	}
}

// pageCSP allows the page's own style sheet and script, its one inline
// style (the site's colors, see pages.BrandVars) by hash, and fetches to
// its own origin: nothing else inline, nothing from elsewhere. A page is
// the same for every request of its variant but for escaped request
// values, so a hash serves where a per-response nonce would cost an
// allocation and a random read per page.
func pageCSP(site *config.Site) string {
	style := "'self'"
	if h := brandHash(site); h != "" {
		style += " " + h
	}
	return "default-src 'none'; script-src 'self'; style-src " + style +
		"; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// writePage serves the HTML page from its prepared form.
func (d *publicDeps) writePage(w http.ResponseWriter, r *http.Request, q *request) {
	pg, err := d.page(r.Context(), q)
	if err != nil {
		// A page that cannot render still owes the visitor an answer.
		d.logger.Error("render error page", "err", err, "request_id", q.p.RequestID)
		d.writeText(w, r, q)
		return
	}
	f := d.fillFor(r.Context(), q)
	bufs := pagePool.Get().(*pageBufs)
	h := w.Header()
	var b []byte
	if static.AcceptsGzip(httpx.HV(r.Header, "Accept-Encoding")) {
		b = pg.appendGzip(bufs.page[:0], &bufs.values, &f, d.framer)
		h["Content-Encoding"] = hdrGzip
	} else {
		b = pg.appendPage(bufs.page[:0], &f)
	}
	h["Content-Security-Policy"] = d.pageCSP[q.site.Name]
	h["Content-Type"] = htmlType
	h["Content-Length"] = d.lengthHeader(len(b))
	w.WriteHeader(q.p.Code)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
	bufs.page = b
	pagePool.Put(bufs)
}

// fillFor is the request's values for the slots of its prepared page.
func (d *publicDeps) fillFor(ctx context.Context, q *request) fill {
	path, query, _ := strings.Cut(q.p.URI, "?")
	f := fill{
		method:     q.p.Method,
		retryAfter: q.retryAfter(),
		uri:        q.p.URI,
		path:       path,
		query:      query,
		refID:      q.p.RequestID,
		now:        q.now,
		lang:       q.lang,
		mailURL:    [4]string{q.p.Proto, "://", q.p.Host, q.p.URI},
	}
	if q.p.Host == "" {
		f.mailURL = [4]string{3: q.p.URI}
	}
	if siteDown(q.p.Code) {
		f.verdict, f.verdictZ = d.verdict(ctx, q)
		f.statusPrefix = d.statusPrefix(q)
		f.kind, f.failedAt, f.appRetry = q.own.Kind(), q.now, q.appRetry
	}
	f.announce, f.announceZ = d.announceSection(ctx, q)
	return f
}

// maxCachedLengths bounds the Content-Length values kept: a page's
// length varies with the request only by its escaped values, so the few
// lengths a storm sees are formatted once instead of once per response.
const maxCachedLengths = 1024

// lengthHeader returns the Content-Length value for n bytes. Callers must
// not modify it: it is shared by every response of that length.
func (d *publicDeps) lengthHeader(n int) []string {
	if v, ok := d.lengths.Get(n); ok {
		return v
	}
	v := []string{strconv.Itoa(n)}
	d.lengths.Add(n, v)
	return v
}

// pageBufs are one response's buffers, reused across requests.
type pageBufs struct {
	page   []byte
	values values
}

var (
	htmlType = []string{"text/html; charset=utf-8"}
	hdrGzip  = []string{"gzip"}
	pagePool = sync.Pool{New: func() any {
		return &pageBufs{page: make([]byte, 0, 16<<10), values: values{buf: make([]byte, 0, 1<<10), ends: make([]int, 0, 32)}}
	}}
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Instance   string `json:"instance"`
	RequestID  string `json:"request_id"`
	Time       string `json:"time"`
	RetryAfter int    `json:"retry_after,omitempty"`
	Verdict    string `json:"verdict,omitempty"`
	// Announcements are the staff's messages for this page.
	Announcements []announceJSON `json:"announcements,omitempty"`
}

func (d *publicDeps) writeProblem(w http.ResponseWriter, r *http.Request, q *request) {
	c := errorCopy(q.tr, q.p.Code)
	pr := problem{
		Type:      "about:blank",
		Title:     http.StatusText(q.p.Code),
		Status:    q.p.Code,
		Detail:    c.Headline + ". " + c.Lead,
		Instance:  "urn:gatewatch:request:" + q.p.RequestID,
		RequestID: q.p.RequestID,
		Time:      q.now.UTC().Format(time.RFC3339),
	}
	if pr.Title == "" {
		pr.Title = c.Badge
	}
	if items, _, _ := d.announceItems(q); len(items) > 0 {
		pr.Announcements = announcementsJSON(q.tr, items)
	}
	if siteDown(q.p.Code) {
		pr.RetryAfter = q.retryAfter()
		pr.Verdict = string(q.dec.Verdict)
	}
	b, err := json.Marshal(pr)
	if err != nil {
		d.logger.Error("encode problem", "err", err)
		b = []byte(`{"status":` + strconv.Itoa(q.p.Code) + `}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(q.p.Code)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

func (d *publicDeps) writeText(w http.ResponseWriter, r *http.Request, q *request) {
	c := errorCopy(q.tr, q.p.Code)
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	buf.WriteString(c.Badge + " · " + c.Headline + "\n\n")
	if items, _, _ := d.announceItems(q); len(items) > 0 {
		buf.WriteString(announceText(q.tr, items))
	}
	buf.WriteString(c.Lead + "\n")
	if siteDown(q.p.Code) {
		// The detail speaks of the page's steps, which text does not have.
		answer, _, affected := verdictText(q.tr, q.dec, q.view.Affected, q.view.Window)
		buf.WriteString("\n" + answer + "\n")
		if affected != "" {
			buf.WriteString(affected + "\n")
		}
	}
	buf.WriteString("\n" + q.tr.T("ref.label", nil) + ": " + q.p.RequestID + "\n")
	buf.WriteString(q.tr.T("ref.time", nil) + ": " + q.now.UTC().Format(refTimeLayout) + "\n")
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(q.p.Code)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}
