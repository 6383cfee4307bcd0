package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
)

//go:embed active.*.toml
var files embed.FS

// Source is the language every message is written in first; a message
// missing elsewhere falls back to it.
var Source = language.English

// Language is one supported language as the switcher shows it.
type Language struct {
	Tag  language.Tag
	Code string // BCP 47, as in ?lang= and <html lang>
	Name string // the language's own name for itself
	Dir  string // "ltr" or "rtl"
	// Digits are the language's own digits 0–9 when CLDR's default
	// numbering system for it is not Latin (fa ۰–۹, ar ٠–٩, bn ০–৯, mr
	// ०–९), as the browser's Intl shows them too; "" for Latin digits.
	Digits string
}

// Number writes the ASCII digits of s in l's own digits.
func (l Language) Number(s string) string {
	if l.Digits == "" {
		return s
	}
	return string(l.AppendNumber(make([]byte, 0, 3*len(s)), s))
}

// AppendNumber appends s to b with its ASCII digits in l's own digits.
func (l Language) AppendNumber(b []byte, s string) []byte {
	if l.Digits == "" {
		return append(b, s...)
	}
	// Each script's ten digits are one block of Unicode, so they have one
	// UTF-8 width (checked by nativeDigits).
	w := len(l.Digits) / 10
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			b = append(b, c)
			continue
		}
		b = append(b, l.Digits[int(c-'0')*w:int(c-'0'+1)*w]...)
	}
	return b
}

// latinSince are languages whose default digits CLDR has since made Latin
// (Arabic in CLDR 42: "ar" is latn, "ar-EG" still arab): x/text's data is
// older than the browsers' ICU, and the page must agree with Intl.
var latinSince = map[string]bool{"ar": true}

// nativeDigits are CLDR's default digits for t, from x/text's printer;
// "" when they are Latin.
func nativeDigits(t language.Tag) string {
	if latinSince[t.String()] {
		return ""
	}
	p := message.NewPrinter(t)
	var d strings.Builder
	for i := range 10 {
		d.WriteString(p.Sprint(i))
	}
	if d.String() == "0123456789" || utf8.RuneCountInString(d.String()) != 10 || d.Len()%10 != 0 {
		return ""
	}
	return d.String()
}

// Catalog is the set of translations, built once and shared read-only by
// every request.
type Catalog struct {
	bundle      *i18n.Bundle
	languages   []Language
	translators []Translator   // by index into languages
	byCode      map[string]int // lowercased code -> index
	exact       map[string]int // code -> index
	matcher     language.Matcher
	fallback    int
	accepts     acceptCache
}

// New builds the Catalog from the embedded message files. defaultLocale is
// the language used when a visitor's preferences match none; it must be
// supported.
func New(defaultLocale string) (*Catalog, error) {
	return NewFromFS(files, defaultLocale)
}

// NewFromFS builds a Catalog from the active.*.toml files in fsys.
func NewFromFS(fsys fs.FS, defaultLocale string) (*Catalog, error) {
	bundle := i18n.NewBundle(Source)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("locales: no active.*.toml message files")
	}
	for _, name := range names {
		if _, err := bundle.LoadMessageFileFS(fsys, name); err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
	}
	c := &Catalog{bundle: bundle, byCode: map[string]int{}, exact: map[string]int{}}
	// A copy: the bundle's own list is the order its matcher answers by
	// index, and sorting it in place would hand one language another's
	// messages (active.sr-Latn.toml is loaded before active.sr.toml).
	tags := slices.Clone(bundle.LanguageTags())
	// The source language first: the matcher prefers its first tag when
	// nothing matches well, and the switcher lists it first.
	sort.SliceStable(tags, func(i, j int) bool {
		if tags[i] == Source || tags[j] == Source {
			return tags[i] == Source
		}
		return tags[i].String() < tags[j].String()
	})
	for i, t := range tags {
		code := t.String()
		c.languages = append(c.languages, Language{Tag: t, Code: code, Name: selfName(t), Dir: Direction(t), Digits: nativeDigits(t)})
		c.byCode[strings.ToLower(code)] = i
		c.exact[code] = i
	}
	c.matcher = language.NewMatcher(tags)
	for _, l := range c.languages {
		c.translators = append(c.translators, Translator{Lang: l, loc: c.Localizer(l)})
	}
	fb, ok := c.lookup(defaultLocale)
	if !ok {
		return nil, fmt.Errorf("locales: default locale %q is not one of the supported languages %s", defaultLocale, c.codes())
	}
	c.fallback = fb
	return c, nil
}

// selfNames overrides x/text's self-names where they are not what a
// reader calls the language: x/text names Serbian in Latin script by the
// retired Serbo-Croatian alias ("srpskohrvatski").
var selfNames = map[string]string{"sr-Latn": "Srpski (latinica)"}

func selfName(t language.Tag) string {
	if name, ok := selfNames[t.String()]; ok {
		return name
	}
	name := display.Self.Name(t)
	if name == "" {
		return t.String()
	}
	// Capitalise the first letter where the script has case ("español" →
	// "Español"): the switcher lists names as menu items.
	r := []rune(name)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

func (c *Catalog) codes() string {
	out := make([]string, len(c.languages))
	for i, l := range c.languages {
		out[i] = l.Code
	}
	return strings.Join(out, ", ")
}

// Languages lists the supported languages, the source language first.
func (c *Catalog) Languages() []Language { return c.languages }

// Default is the language used when nothing else matches.
func (c *Catalog) Default() Language { return c.languages[c.fallback] }

// Localizer returns a Localizer for l that falls back to the source
// language for any message l lacks.
func (c *Catalog) Localizer(l Language) *i18n.Localizer {
	return i18n.NewLocalizer(c.bundle, l.Code, Source.String())
}

// rtl are the base languages written right to left.
var rtl = map[string]bool{"ar": true, "he": true, "fa": true, "ur": true, "ps": true, "yi": true, "dv": true, "ckb": true, "ug": true, "sd": true}

// Direction is "rtl" for right-to-left languages and "ltr" for the rest.
func Direction(t language.Tag) string {
	if s, _ := t.Script(); s.String() == "Arab" || s.String() == "Hebr" {
		return "rtl"
	}
	base, _ := t.Base()
	if rtl[base.String()] {
		return "rtl"
	}
	return "ltr"
}

// Translator localizes messages for one request's language. It never
// fails: a message missing everywhere shows its ID, so a gap in a
// translation can cost a sentence, never the page.
type Translator struct {
	Lang Language
	loc  *i18n.Localizer
}

// Translator returns the Translator for l, built once per language.
func (c *Catalog) Translator(l Language) Translator {
	if i, ok := c.exact[l.Code]; ok {
		return c.translators[i]
	}
	return Translator{Lang: l, loc: c.Localizer(l)}
}

// T localizes the message id with the template data (nil for none).
func (t Translator) T(id string, data map[string]any) string {
	s, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		return id
	}
	return s
}

// N localizes the plural message id for count; data may be nil, and
// {{.Count}} is always available, in the language's own digits.
func (t Translator) N(id string, count int, data map[string]any) string {
	d := map[string]any{"Count": t.Lang.Number(strconv.Itoa(count))}
	for k, v := range data {
		d[k] = v
	}
	s, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
	if err != nil && s == "" {
		return id
	}
	return s
}

// Files is the embedded message files, for tests and tools.
func Files() fs.FS { return files }
