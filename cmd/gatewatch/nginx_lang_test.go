package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gatewatch/gatewatch/locales"
)

// fallbackInclude is the include for a config with a fallback and two
// sites, the second in German by default.
func fallbackInclude(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gatewatch.toml")
	if err := os.WriteFile(cfg, []byte(`[nginx]
fallback_dir = "`+dir+`"
[[site]]
name = "shop"
hosts = ["shop.test"]
brand.title = "Shop"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:9/health"
[[site]]
name = "laden"
hosts = ["laden.test", "*.laden.test"]
default_locale = "de"
brand.title = "Laden"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:9/health"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "nginx", "--config", cfg}, noEnv, nil, &out, &errb); err != nil {
		t.Fatalf("nginx: %v\n%s", err, errb.String())
	}
	return out.String()
}

// chain is the include's ifs on one variable, as nginx runs them: in
// order, case-insensitive (~*), the last match setting the language.
type chain []struct {
	re   *regexp.Regexp
	lang string // "$gw_site_lang": the site's default; "": no choice
}

var ifLine = regexp.MustCompile(`(?m)^ +if \(\$(\w+) ~\* "(.*)"\) \{ set \$\w+ "?([^";]*)"?; \}$`)

func parseChain(t *testing.T, include, variable string) chain {
	t.Helper()
	var c chain
	for _, m := range ifLine.FindAllStringSubmatch(include, -1) {
		if m[1] != variable {
			continue
		}
		c = append(c, struct {
			re   *regexp.Regexp
			lang string
		}{regexp.MustCompile("(?i)" + m[2]), m[3]})
	}
	if len(c) == 0 {
		t.Fatalf("the include has no language rules on $%s", variable)
	}
	return c
}

// oneOf is one of n identical chains that c holds one after another.
func oneOf(c chain, n int) chain {
	if len(c)%n != 0 {
		panic("the chains differ in length")
	}
	return c[:len(c)/n]
}

func (c chain) eval(v, start string) string {
	lang := start
	for _, r := range c {
		if r.re.MatchString(v) {
			lang = r.lang
		}
	}
	return lang
}

// fallbackRules is the include's choice of language as nginx makes it.
type fallbackRules struct{ header, cookie, query chain }

// laterTags are the include's cuts of Accept-Language from its second
// and third tag.
var laterTags = []*regexp.Regexp{regexp.MustCompile(`^[^,]*, *(.+)$`), regexp.MustCompile(`^[^,]*,[^,]*, *(.+)$`)}

func (f fallbackRules) lang(query, cookie, accept, siteLang string) string {
	// The first of the first three tags with a language wins.
	lang := f.header.eval(accept, "")
	for _, re := range laterTags {
		if m := re.FindStringSubmatch(accept); lang == "" && m != nil {
			lang = f.header.eval(m[1], "")
		}
	}
	if lang == "" {
		lang = siteLang
	}
	if l := f.cookie.eval(cookie, ""); l != "" {
		lang = l
	}
	if l := f.query.eval(query, ""); l != "" {
		lang = l
	}
	return lang
}

// TestFallbackLanguageFollowsTheMatcher: for the first tags browsers send,
// the include's rules pick the language Catalog.Negotiate picks (the
// site's default where it picks none), for Accept-Language, the __gw_lang
// cookie and ?lang=.
func TestFallbackLanguageFollowsTheMatcher(t *testing.T) {
	include := fallbackInclude(t)
	f := fallbackRules{
		header: oneOf(parseChain(t, include, "gw_tag"), len(acceptLanguageTags)),
		cookie: parseChain(t, include, "cookie___gw_lang"),
		query:  parseChain(t, include, "arg_lang"),
	}
	cat, err := locales.New("en")
	if err != nil {
		t.Fatal(err)
	}
	tags := []string{
		"en", "en-US", "en-GB", "en_US", "EN-us", "de", "de-DE", "de-AT", "de-CH", "de_DE", "gsw",
		"fr", "fr-CA", "fr-BE", "es", "es-ES", "es-419", "es-MX", "es-AR", "it", "it-CH", "nl", "nl-BE",
		"pt", "pt-BR", "pt-PT", "pt-AO", "pt-MZ", "zh", "zh-CN", "zh-SG", "zh-TW", "zh-HK", "zh-MO",
		"zh-Hans", "zh-Hant", "zh-Hans-CN", "zh-Hant-TW", "zh-Hant-CN", "zh-Hans-HK", "ja", "ja-JP",
		"ko", "ko-KR", "ru", "ru-RU", "uk", "uk-UA", "pl", "cs", "sk", "hu", "ro", "ro-MD", "mo",
		"sv", "sv-FI", "da", "nb", "nn", "no", "nb-NO", "fi", "el", "tr", "ar", "ar-EG", "ar-SA",
		"he", "iw", "fa", "fa-IR", "hi", "bn", "bn-IN", "th", "vi", "id", "in", "ms", "sw", "af",
		"ca", "eu", "gl", "cy", "ga", "is", "et", "lv", "lt", "sr", "sr-Latn", "hr", "bs", "sl",
		"mk", "bg", "ka", "hy", "az", "kk", "uz", "mn", "ur", "ta", "te", "ml", "kn", "mr", "gu",
		"pa", "ne", "si", "km", "lo", "my", "fil", "tl", "yue", "cmn", "haw", "xx", "*", "",
		// Serbian in two scripts, and its neighbours.
		"sr-RS", "sr-Cyrl", "sr-Cyrl-RS", "sr-Cyrl-BA", "sr-BA", "sr-ME", "sr-Latn-RS", "sr-Latn-ME",
		"sr-Latn-BA", "sr_Latn", "SR-LATN", "hr-HR", "hr-BA", "bs-BA", "bs-Latn", "sh", "cnr", "sl-SI",
	}
	for _, siteLang := range []string{"en", "de"} {
		for _, tag := range tags {
			site, _ := cat.Lookup(siteLang)
			live := func(query, cookie, accept string) string {
				if l, ok := cat.Match(query, cookie, accept); ok {
					return l.Code
				}
				return site.Code
			}
			// A first tag alone and followed by its weight; in the cookie;
			// in ?lang=, also over a cookie and a header.
			for _, c := range [][3]string{
				{"", "", tag}, {"", "", tag + ";q=0.9"}, {"", "", " " + tag + " , " + tag},
				// A tag after one or two that have no language.
				{"", "", "xx, " + tag + ";q=0.8"}, {"", "", "xx,yy;q=0.9, " + tag},
				{"", tag, ""}, {"", tag, "fr"}, {tag, "", ""}, {tag, "ja", "fr"},
			} {
				if got, want := f.lang(c[0], c[1], c[2], siteLang), live(c[0], c[1], c[2]); got != want {
					t.Errorf("site in %s, ?lang=%q, cookie %q, Accept-Language %q: fallback in %q; live page in %q",
						siteLang, c[0], c[1], c[2], got, want)
				}
			}
		}
	}
}
