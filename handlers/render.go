package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
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
// live verdict, no reference: nothing that needs gatewatch running) for
// nginx's fallback when gatewatch is down.
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
		p:     proxied{Code: code, URI: "/", Method: http.MethodGet},
		site:  site,
		lang:  lang,
		tr:    s.catalog.Translator(lang),
		langs: s.catalog.Languages(),
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
	m.Langs = buildLangSwitch(q, "/", "")
	var buf bytes.Buffer
	if err := pages.ErrorPageView(m).Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
