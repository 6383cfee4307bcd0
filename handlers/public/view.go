package public

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
	"github.com/gatewatch/gatewatch/static"
)

// Paths of the public endpoints under /_gatewatch/.
const (
	statusPath    = "/_gatewatch/api/v1/status"
	clearDataPath = "/_gatewatch/clear-site-data"
)

// keySep marks keyboard keys inside a localized sentence, so that the
// page can show them as key caps without markup in translations.
const keySep = "\x1f"

// request is everything one error response is built from.
type request struct {
	p     proxied.Request
	site  *config.Site
	lang  locales.Language
	tr    locales.Translator
	now   time.Time
	langs []locales.Language
	// The verdict's evidence and decision, for pages of a failed site:
	// the upstream the failure came from ("" if unknown), the request's
	// own cause, the application's Retry-After in seconds, the monitor's
	// view of that upstream.
	upstream string
	own      cause.Class
	appRetry int
	view     monitor.UpstreamView
	dec      cause.Decision
	// unsafe: the failed request was a form submission (not GET, HEAD,
	// OPTIONS or TRACE): never suggest anything that resubmits it.
	unsafe bool
	// quiet: the request is shown a page but leaves no trace (an
	// untrusted peer on /_gatewatch/error/{code}): no event, no visit.
	quiet bool
	// visitor is the visitor's key as the monitor hashed it when it
	// counted the visit (hasVisitor), for the event: hashed once.
	visitor    [16]byte
	hasVisitor bool
	// pinned is the upstream ingress-nginx named (by its service), which
	// wins over the one the reported address points at.
	pinned string
	// timeText and mailURL are the reference time and the page's address
	// as the page shows them; marks when preparing a page.
	timeText string
	isoText  string
	mailURL  string
}

// copy is the localized text of an error response, shared by the page,
// problem details and plain text.
type copyText struct {
	Badge, Headline, Lead string
}

func errorCopy(tr locales.Translator, code int) copyText {
	// The code is read as a number: in the language's own digits (fa ۵۰۲).
	data := map[string]any{"Code": tr.Lang.Number(strconv.Itoa(code))}
	key := "5xx"
	switch {
	case code == 500 || code == 502 || code == 503 || code == 504 || code == 404:
		key = fmt.Sprint(code)
	case code < 500:
		key = "4xx"
	}
	return copyText{
		Badge:    tr.T("error.badge", data),
		Headline: tr.T("error."+key+".headline", data),
		Lead:     tr.T("error."+key+".lead", data),
	}
}

// siteDown reports whether code means the site (not the request) failed,
// which is when "is it down for everyone?" and the retry steps apply.
func siteDown(code int) bool { return code >= 500 }

// pageValues are the page model's per-request values that the request
// struct does not carry: markValues when a page is prepared (see
// prepared.go), a request's own for a direct render, which the
// differential fuzz test compares the prepared page with. The method, the
// URI, the reference, its times and the mail address travel in request
// (p.Method, p.URI, p.RequestID, timeText, isoText, mailURL), as marks or
// as values alike.
type pageValues struct {
	retryAfter   string          // seconds
	verdict      templ.Component // the verdict section
	announcement templ.Component // the staff's announcements
	path         string          // the language switcher's form action
	hidden       templ.Component // its hidden inputs for the failed URL's query
	statusURL    string          // the poll URL
}

// markValues prepare a page: every per-request value is its slot's mark,
// the sections' marks written as they are (templ.Raw: a mark is not
// markup, and prepare cuts it out).
var markValues = pageValues{
	retryAfter: marks[slotRetryAfter], verdict: templ.Raw(marks[slotVerdict]), announcement: templ.Raw(marks[slotAnnounce]),
	path: marks[slotPath], hidden: templ.Raw(marks[slotHidden]), statusURL: marks[slotStatusURL],
}

// buildPage builds the page model from q and v: with markValues (and
// marks in q), the model of a prepared page.
func buildPage(q *request, v pageValues, assets *static.Set, logo string, adminURL string) *pages.ErrorPage {
	tr, code := q.tr, q.p.Code
	c := errorCopy(tr, code)
	m := &pages.ErrorPage{
		Lang:      q.lang.Code,
		Dir:       q.lang.Dir,
		Code:      code,
		Method:    q.p.Method,
		Badge:     c.Badge,
		Headline:  c.Headline,
		Lead:      c.Lead,
		StyleURL:  assets.URL("css/gatewatch.css"),
		ScriptURL: assets.URL("js/gatewatch.js"),
		IconURL:   assets.URL("img/favicon.svg"),
		Brand: pages.Brand{
			Title:    q.site.Brand.Title,
			Initial:  initial(q.site.Brand.Title),
			LogoURL:  logo,
			HomeURL:  "/",
			Primary:  q.site.Brand.Colors.Primary,
			PrimaryD: q.site.Brand.Colors.PrimaryDark,
		},
	}
	m.Announcement = v.announcement
	m.Title = tr.T("page.title", map[string]any{"Code": tr.Lang.Number(strconv.Itoa(code)), "Headline": c.Headline, "Site": q.site.Brand.Title})
	if siteDown(code) {
		m.Verdict = v.verdict
		m.Live = buildLive(tr, q)
		m.Live.StatusURL, m.Live.RetryAfter = v.statusURL, v.retryAfter
		m.Steps = downSteps(q)
	} else {
		m.Steps = requestSteps(q)
	}
	m.Ref = buildReference(q, adminURL)
	m.Langs = buildLangSwitch(q, v.path, v.hidden)
	return m
}

func initial(title string) string {
	r, _ := utf8.DecodeRuneInString(title)
	if r == utf8.RuneError {
		return "?"
	}
	return strings.ToUpper(string(r))
}

func buildLive(tr locales.Translator, q *request) pages.Live {
	return pages.Live{
		StatusURL:  marks[slotStatusURL],
		Next:       tr.T("live.next_check", map[string]any{"Time": "{time}"}),
		Checking:   tr.T("live.checking", nil),
		Back:       tr.T("live.back", nil),
		BackPost:   tr.T("live.back_post", nil),
		Continue:   tr.T("live.continue", nil),
		Stopped:    tr.T("live.stopped", nil),
		CheckAgain: tr.T("live.check_again", nil),
	}
}

func buildReference(q *request, adminURL string) pages.Reference {
	tr := q.tr
	r := pages.Reference{
		Label:     tr.T("ref.label", nil),
		ID:        q.p.RequestID,
		TimeLabel: tr.T("ref.time", nil),
		Time:      q.timeText,
		ISO:       q.isoText,
		Copy:      tr.T("ref.copy", nil),
		Copied:    tr.T("ref.copied", nil),
		Hint:      tr.T("ref.hint", nil),
	}
	r.CopyText = r.Label + ": " + r.ID + "\n" + r.TimeLabel + ": " + r.Time
	if adminURL != "" {
		// References are [A-Za-z0-9._-] (validRequestID): path-safe as
		// they are. Site and time find the request's incident when the
		// request was only counted (past store.event_rows_per_second).
		r.StaffURL = strings.TrimSuffix(adminURL, "/") + "/admin/r/" + q.p.RequestID +
			"?site=" + url.QueryEscape(q.site.Name) + "&at=" + q.isoText
		r.StaffText = tr.T("ref.staff", nil)
	}
	return r
}

// refTimeLayout is how the reference time is shown and mailed: UTC, so
// that staff in any zone read it the same.
const refTimeLayout = "2006-01-02 15:04:05 UTC"

// maxKeptParams bounds the query parameters the language switcher carries
// over from the failed URL.
const maxKeptParams = 20

// buildLangSwitch is the language picker: a GET form to action that
// keeps the failed URL's query through hidden.
func buildLangSwitch(q *request, action string, hidden templ.Component) pages.LangSwitch {
	ls := pages.LangSwitch{
		Label:  q.tr.T("lang.label", nil),
		Submit: q.tr.T("lang.submit", nil),
		Action: action,
		Hidden: hidden,
	}
	for _, l := range q.langs {
		ls.Options = append(ls.Options, pages.LangOption{Code: l.Code, Name: l.Name, Selected: l.Code == q.lang.Code})
	}
	return ls
}
