package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
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

// maxAcceptCache bounds the Accept-Language headers whose match is
// remembered; browsers send few distinct ones, attackers many.
const maxAcceptCache = 4096

// acceptCache remembers the match of an Accept-Language header, since
// parsing one costs more than the rest of serving a page.
type acceptCache struct {
	mu sync.RWMutex
	m  map[string]int // header -> language index, -1 for no match
}

func (a *acceptCache) get(h string) (int, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	i, ok := a.m[h]
	return i, ok
}

func (a *acceptCache) put(h string, i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]int{}
	}
	if len(a.m) < maxAcceptCache {
		a.m[h] = i
	}
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
	tags := bundle.LanguageTags()
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
		c.languages = append(c.languages, Language{Tag: t, Code: code, Name: selfName(t), Dir: Direction(t)})
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

func selfName(t language.Tag) string {
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

// maxTagLen bounds what we parse from a query or cookie: the longest
// sensible tag is far shorter, and anything longer is noise or an attack.
const maxTagLen = 35

// lookup resolves one tag from a query or cookie to a supported language:
// exactly, or by the matcher with at least high confidence ("pt" → "pt-BR",
// "zh-CN" → "zh-Hans").
func (c *Catalog) lookup(s string) (int, bool) {
	if s == "" || len(s) > maxTagLen {
		return 0, false
	}
	if i, ok := c.exact[s]; ok {
		return i, true
	}
	if i, ok := c.byCode[strings.ToLower(s)]; ok {
		return i, true
	}
	t, err := language.Parse(s)
	if err != nil {
		return 0, false
	}
	_, i, conf := c.matcher.Match(t)
	// The matcher also answers High when it merely falls back; a choice
	// the visitor made must at least keep its language.
	want, _ := t.Base()
	got, _ := c.languages[i].Tag.Base()
	if conf < language.High || want != got {
		return 0, false
	}
	return i, true
}

// maxAcceptLanguage bounds the Accept-Language header we parse.
const maxAcceptLanguage = 512

// Negotiate picks the visitor's language: an explicit ?lang= choice first,
// then the lang cookie, then the Accept-Language header, then the default.
// Invalid or unsupported values are skipped, never an error.
func (c *Catalog) Negotiate(query, cookie, acceptLanguage string) Language {
	if l, ok := c.Match(query, cookie, acceptLanguage); ok {
		return l
	}
	return c.languages[c.fallback]
}

// Match is Negotiate without the default: ok is false when nothing the
// visitor sent matches a supported language, so that the caller can fall
// back to a site's own default.
func (c *Catalog) Match(query, cookie, acceptLanguage string) (Language, bool) {
	if i, ok := c.lookup(query); ok {
		return c.languages[i], true
	}
	if i, ok := c.lookup(cookie); ok {
		return c.languages[i], true
	}
	if acceptLanguage != "" && len(acceptLanguage) <= maxAcceptLanguage {
		i, ok := c.accepts.get(acceptLanguage)
		if !ok {
			i = c.matchAccept(acceptLanguage)
			c.accepts.put(acceptLanguage, i)
		}
		if i >= 0 {
			return c.languages[i], true
		}
	}
	return Language{}, false
}

func (c *Catalog) matchAccept(h string) int {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return -1
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return -1
	}
	return i
}

// Lookup returns the supported language for code, exactly or by a close
// match, and whether there is one.
func (c *Catalog) Lookup(code string) (Language, bool) {
	i, ok := c.lookup(code)
	if !ok {
		return Language{}, false
	}
	return c.languages[i], true
}

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
// {{.Count}} is always available.
func (t Translator) N(id string, count int, data map[string]any) string {
	d := map[string]any{"Count": count}
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
