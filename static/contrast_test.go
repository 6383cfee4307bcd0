package static_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/static"
)

// schemeVars reads the custom properties of the light :root block and of
// the dark scheme's from gatewatch.css.
func schemeVars(t *testing.T) (light, dark map[string]string) {
	t.Helper()
	set, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	a, ok := set.Get("css/gatewatch.css")
	if !ok {
		t.Fatal("no css/gatewatch.css")
	}
	css := string(a.Body)
	i := strings.Index(css, "@media (prefers-color-scheme: dark)")
	if i < 0 {
		t.Fatal("gatewatch.css has no dark scheme")
	}
	re := regexp.MustCompile(`(--[a-z-]+):\s*(#[0-9a-fA-F]{3,6})\s*;`)
	read := func(s string) map[string]string {
		m := map[string]string{}
		for _, v := range re.FindAllStringSubmatch(s, -1) {
			m[v[1]] = v[2]
		}
		return m
	}
	end := strings.Index(css[i:], "\n}\n")
	return read(css[:i]), read(css[i : i+end])
}

// TestControlBorderContrast: the borders of controls reach 3:1 against the
// card and the page in both schemes (WCAG 1.4.11), and config's idea of
// the page's colors, which check-config holds brand colors to, is the
// style sheet's.
func TestControlBorderContrast(t *testing.T) {
	light, dark := schemeVars(t)
	pc := config.PageColors
	for _, s := range []struct {
		name     string
		vars     map[string]string
		card, bg string
	}{{"light", light, pc.CardLight, pc.BgLight}, {"dark", dark, pc.CardDark, pc.BgDark}} {
		if s.vars["--card"] != s.card || s.vars["--bg"] != s.bg {
			t.Errorf("%s: --card %s, --bg %s; config.PageColors says %s, %s", s.name, s.vars["--card"], s.vars["--bg"], s.card, s.bg)
		}
		for _, against := range []string{s.card, s.bg} {
			if r := config.Contrast(s.vars["--control"], against); r < 3 {
				t.Errorf("%s: --control %s on %s = %.2f:1; want at least 3:1", s.name, s.vars["--control"], against, r)
			}
		}
	}
}
