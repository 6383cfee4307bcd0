package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
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
//
// Every message file is parsed and checked when the Catalog is built, but
// a language's messages are made into templates only when a page first
// needs them (lazy): go-i18n keeps a map per message, and fifty languages
// held at once would be about 10 MB of gatewatch's heap, most of it for
// languages no visitor of this outage reads.
type Catalog struct {
	fsys        fs.FS
	source      string // the source language's message file
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
	names, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("locales: no active.*.toml message files")
	}
	type file struct {
		tag  language.Tag
		name string
	}
	var files []file
	for _, name := range names {
		// Parsed to check it now, and to learn its language; the messages
		// are dropped until a page needs them (translator).
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("locales: %w", err)
		}
		mf, err := i18n.ParseMessageFileBytes(buf, name, unmarshalers)
		if err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
		files = append(files, file{mf.Tag, name})
	}
	c := &Catalog{fsys: fsys, byCode: map[string]int{}, exact: map[string]int{}}
	// The source language first: the matcher prefers its first tag when
	// nothing matches well, and the switcher lists it first.
	sort.SliceStable(files, func(i, j int) bool {
		if files[i].tag == Source || files[j].tag == Source {
			return files[i].tag == Source
		}
		return files[i].tag.String() < files[j].tag.String()
	})
	if files[0].tag != Source {
		return nil, fmt.Errorf("locales: no message file for the source language %s", Source)
	}
	c.source = files[0].name
	tags := make([]language.Tag, len(files))
	for i, f := range files {
		t, code := f.tag, f.tag.String()
		tags[i] = t
		c.languages = append(c.languages, Language{Tag: t, Code: code, Name: selfName(t), Dir: Direction(t), Digits: nativeDigits(t)})
		c.byCode[strings.ToLower(code)] = i
		c.exact[code] = i
		c.translators = append(c.translators, Translator{Lang: c.languages[i], lz: &lazyLocalizer{c: c, file: f.name, code: code}})
	}
	c.matcher = language.NewMatcher(tags)
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

var unmarshalers = map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal}

// lazyLocalizer is one language's messages, made into templates on first
// use.
type lazyLocalizer struct {
	c    *Catalog
	file string // the language's message file
	code string // the language's code, which the localizer prefers
	once sync.Once
	loc  *i18n.Localizer
}

// localizer falls back to the source language for any message the
// language lacks.
func (z *lazyLocalizer) localizer() *i18n.Localizer {
	z.once.Do(func() {
		b := i18n.NewBundle(Source)
		b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
		// Both files parsed when the Catalog was built, and embedded files
		// do not change. Were one to fail now (an fs.FS that changed), its
		// messages would fall back to the source language or show their
		// IDs, as T promises: never a failed page.
		for _, name := range slices.Compact([]string{z.c.source, z.file}) {
			b.LoadMessageFileFS(z.c.fsys, name)
		}
		z.loc = i18n.NewLocalizer(b, z.code, Source.String())
	})
	return z.loc
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
	lz   *lazyLocalizer
}

// Translator returns the Translator for l, built once per language. A
// language outside the catalog gets the messages of its closest match.
func (c *Catalog) Translator(l Language) Translator {
	if i, ok := c.exact[l.Code]; ok {
		return c.translators[i]
	}
	_, i, _ := c.matcher.Match(l.Tag)
	return Translator{Lang: l, lz: c.translators[i].lz}
}

func (t Translator) loc() *i18n.Localizer { return t.lz.localizer() }

// T localizes the message id with the template data (nil for none).
func (t Translator) T(id string, data map[string]any) string {
	s, err := t.loc().Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
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
	s, err := t.loc().Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
	if err != nil && s == "" {
		return id
	}
	return s
}

// Files is the embedded message files, for tests and tools.
func Files() fs.FS { return files }
