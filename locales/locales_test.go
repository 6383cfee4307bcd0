package locales_test

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"

	"github.com/gatewatch/gatewatch/locales"
)

// required are the languages the project promises; each must be complete.
var required = []string{"en", "de", "fr", "es", "pt-BR", "it", "nl", "pl", "ja", "zh-Hans", "ar", "he",
	"sk", "bg", "ms", "fil", "sw", "ur", "mr", "ta", "te", "sl", "hr", "sr", "sr-Latn", "es-419", "ca", "lt", "lv", "et"}

func mustCatalog(t *testing.T) *locales.Catalog {
	t.Helper()
	c, err := locales.New("en")
	if err != nil {
		t.Fatalf("locales.New = %v", err)
	}
	return c
}

func TestRequiredLanguagesPresent(t *testing.T) {
	c := mustCatalog(t)
	have := map[string]bool{}
	for _, l := range c.Languages() {
		have[l.Code] = true
	}
	for _, code := range required {
		if !have[code] {
			t.Errorf("language %q has no active.%s.toml", code, code)
		}
	}
}

type messageFile map[string]map[string]string

func readMessages(t *testing.T, name string) messageFile {
	t.Helper()
	b, err := fs.ReadFile(locales.Files(), name)
	if err != nil {
		t.Fatal(err)
	}
	var m messageFile
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func withoutCount(list string) string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p != "Count" && p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

func placeholders(s string) string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// pluralForms finds the plural forms a language uses, by localizing a
// message whose every form is its own name for many counts.
func pluralForms(t *testing.T, tag language.Tag) map[string]bool {
	t.Helper()
	b := i18n.NewBundle(language.English)
	msg := &i18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	if err := b.AddMessages(tag, msg); err != nil {
		t.Fatal(err)
	}
	loc := i18n.NewLocalizer(b, tag.String())
	forms := map[string]bool{}
	counts := []any{}
	for n := 0; n <= 200; n++ {
		counts = append(counts, n)
	}
	counts = append(counts, 1000, 1000000, "1.5", "0.5")
	for _, n := range counts {
		s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			t.Fatalf("probe %v: %v", n, err)
		}
		forms[s] = true
	}
	return forms
}

// TestTranslationsComplete fails when a language lacks a message English
// has, a plural form its grammar needs, or changes a placeholder.
func TestTranslationsComplete(t *testing.T) {
	c := mustCatalog(t)
	en := readMessages(t, "active.en.toml")
	for _, l := range c.Languages() {
		if l.Code == "en" {
			continue
		}
		t.Run(l.Code, func(t *testing.T) {
			m := readMessages(t, "active."+l.Code+".toml")
			forms := pluralForms(t, l.Tag)
			for id, src := range en {
				tr, ok := m[id]
				if !ok {
					t.Errorf("%s: message %q missing", l.Code, id)
					continue
				}
				_, plural := src["one"]
				for form := range forms {
					if !plural && form != "other" {
						continue
					}
					if strings.TrimSpace(tr[form]) == "" {
						t.Errorf("%s: message %q lacks plural form %q", l.Code, id, form)
					}
				}
				want := placeholders(src["other"])
				for form, text := range tr {
					if form == "description" || form == "hash" {
						continue
					}
					// A plural form may spell its number out ("two minutes").
					if got := placeholders(text); got != want && !(plural && got == withoutCount(want)) {
						t.Errorf("%s: %q form %s has placeholders %q; want %q", l.Code, id, form, got, want)
					}
				}
			}
			for id := range m {
				if _, ok := en[id]; !ok {
					t.Errorf("%s: message %q is not in English (stale?)", l.Code, id)
				}
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	c := mustCatalog(t)
	for _, tc := range []struct{ query, cookie, accept, want string }{
		{"", "", "", "en"},
		{"", "", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "", "fr-CA", "fr"},
		{"", "", "pt-PT,pt;q=0.9", "pt-PT"},
		{"", "", "pt", "pt-BR"},
		{"", "", "zh-CN,zh;q=0.9", "zh-Hans"},
		{"", "", "he-IL", "he"},
		{"", "", "yo,xx;q=0.5", "en"},
		{"", "", "en;q=0.1, ja;q=0.9", "ja"},
		{"", "ar", "de", "ar"},
		{"ja", "ar", "de", "ja"},
		{"PT-br", "", "", "pt-BR"},
		{"<script>alert(1)</script>", "", "nl", "nl"},
		{"xx-invalid", "%00", "it", "it"},
		{strings.Repeat("a", 4000), "", "pl", "pl"},
		// Too long: cut at the last comma within the bound, not ignored.
		{"", "", strings.Repeat("de,", 2000), "de"},
		{"", "", "ja;q=0.9," + strings.Repeat("x-private-noise;q=0.1,", 100) + "de", "ja"},
		{"", "", ";;;,,q=x", "en"},
	} {
		if got := c.Negotiate(tc.query, tc.cookie, tc.accept).Code; got != tc.want {
			t.Errorf("Negotiate(%.40q, %.40q, %.40q) = %q; want %q", tc.query, tc.cookie, tc.accept, got, tc.want)
		}
	}
}

func TestDirection(t *testing.T) {
	for _, tc := range []struct{ tag, want string }{
		{"en", "ltr"}, {"ar", "rtl"}, {"he", "rtl"}, {"fa", "rtl"}, {"ur", "rtl"}, {"ja", "ltr"}, {"zh-Hans", "ltr"},
		{"sr-Latn", "ltr"}, {"ta", "ltr"},
	} {
		if got := locales.Direction(language.MustParse(tc.tag)); got != tc.want {
			t.Errorf("Direction(%q) = %q; want %q", tc.tag, got, tc.want)
		}
	}
}

func TestTranslatorNeverFails(t *testing.T) {
	c := mustCatalog(t)
	tr := c.Translator(c.Negotiate("de", "", ""))
	if got := tr.T("no.such.message", nil); got != "no.such.message" {
		t.Errorf("T(missing) = %q; want the id", got)
	}
	if got := tr.N("verdict.affected", 37, map[string]any{"Window": "5 Minuten"}); !strings.Contains(got, "37") {
		t.Errorf("N(verdict.affected, 37) = %q; want it to contain 37", got)
	}
}

func TestDefaultLocaleMustBeSupported(t *testing.T) {
	if _, err := locales.New("tlh"); err == nil {
		t.Error("New(\"tlh\") = nil error; want an error naming the supported languages")
	}
}

// TestSelfNames: the switcher names each language as its readers do,
// including the languages a catalog may gain.
func TestSelfNames(t *testing.T) {
	want := map[string][2]string{
		"ur": {"اردو", "rtl"}, "fil": {"Filipino", "ltr"}, "ms": {"Melayu", "ltr"},
		"sw": {"Kiswahili", "ltr"}, "ta": {"தமிழ்", "ltr"}, "te": {"తెలుగు", "ltr"},
		"mr": {"मराठी", "ltr"}, "bg": {"Български", "ltr"}, "sk": {"Slovenčina", "ltr"},
		"ca": {"Català", "ltr"}, "lt": {"Lietuvių", "ltr"}, "lv": {"Latviešu", "ltr"},
		"et": {"Eesti", "ltr"}, "sl": {"Slovenščina", "ltr"}, "sr": {"Српски", "ltr"},
		"sr-Latn": {"Srpski (latinica)", "ltr"}, "hr": {"Hrvatski", "ltr"},
		"es-419": {"Español latinoamericano", "ltr"},
	}
	var codes []string
	for code := range want {
		codes = append(codes, code)
	}
	c := fixture(t, codes...)
	for _, l := range c.Languages() {
		if l.Code == "en" {
			continue
		}
		w, ok := want[l.Code]
		if !ok {
			t.Errorf("catalog has %q, which the fixture did not add", l.Code)
			continue
		}
		if l.Name != w[0] || l.Dir != w[1] {
			t.Errorf("%s: Name, Dir = %q, %q; want %q, %q", l.Code, l.Name, l.Dir, w[0], w[1])
		}
	}
	if n := len(c.Languages()); n != len(want)+1 {
		t.Errorf("catalog has %d languages; want %d", n, len(want)+1)
	}
}

// TestNewLanguagesNegotiate: the languages added since the first 32 are
// reached the way browsers ask for them, and the ones still to come
// (es-419, sr and sr-Latn, ca, the Baltic languages, sl, hr) need only
// their message file.
func TestNewLanguagesNegotiate(t *testing.T) {
	real := mustCatalog(t)
	for accept, want := range map[string]string{
		"ur-PK": "ur", "fil-PH": "fil", "tl": "fil", "ms-MY": "ms", "sw-KE": "sw", "sw-TZ": "sw",
		"ta-IN": "ta", "ta-LK": "ta", "te-IN": "te", "mr-IN": "mr", "bg-BG": "bg", "sk-SK": "sk",
		"es-MX": "es-419", "es-AR": "es-419", "es-US": "es-419", "es-CO": "es-419", "es-419": "es-419",
		"es-ES": "es", "es": "es", "ca-ES": "ca", "ca-AD": "ca", "ca-ES-valencia": "ca", "et-EE": "et",
		"lt-LT": "lt", "lv-LV": "lv",
	} {
		if got := real.Negotiate("", "", accept+",en;q=0.5").Code; got != want {
			t.Errorf("Negotiate(Accept-Language %s) = %q; want %q", accept, got, want)
		}
	}
	// Serbo-Croatian and Slovenian in the real catalog: each script of
	// Serbian by its own tags, Bosnian as Croatian (Latin script and
	// ijekavian, as Bosnian is; our Serbian is ekavian), Serbo-Croatian and
	// Montenegrin as Serbian in Latin script; Slovenian is not Croatian.
	for _, tc := range []struct{ tag, want string }{
		{"hr", "hr"}, {"hr-HR", "hr"}, {"hr-BA", "hr"},
		{"sr", "sr"}, {"sr-Cyrl", "sr"}, {"sr-RS", "sr"}, {"sr-Cyrl-RS", "sr"}, {"sr-BA", "sr"}, {"sr-Cyrl-ME", "sr"},
		{"sr-Latn", "sr-Latn"}, {"sr-Latn-RS", "sr-Latn"}, {"sr-ME", "sr-Latn"}, {"sr-Latn-ME", "sr-Latn"},
		{"sr-Latn-BA", "sr-Latn"}, {"sr_Latn", "sr-Latn"}, {"SR-LATN", "sr-Latn"},
		{"bs", "hr"}, {"bs-BA", "hr"}, {"bs-Latn-BA", "hr"},
		{"sh", "sr-Latn"}, {"cnr", "sr-Latn"},
		{"sl", "sl"}, {"sl-SI", "sl"},
	} {
		if got := real.Negotiate("", "", tc.tag+",en;q=0.5").Code; got != tc.want {
			t.Errorf("Negotiate(Accept-Language %s,en;q=0.5) = %q; want %q", tc.tag, got, tc.want)
		}
		if got := real.Negotiate(tc.tag, "", "de").Code; got != tc.want {
			t.Errorf("Negotiate(?lang=%s) = %q; want %q", tc.tag, got, tc.want)
		}
		if got := real.Negotiate("", tc.tag, "de").Code; got != tc.want {
			t.Errorf("Negotiate(cookie %s) = %q; want %q", tc.tag, got, tc.want)
		}
	}
	// A later, better choice still wins: Slovenian readers who also read
	// Croatian are not sent to it first.
	if got := real.Negotiate("", "", "sl-SI,hr;q=0.8").Code; got != "sl" {
		t.Errorf("Negotiate(Accept-Language sl-SI,hr;q=0.8) = %q; want sl", got)
	}
	c := fixture(t, "es", "es-419", "sr", "sr-Latn", "hr", "ca", "et", "fi", "lt", "lv", "sl")
	for _, tc := range []struct{ query, accept, want string }{
		{"", "es-MX", "es-419"}, {"", "es-AR,es;q=0.9", "es-419"}, {"", "es-US", "es-419"},
		{"", "es-ES", "es"}, {"", "es", "es"}, {"es-419", "", "es-419"},
		{"", "sr-RS", "sr"}, {"", "sr-Cyrl-RS", "sr"}, {"", "sr-Latn-RS", "sr-Latn"}, {"sr-Latn", "", "sr-Latn"},
		{"", "hr-HR", "hr"}, {"", "ca-ES", "ca"}, {"", "et-EE", "et"}, {"", "lt", "lt"}, {"", "lv-LV", "lv"},
		{"", "sl-SI", "sl"},
	} {
		if got := c.Negotiate(tc.query, "", tc.accept).Code; got != tc.want {
			t.Errorf("Negotiate(?lang=%q, Accept-Language %q) = %q; want %q", tc.query, tc.accept, got, tc.want)
		}
	}
}

// TestTranslatorReadsItsOwnFile: each language's Translator answers with
// the text of that language's own file, also where a language and its
// regional or script variant are both carried (es and es-419).
func TestTranslatorReadsItsOwnFile(t *testing.T) {
	c := mustCatalog(t)
	for _, l := range c.Languages() {
		tr := c.Translator(l)
		checked := 0
		for id, forms := range readMessages(t, "active."+l.Code+".toml") {
			want, ok := forms["other"]
			if !ok || strings.Contains(want, "{{") || forms["one"] != "" {
				continue
			}
			checked++
			if got := tr.T(id, nil); got != want {
				t.Errorf("%s: T(%q) = %q; want %q from active.%s.toml", l.Code, id, got, want, l.Code)
			}
		}
		if checked == 0 {
			t.Errorf("%s: no message without placeholders to check", l.Code)
		}
	}
}
