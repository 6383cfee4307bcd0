package locales_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gatewatch/gatewatch/locales"
)

// fixture is a catalog of the given languages, each with one message.
func fixture(t *testing.T, codes ...string) *locales.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, code := range append([]string{"en"}, codes...) {
		fsys["active."+code+".toml"] = &fstest.MapFile{Data: []byte("[\"page.title\"]\nother = \"" + code + "\"\n")}
	}
	c, err := locales.NewFromFS(fsys, "en")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNoGuessesAcrossLanguages: x/text's matcher answers High for
// Estonian → Finnish and the like, its CLDR fallbacks; a reader of the
// one would not read the other, so the page stays in the default.
func TestNoGuessesAcrossLanguages(t *testing.T) {
	c := fixture(t, "fi", "tr", "ar", "id", "hi", "ru", "nl", "de")
	for _, tc := range []struct{ accept, want string }{
		{"et", "en"}, {"et-EE,et;q=0.9", "en"},
		{"ku", "en"}, {"ckb", "en"},
		{"ms", "en"}, {"ms-MY", "en"},
		{"mr", "en"}, {"kk", "en"}, {"af", "en"},
		// Later, acceptable choices still win over the default.
		{"et,fi;q=0.5", "fi"}, {"ms,id;q=0.8", "id"}, {"mr;q=0.9,hi;q=0.8", "hi"},
		// Within a language, the matcher's High stands.
		{"de-AT", "de"}, {"ar-EG", "ar"}, {"nl-BE", "nl"},
	} {
		if got := c.Negotiate("", "", tc.accept).Code; got != tc.want {
			t.Errorf("Negotiate(Accept-Language %q) = %q; want %q", tc.accept, got, tc.want)
		}
		if _, ok := c.Lookup(tc.accept); ok && tc.want == "en" {
			t.Errorf("Lookup(%q) found a language; want none", tc.accept)
		}
	}
	// The real catalog: Estonian is not Finnish, Kurdish not Turkish,
	// Malay not Indonesian, Marathi not Hindi.
	real := mustCatalog(t)
	for _, pair := range [][2]string{{"et", "fi"}, {"ku", "tr"}, {"ms", "id"}, {"mr", "hi"}, {"ckb", "ar"}} {
		if got := real.Negotiate("", "", pair[0]).Code; got == pair[1] {
			t.Errorf("Negotiate(Accept-Language %q) = %q; want not %q", pair[0], got, pair[1])
		}
		if got := real.Negotiate(pair[0], "", "").Code; got == pair[1] {
			t.Errorf("Negotiate(?lang=%s) = %q; want not %q", pair[0], got, pair[1])
		}
	}
}

// TestAkinLanguages: the short allow-list of languages whose readers
// read another as their own.
func TestAkinLanguages(t *testing.T) {
	for _, tc := range []struct {
		have          []string
		tag, want     string
		query, accept bool
	}{
		{[]string{"nb"}, "nn", "nb", true, true},
		{[]string{"nb"}, "no", "nb", true, true},
		{[]string{"nb"}, "nn-NO", "nb", true, true},
		{[]string{"hr", "sr", "sr-Latn"}, "bs", "hr", true, true},
		{[]string{"sr", "sr-Latn"}, "bs", "sr-Latn", true, true},
		{[]string{"sr", "sr-Latn"}, "hr", "sr-Latn", true, true},
		{[]string{"hr", "sr", "sr-Latn"}, "sr-Latn-RS", "sr-Latn", true, true},
		{[]string{"hr", "sr", "sr-Latn"}, "sr", "sr", true, true},
		{[]string{"hr", "sr", "sr-Latn"}, "sr-ME", "sr-Latn", true, true},
		{[]string{"fil"}, "tl", "fil", true, true},
		{[]string{"zh-Hans", "zh-Hant"}, "yue", "zh-Hant", true, true},
		{[]string{"zh-Hans", "zh-Hant"}, "zh-HK", "zh-Hant", true, true},
		// Not akin: a Serbian reader is not sent to Croatian.
		{[]string{"hr"}, "sr", "en", true, true},
	} {
		c := fixture(t, tc.have...)
		if got := c.Negotiate(tc.tag, "", "").Code; got != tc.want {
			t.Errorf("with %v: Negotiate(?lang=%s) = %q; want %q", tc.have, tc.tag, got, tc.want)
		}
		if got := c.Negotiate("", tc.tag, "").Code; got != tc.want {
			t.Errorf("with %v: Negotiate(cookie %s) = %q; want %q", tc.have, tc.tag, got, tc.want)
		}
		if got := c.Negotiate("", "", tc.tag+",en;q=0.1").Code; got != tc.want {
			t.Errorf("with %v: Negotiate(Accept-Language %s,en;q=0.1) = %q; want %q", tc.have, tc.tag, got, tc.want)
		}
	}
	// The real catalog carries nb: ?lang=no and ?lang=nn are no longer refused.
	real := mustCatalog(t)
	for _, q := range []string{"no", "nn", "NO", "nb-NO"} {
		if l, ok := real.Lookup(q); !ok || l.Code != "nb" {
			t.Errorf("Lookup(%q) = %q, %v; want nb", q, l.Code, ok)
		}
	}
}

// TestAcceptLanguageRobust: a long header is cut at a comma, not
// ignored; a bad entry costs that entry, not the header.
func TestAcceptLanguageRobust(t *testing.T) {
	c := mustCatalog(t)
	long := "fr-CH, fr;q=0.9, " + strings.Repeat("en-x-padding;q=0.01, ", 40) + "de;q=0.5"
	if len(long) <= 512 {
		t.Fatalf("test header is only %d bytes", len(long))
	}
	for _, tc := range []struct{ name, accept, want string }{
		{"long", long, "fr"},
		{"long, one huge entry", "it," + strings.Repeat("a", 1000), "it"},
		{"long, no comma", strings.Repeat("a", 1000), "en"},
		{"bad q first", "de;q=abc, fr;q=0.8", "fr"},
		{"bad q middle", "xx;q=0.9, ja;q=oops, ko;q=0.5", "ko"},
		{"q above 1", "de;q=2, it;q=0.4", "it"},
		{"bad tag", "x_y_z, pl;q=0.3", "pl"},
		{"zero q", "de;q=0, nl;q=0.2", "nl"},
		{"order by q", "en;q=0.1, ja;q=0.9", "ja"},
		{"wildcard", "*, sv;q=0.5", "sv"},
		{"empty entries", ",,, ,da", "da"},
	} {
		if got := c.Negotiate("", "", tc.accept).Code; got != tc.want {
			t.Errorf("%s: Negotiate(Accept-Language %.60q) = %q; want %q", tc.name, tc.accept, got, tc.want)
		}
	}
}

func TestCookieName(t *testing.T) {
	if locales.CookieName == "lang" || !strings.HasPrefix(locales.CookieName, "__gw") {
		t.Errorf("CookieName = %q; want a name of ours, not a site's own lang", locales.CookieName)
	}
}

// TestBrokenFileFailsAtStart: the messages become templates only when a
// page first needs them, but a file that does not parse is still refused
// when the catalog is built, and named.
func TestBrokenFileFailsAtStart(t *testing.T) {
	fsys := fstest.MapFS{
		"active.en.toml": &fstest.MapFile{Data: []byte("[\"page.title\"]\nother = \"en\"\n")},
		"active.de.toml": &fstest.MapFile{Data: []byte("[\"page.title\"\nother = \"de\"\n")},
	}
	if _, err := locales.NewFromFS(fsys, "en"); err == nil || !strings.Contains(err.Error(), "active.de.toml") {
		t.Fatalf("NewFromFS with a broken active.de.toml = %v; want an error naming it", err)
	}
}

// TestFirstUseFromManyRequests: a language's templates are built once,
// however many requests need them at once (run with -race), and each
// falls back to the source language for what it lacks.
func TestFirstUseFromManyRequests(t *testing.T) {
	fsys := fstest.MapFS{
		"active.en.toml": &fstest.MapFile{Data: []byte("[\"page.title\"]\nother = \"Title\"\n[\"page.only_en\"]\nother = \"English only\"\n")},
		"active.de.toml": &fstest.MapFile{Data: []byte("[\"page.title\"]\nother = \"Titel\"\n")},
	}
	c, err := locales.NewFromFS(fsys, "en")
	if err != nil {
		t.Fatal(err)
	}
	de, _ := c.Lookup("de")
	done := make(chan [2]string)
	for range 16 {
		go func() {
			tr := c.Translator(de)
			done <- [2]string{tr.T("page.title", nil), tr.T("page.only_en", nil)}
		}()
	}
	for range 16 {
		if got := <-done; got != [2]string{"Titel", "English only"} {
			t.Errorf("de: T(page.title), T(page.only_en) = %q; want Titel, English only", got)
		}
	}
}
