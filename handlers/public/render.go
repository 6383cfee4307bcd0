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
}

// NewStatic prepares pre-rendering for cfg.
func NewStatic(cfg *config.Config, catalog *locales.Catalog, assets *static.Set) (*Static, error) {
	css, ok := assets.Get("css/gatewatch.css")
	if !ok {
		return nil, fmt.Errorf("static: gatewatch.css missing")
	}
	return &Static{cfg: cfg, catalog: catalog, css: css.Body}, nil
}

// InlineStyle is the style element content of site's static pages.
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

// Render returns the page for site, language and code.
func (s *Static) Render(ctx context.Context, site *config.Site, lang locales.Language, code int) ([]byte, error) {
	q := &request{
		p:    proxied{Code: code, URI: marks[slotURI], Method: http.MethodGet, RequestID: marks[slotRefID]},
		site: site, lang: lang, tr: s.catalog.Translator(lang), langs: s.catalog.Languages(),
		timeText: marks[slotRefTime], isoText: marks[slotRefISO], mailURL: mailURLMark,
	}
	m := &pages.ErrorPage{
		Lang: lang.Code, Dir: lang.Dir, Code: code, Method: http.MethodGet,
		InlineStyle: s.InlineStyle(site),
		Brand: pages.Brand{Title: site.Brand.Title, Initial: initial(site.Brand.Title), HomeURL: "/",
			Primary: site.Brand.Colors.Primary, PrimaryD: site.Brand.Colors.PrimaryDark},
	}
	c := errorCopy(q.tr, code)
	m.Badge, m.Headline, m.Lead = c.Badge, c.Headline, c.Lead
	m.Title = q.tr.T("page.title", map[string]any{"Code": q.tr.Lang.Number(strconv.Itoa(code)), "Headline": c.Headline, "Site": site.Brand.Title})
	m.Steps = staticSteps(q)
	m.Ref = buildReference(q, "")
	m.Langs = buildLangSwitch(q, marks[slotPath], "")
	var buf bytes.Buffer
	if err := pages.ErrorPageView(m).Render(ctx, &buf); err != nil {
		return nil, err
	}
	page := buf.Bytes()
	for at, sl := nextMark(page); at >= 0; at, sl = nextMark(page) {
		cmd, ok := ssiCommands[sl]
		if !ok {
			return nil, fmt.Errorf("static: the page has a slot (%d) that nginx cannot fill", sl)
		}
		page = slices.Concat(page[:at], []byte(cmd), page[at+len(marks[sl]):])
	}
	return page, nil
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
