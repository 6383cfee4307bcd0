package locales_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/locales"
)

// FuzzNegotiate feeds arbitrary ?lang=, cookie and Accept-Language values:
// the answer is always a supported language, and nothing panics.
func FuzzNegotiate(f *testing.F) {
	c, err := locales.New("en")
	if err != nil {
		f.Fatal(err)
	}
	supported := map[string]bool{}
	for _, l := range c.Languages() {
		supported[l.Code] = true
	}
	for _, seed := range [][3]string{
		{"", "", "de-DE,de;q=0.9,en;q=0.8"}, {"pt", "", ""}, {"", "zh-TW", ""}, {"x-klingon", "", "*"},
		{"", "", "en;q=abc, de;q=0.1"}, {"", "", ";;;,,,-"}, {"ar-u-nu-latn", "", ""}, {"", "", "zh-Hant-TW-x-private"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, query, cookie, accept string) {
		l := c.Negotiate(query, cookie, accept)
		if !supported[l.Code] {
			t.Fatalf("Negotiate(%q, %q, %q) = %q, not a supported language", query, cookie, accept, l.Code)
		}
		if l.Dir != "ltr" && l.Dir != "rtl" {
			t.Fatalf("Negotiate(%q, %q, %q).Dir = %q", query, cookie, accept, l.Dir)
		}
	})
}
