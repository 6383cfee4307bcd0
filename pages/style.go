package pages

import (
	"html"
	"strings"
)

// brandStyle is the one inline style sheet: the site's colors as CSS
// variables, allowed by the page's CSP through its hash (see BrandVars).
// The config admits only hex colors, and BrandVars drops anything else,
// so nothing can leave the element.
func brandStyle(m *ErrorPage) string {
	vars := BrandVars(m.Brand.Primary, m.Brand.PrimaryD)
	if vars == "" {
		return ""
	}
	return "<style>" + vars + "</style>"
}

// cssColor returns c when it is a hex color and "" otherwise.
func cssColor(c string) string {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return ""
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return ""
		}
	}
	return c
}

// shortcutHTML renders keys as key caps joined by " + ", escaped, in a
// left-to-right bdi, isolated from the sentence around it, so that
// right-to-left text neither reorders the keys nor is reordered by them.
// It is built here because templ would put spaces between the elements.
func shortcutHTML(keys []string) string {
	var b strings.Builder
	b.WriteString(`<bdi class="keys" dir="ltr">`)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" + ")
		}
		b.WriteString("<kbd>" + html.EscapeString(k) + "</kbd>")
	}
	b.WriteString("</bdi>")
	return b.String()
}

// inlineStyle wraps css (gatewatch's own style sheet and validated brand
// colors, never visitor input) in a style element.
func inlineStyle(css string) string {
	return "<style>" + strings.ReplaceAll(css, "</", "<\\/") + "</style>"
}

// BrandVars is the CSS that sets a site's colors, as the page's inline
// style carries it.
func BrandVars(primary, primaryDark string) string {
	var b strings.Builder
	if c := cssColor(primary); c != "" {
		b.WriteString("--brand-light:" + c + ";")
	}
	if c := cssColor(primaryDark); c != "" {
		b.WriteString("--brand-dark:" + c + ";")
	}
	if b.Len() == 0 {
		return ""
	}
	return ":root{" + b.String() + "}"
}
