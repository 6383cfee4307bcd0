package public

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/tdewolff/minify/v2"
	cssmin "github.com/tdewolff/minify/v2/css"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
	"github.com/gatewatch/gatewatch/static"
)

// StaticCodes are the codes pre-rendered for nginx to serve when gatewatch
// itself does not answer: those the generated include sends to gatewatch.
var StaticCodes = []int{500, 502, 503, 504}

// Static renders self-contained error pages (style inlined, no script, no
// live verdict: nothing that needs gatewatch running) for nginx's fallback
// when gatewatch is down. What each request brings (the reference, the
// time, the address to try again) is an SSI command that nginx fills in;
// see ssiCommands.
type Static struct {
	cfg     *config.Config
	catalog *locales.Catalog
	css     []byte
	// styleURL is where gatewatch serves css (hashed, immutable).
	styleURL string
}

// NewStatic prepares pre-rendering for cfg.
func NewStatic(cfg *config.Config, catalog *locales.Catalog, assets *static.Set) (*Static, error) {
	css, ok := assets.Get("css/gatewatch.css")
	if !ok {
		return nil, fmt.Errorf("static: gatewatch.css missing")
	}
	// Minified: every page carries it inline, and a proxy may have to
	// hold the whole page in one buffer (HAProxy: 15 KiB).
	m := minify.New()
	m.AddFunc("text/css", cssmin.Minify)
	small, err := m.Bytes("text/css", css.Body)
	if err != nil {
		return nil, fmt.Errorf("static: minify gatewatch.css: %w", err)
	}
	return &Static{cfg: cfg, catalog: catalog, css: small, styleURL: assets.URL("css/gatewatch.css")}, nil
}

// InlineStyle is the style element content of site's static pages: one
// line (minified), which HAProxy's map files keep as is.
func (s *Static) InlineStyle(site *config.Site) string {
	return string(s.css) + pages.BrandVars(site.Brand.Colors.Primary, site.Brand.Colors.PrimaryDark)
}

// StyleHash is the CSP source ('sha256-…') that allows site's inline style.
func (s *Static) StyleHash(site *config.Site) string {
	return hashSource(s.InlineStyle(site))
}

// hashSource is the CSP hash source that allows an inline element whose
// content is text.
func hashSource(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// StaticFill says what stands in a static page where the live page has
// what each request brings (the reference, the time, the address).
type StaticFill int

const (
	// FillSSI: nginx's SSI commands; see ssiCommands.
	FillSSI StaticFill = iota
	// FillHAProxy: HAProxy sample expressions between HAProxyCut bytes,
	// for `gatewatch render --format haproxy` to cut the page at and
	// interleave with the expressions in an http-error lf-string: the
	// reference is HAProxy's unique-id, the time its date. A map value
	// is fixed text, so only the reference block (the same in every
	// language) takes expressions; the e-mail link goes without them.
	FillHAProxy
	// FillNone: fixed bytes (HAProxy's errorfile, Envoy Gateway's
	// overrides): "Try again" reloads the same address, and there is no
	// reference.
	FillNone
)

// HAProxyCut encloses each HAProxy expression in a FillHAProxy page.
const HAProxyCut = "\x00"

// haproxyExprs are FillHAProxy's expressions, by slot.
var haproxyExprs = map[slot]string{
	slotRefID:   "%[unique-id]",
	slotRefTime: "%[date,utime(%Y-%m-%d %H:%M:%S UTC)]",
	slotRefISO:  "%[date,utime(%Y-%m-%dT%H:%M:%SZ)]",
}

// StaticOptions shape a static page for the proxy that serves it.
type StaticOptions struct {
	Fill StaticFill
	// LinkStyle links the style sheet (gatewatch serves it at
	// /_gatewatch/static/, through the same proxy) instead of inlining
	// it, keeping only the site's colors inline: for a page that must
	// fit a proxy's buffer (HAProxy's 15 KiB) and does not with the style.
	// Without gatewatch the page is then plain, but in full.
	LinkStyle bool
}

// Render returns nginx's page for site, language and code.
func (s *Static) Render(ctx context.Context, site *config.Site, lang locales.Language, code int) ([]byte, error) {
	return s.RenderWith(ctx, site, lang, code, StaticOptions{})
}

// LinkedStyleHash is the CSP source that allows the inline style of a
// LinkStyle page (the site's colors), or "" when it has none.
func (s *Static) LinkedStyleHash(site *config.Site) string { return brandHash(site) }

// brandHash is the CSP hash source of the style element with site's
// colors (pages.BrandVars), or "" when it has none: the one inline style
// of a page that links the style sheet, live or static.
func brandHash(site *config.Site) string {
	if vars := pages.BrandVars(site.Brand.Colors.Primary, site.Brand.Colors.PrimaryDark); vars != "" {
		return hashSource(vars)
	}
	return ""
}

// RenderWith returns the page for site, language and code, filled and
// styled as o says.
func (s *Static) RenderWith(ctx context.Context, site *config.Site, lang locales.Language, code int, o StaticOptions) ([]byte, error) {
	q := &request{
		p:    proxied.Request{Code: code, URI: marks[slotURI], Method: http.MethodGet, RequestID: marks[slotRefID]},
		site: site, lang: lang, tr: s.catalog.Translator(lang), langs: s.catalog.Languages(),
		timeText: marks[slotRefTime], isoText: marks[slotRefISO], mailURL: mailURLMark,
	}
	m := &pages.ErrorPage{
		Lang: lang.Code, Dir: lang.Dir, Code: code, Method: http.MethodGet,
		InlineStyle: s.InlineStyle(site),
		Brand: pages.Brand{Title: site.Brand.Title, Initial: initial(site.Brand.Title), HomeURL: "/",
			Primary: site.Brand.Colors.Primary, PrimaryD: site.Brand.Colors.PrimaryDark},
	}
	if o.LinkStyle {
		m.InlineStyle, m.StyleURL = "", s.styleURL
	}
	c := errorCopy(q.tr, code)
	m.Badge, m.Headline, m.Lead = c.Badge, c.Headline, c.Lead
	m.Title = q.tr.T("page.title", map[string]any{"Code": q.tr.Lang.Number(strconv.Itoa(code)), "Headline": c.Headline, "Site": site.Brand.Title})
	if o.Fill == FillSSI {
		m.Steps = staticSteps(q)
	} else {
		// No reference in the e-mail: a plain mailto link.
		noRef := *q
		noRef.p.RequestID = ""
		m.Steps = staticSteps(&noRef)
	}
	if o.Fill != FillNone {
		m.Ref = buildReference(q, "")
		// Copying takes the script, which a static page has not.
		m.Ref.Copy = ""
	}
	m.Langs = buildLangSwitch(q, marks[slotPath], nil)
	var buf bytes.Buffer
	if err := pages.ErrorPageView(m).Render(ctx, &buf); err != nil {
		return nil, err
	}
	page := buf.Bytes()
	if o.Fill == FillSSI {
		// A failed form submission: the warning, and no step that would
		// submit it again, when nginx's request was one (SSI's if).
		q.unsafe = true
		m.Steps = staticSteps(q)
		var post bytes.Buffer
		if err := pages.ErrorPageView(m).Render(ctx, &post); err != nil {
			return nil, err
		}
		page = ssiIfUnsafe(page, post.Bytes())
	}
	for at, sl := nextMark(page); at >= 0; at, sl = nextMark(page) {
		cmd, ok := s.fill(o.Fill, sl)
		if !ok {
			return nil, fmt.Errorf("static: the page has a slot (%d) that cannot be filled", sl)
		}
		page = slices.Concat(page[:at], []byte(cmd), page[at+len(marks[sl]):])
	}
	return page, nil
}

// ssiIfUnsafe is one page of safe (for a GET) and unsafe (for a form
// submission, which must not be repeated blindly): what they share,
// and where they differ, an SSI if on the failed request's method
// ($gw_method: the include's fallback serves the page as a GET). The cut is
// between elements, never inside a marker.
func ssiIfUnsafe(safe, unsafe []byte) []byte {
	pre := 0
	for pre < len(safe) && pre < len(unsafe) && safe[pre] == unsafe[pre] {
		pre++
	}
	pre = bytes.LastIndexByte(safe[:pre], '>') + 1
	suf := 0
	for suf < len(safe)-pre && suf < len(unsafe)-pre && safe[len(safe)-1-suf] == unsafe[len(unsafe)-1-suf] {
		suf++
	}
	if i := bytes.IndexByte(safe[len(safe)-suf:], '<'); i >= 0 {
		suf -= i
	} else {
		suf = 0
	}
	return slices.Concat(safe[:pre],
		[]byte(`<!--# if expr="$gw_method != /^(GET|HEAD|OPTIONS|TRACE)/" -->`), unsafe[pre:len(unsafe)-suf],
		[]byte(`<!--# else -->`), safe[pre:len(safe)-suf],
		[]byte(`<!--# endif -->`), safe[len(safe)-suf:])
}

// fill is what stands in slot sl of a page filled by f.
func (s *Static) fill(f StaticFill, sl slot) (string, bool) {
	switch f {
	case FillSSI:
		cmd, ok := ssiCommands[sl]
		return cmd, ok
	case FillHAProxy:
		if e, ok := haproxyExprs[sl]; ok {
			return HAProxyCut + e + HAProxyCut, true
		}
	}
	switch sl {
	case slotURI:
		// An empty href is the page's own address: the failed one.
		return "", true
	case slotPath:
		// The form's own path; its fields make the query.
		return "?", true
	}
	return "", false
}

// ssiCommands fill the static page's slots in nginx (ssi on): variables
// the generated include sets ($gw_retry: the failed address, or "/" if it
// would lead off the site; $gw_path: its path; $gw_mail_path: the path if
// it has nothing a mailto URL would read as a header, such as "&") and
// nginx's own. Each echo names its escaping, for HTML or, in the mailto
// URL, as a URL (space, quotes, "#", "%"): nginx keeps the last one given
// for the echoes that follow.
var ssiCommands = map[slot]string{
	slotURI:      `<!--# echo var="gw_retry" encoding="entity" -->`,
	slotPath:     `<!--# echo var="gw_path" encoding="entity" -->`,
	slotRefID:    `<!--# echo var="request_id" encoding="entity" -->`,
	slotRefTime:  `<!--# config timefmt="%Y-%m-%d %H:%M:%S UTC" --><!--# echo var="date_gmt" encoding="entity" -->`,
	slotRefISO:   `<!--# config timefmt="%Y-%m-%dT%H:%M:%SZ" --><!--# echo var="date_gmt" encoding="entity" -->`,
	slotMailRef:  `<!--# echo var="request_id" encoding="url" -->`,
	slotMailTime: `<!--# config timefmt="%Y-%m-%d %H:%M:%S UTC" --><!--# echo var="date_gmt" encoding="url" -->`,
	slotMailURL:  `<!--# echo var="scheme" encoding="url" -->%3A%2F%2F<!--# echo var="host" encoding="url" --><!--# echo var="gw_mail_path" encoding="url" -->`,
}

// SiteLanguage is site's own default language, or the server's: what a
// visitor gets whose preferences match no supported language.
func SiteLanguage(c *locales.Catalog, site *config.Site) locales.Language {
	if site.DefaultLocale != "" {
		if l, ok := c.Lookup(site.DefaultLocale); ok {
			return l
		}
	}
	return c.Default()
}

// staticSteps are the visitor's steps without the parts that need
// gatewatch: no clear-data button (its endpoint is gatewatch's), and a
// contact link without a reference.
func staticSteps(q *request) pages.Steps {
	st := downSteps(q)
	for i := range st.Items {
		st.Items[i].Clear = nil
	}
	return st
}
