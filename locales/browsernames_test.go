package locales_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/gatewatch/gatewatch/locales"
)

// browserNames is locales/testdata/browser-names.json, extracted from
// Debian's chromium-l10n and firefox-esr-l10n-all by cmd/browsernames
// (make browser-names).
type browserNames struct {
	Chromium map[string]map[string]string `json:"chromium"`
	Firefox  map[string]map[string]string `json:"firefox"`
}

// quotedRE finds the names a step quotes, in each language's quotation
// marks: “…” „…“ „…” «…» »…« ”…” ‘…’ "…" 「…」.
var quotedRE = regexp.MustCompile(`“([^”]+)”|„([^“”]+)[“”]|«\x{00a0}?([^»]+?)\x{00a0}?»|»([^«]+)«|”([^”]+)”|‘([^’]+)’|"([^"]+)"|「([^」]+)」`)

func quoted(s string) []string {
	var out []string
	for _, m := range quotedRE.FindAllStringSubmatch(s, -1) {
		for _, g := range m[1:] {
			if g != "" {
				out = append(out, strings.TrimSpace(g))
			}
		}
	}
	return out
}

// menuName is a browser string as the menu shows it: Chromium marks its
// keyboard accelerators with & ("&Delete browsing data…").
func menuName(s string) string {
	for _, mark := range []string{"\u200e", "\u200f", "\u061c"} { // bidi marks
		s = strings.ReplaceAll(s, mark, "")
	}
	s = strings.ReplaceAll(s, "&&", "\x00")
	s = strings.ReplaceAll(s, "&", "")
	return strings.TrimSpace(strings.ReplaceAll(s, "\x00", "&"))
}

// browserLocale picks the browser's locale for one of ours: the same
// language in the same script, the closest region ("pt" → "pt-BR",
// "zh-Hant" → "zh-TW"); ok is false when the browser has none,
// and then it shows its English names.
func browserLocale(ours language.Tag, have map[string]map[string]string) (string, bool) {
	base, _ := ours.Base()
	script, _ := ours.Script()
	var codes []string
	var tags []language.Tag
	for code := range have {
		t, err := language.Parse(code)
		if err != nil {
			continue
		}
		b, _ := t.Base()
		s, _ := t.Script()
		if b == base && s == script {
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		return "", false
	}
	sort.Strings(codes)
	for _, c := range codes {
		tags = append(tags, language.MustParse(c))
	}
	_, i, _ := language.NewMatcher(tags).Match(ours)
	return codes[i], true
}

// transliterated are our locales that the browsers ship only in another
// script of the same language: Debian's Chromium and Firefox have Serbian
// in Cyrillic only, and show it to a reader who asks for sr-Latn (Chromium
// falls back from sr-Latn to sr). The steps quote those names letter for
// letter in Latin script, which a reader of either script recognises;
// Chrome's own sr-Latn translation, where Google ships one, is in no
// Debian package and cannot be checked here.
var transliterated = map[string]struct {
	from  string
	spell func(string) string
}{
	"sr-Latn": {"sr", serbianLatin},
}

// browserLocales are the browser's locales whose users read our l: those
// of l's language that the catalog negotiates to l (Firefox's es-MX, es-AR
// and es-CL to es-419, es-ES to es), else the closest by browserLocale,
// else en-US, whose names a browser without l's language shows.
func browserLocales(c *locales.Catalog, l locales.Language, have map[string]map[string]string) []string {
	base, _ := l.Tag.Base()
	var out []string
	for code := range have {
		t, err := language.Parse(code)
		if err != nil {
			continue
		}
		if b, _ := t.Base(); b != base {
			continue
		}
		if got, ok := c.Match("", "", code); ok && got.Code == l.Code {
			out = append(out, code)
		}
	}
	if len(out) == 0 {
		loc, ok := browserLocale(l.Tag, have)
		if !ok {
			loc = "en-US"
		}
		out = append(out, loc)
	}
	sort.Strings(out)
	return out
}

// TestMenuNamesAreTheBrowsers fails when a step quotes a Chrome, Edge or
// Firefox menu name that the browser does not ship in that language (or,
// where it ships none, in English). Safari's and iOS's names come from
// Apple's documentation, which no package ships; they are not checked.
func TestMenuNamesAreTheBrowsers(t *testing.T) {
	b, err := os.ReadFile("testdata/browser-names.json")
	if err != nil {
		t.Fatalf("%v (run make browser-names)", err)
	}
	var names browserNames
	if err := json.Unmarshal(b, &names); err != nil {
		t.Fatal(err)
	}
	c := mustCatalog(t)
	for _, l := range c.Languages() {
		m := readMessages(t, "active."+l.Code+".toml")
		for _, tc := range []struct {
			msg, browser string
			have         map[string]map[string]string
		}{
			{"step.clear.chrome", "Chromium", names.Chromium},
			{"step.clear.android", "Chromium", names.Chromium},
			// Edge is Chromium, and no Debian package ships it.
			{"step.clear.edge", "Chromium", names.Chromium},
			{"step.clear.firefox", "Firefox", names.Firefox},
		} {
			locs := browserLocales(c, l, tc.have)
			spell := func(s string) string { return s }
			if t, tok := transliterated[l.Code]; tok && tc.have[t.from] != nil {
				if _, ok := browserLocale(l.Tag, tc.have); !ok {
					locs, spell = []string{t.from}, t.spell
				}
			}
			var allowed []string
			for _, loc := range locs {
				for _, s := range tc.have[loc] {
					n := spell(menuName(s))
					allowed = append(allowed, n, strings.TrimSuffix(n, "…"))
				}
			}
			if len(allowed) == 0 {
				t.Fatalf("%s: no strings for locales %q in the extract", tc.browser, locs)
			}
			for _, q := range quoted(m[tc.msg]["other"]) {
				if !slices.Contains(allowed, q) {
					sort.Strings(allowed)
					t.Errorf("%s: %s quotes %q, which %s does not ship in %s; it has %q", l.Code, tc.msg, q, tc.browser, strings.Join(locs, ", "), slices.Compact(allowed))
				}
			}
		}
	}
}

func TestQuoted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"choose “Cookies and site data”, then “Manage on-device site data”", "Cookies and site data|Manage on-device site data"},
		{"wählen Sie „Cookies und Websitedaten“ und", "Cookies und Websitedaten"},
		{"choisissez « Cookies et données des sites », puis", "Cookies et données des sites"},
		{"vælg »Cookies og websitedata« og", "Cookies og websitedata"},
		{"valitse ”Evästeet ja sivustodata” ja", "Evästeet ja sivustodata"},
		{"依序選擇「Cookie 和網站資料」和「管理裝置上的網站資料」", "Cookie 和網站資料|管理裝置上的網站資料"},
		{`בוחרים "קובצי Cookie ונתוני אתרים" ואז`, "קובצי Cookie ונתוני אתרים"},
		{"válassza a „Cookie-k és webhelyadatok”, majd", "Cookie-k és webhelyadatok"},
	} {
		if got := strings.Join(quoted(tc.in), "|"); got != tc.want {
			t.Errorf("quoted(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestLatinNamesIsolated: in a right-to-left language, a quoted name that
// starts in Latin script («Manage Website Data») sits inside FSI…PDI, or
// the bidi algorithm reorders it and the punctuation around it.
func TestLatinNamesIsolated(t *testing.T) {
	c := mustCatalog(t)
	latin := regexp.MustCompile(`^\P{L}*[A-Za-z]`)
	for _, l := range c.Languages() {
		if l.Dir != "rtl" {
			continue
		}
		for id, forms := range readMessages(t, "active."+l.Code+".toml") {
			for form, text := range forms {
				if form == "description" {
					continue
				}
				for _, q := range quoted(text) {
					if latin.MatchString(q) && !(strings.HasPrefix(q, "\u2068") && strings.HasSuffix(q, "\u2069")) {
						t.Errorf("%s: %s quotes %q without FSI…PDI around it", l.Code, id, q)
					}
				}
			}
		}
	}
}
