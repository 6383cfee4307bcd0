package locales_test

import (
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/locales"
)

func TestNativeDigits(t *testing.T) {
	c := mustCatalog(t)
	for _, tc := range []struct{ lang, n, want string }{
		{"fa", "502 · 12:05", "۵۰۲ · ۱۲:۰۵"},
		{"ar", "37", "37"}, // CLDR 42 made Arabic's default Latin, as Intl shows
		{"fa", "37", "۳۷"},
		{"bn", "1990", "১৯৯০"},
		{"hi", "37", "37"}, // CLDR: Hindi's default digits are Latin
		{"de", "37", "37"},
		{"th", "37", "37"},
	} {
		l := mustLang(t, c, tc.lang)
		if got := l.Number(tc.n); got != tc.want {
			t.Errorf("%s: Number(%q) = %q; want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	fa := c.Translator(mustLang(t, c, "fa"))
	if got := fa.N("verdict.affected", 12, map[string]any{"Window": fa.N("duration.minutes", 5, nil)}); strings.ContainsAny(got, "0123456789") || !strings.Contains(got, "۱۲") {
		t.Errorf("fa N(verdict.affected, 12) = %q; want Persian digits only", got)
	}
}

func mustLang(t *testing.T, c *locales.Catalog, code string) locales.Language {
	t.Helper()
	l, ok := c.Lookup(code)
	if !ok {
		t.Fatalf("no language %q", code)
	}
	return l
}
