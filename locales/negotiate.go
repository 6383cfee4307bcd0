package locales

import (
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// CookieName is the cookie that remembers a language picked in the
// switcher. The error page is served on the customer's own paths (nginx's
// error_page keeps the visitor's URL), so the cookie must have Path=/ to
// come back with the next error on any page of the site; a narrower path
// such as /_gatewatch/ would never reach those requests. Its name is ours,
// so that it cannot be confused with a "lang" cookie the site sets for
// itself on the same path; nginx's fallback reads it as $cookie___gw_lang.
const CookieName = "__gw_lang"

// akin lists, for a language we may not carry, the languages its readers
// read as their own, in order. It is short on purpose: the matcher's
// High confidence also covers guesses across languages (Estonian →
// Finnish, Kurdish → Turkish, Marathi → Hindi) that a reader would not
// thank us for, so a match must keep the language unless listed here.
var akin = map[string][]string{
	"nn":  {"nb"},                  // Nynorsk readers read Bokmål
	"no":  {"nb"},                  // the Norwegian macrolanguage
	"sh":  {"sr-Latn", "hr", "bs"}, // Serbo-Croatian
	"bs":  {"hr", "sr-Latn"},       // Bosnian: Latin script, ijekavian like Croatian
	"hr":  {"bs", "sr-Latn"},       // Croatian, when we carry no Croatian
	"cnr": {"sr-Latn", "bs", "hr"}, // Montenegrin
	"tl":  {"fil"},                 // Tagalog, of which Filipino is the standard
	"yue": {"zh-Hant"},             // Cantonese readers read Traditional Chinese
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

// maxTagLen bounds what we parse from a query or cookie: the longest
// sensible tag is far shorter, and anything longer is noise or an attack.
const maxTagLen = 35

// lookup resolves one tag from a query or cookie to a supported language:
// exactly, or by the matcher at High confidence or better within the
// same language ("pt" → "pt-BR", "zh-CN" → "zh-Hans"), or through akin.
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
	t, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil {
		return 0, false
	}
	return c.matchTag(t)
}

// matchTag finds the supported language for t, or reports none.
func (c *Catalog) matchTag(t language.Tag) (int, bool) {
	if t == language.Und {
		return 0, false
	}
	if i, ok := c.sameLanguage(t); ok {
		return i, true
	}
	base, _ := t.Base()
	for _, a := range akin[base.String()] {
		if i, ok := c.sameLanguage(language.Make(a)); ok {
			return i, true
		}
	}
	return 0, false
}

// sameLanguage is the matcher's answer for t when it is sure (High or
// Exact) and keeps t's language; the matcher also answers High when it
// merely falls back to a language it thinks t's readers know.
func (c *Catalog) sameLanguage(t language.Tag) (int, bool) {
	_, i, conf := c.matcher.Match(t)
	if conf < language.High {
		return 0, false
	}
	want, _ := t.Base()
	got, _ := c.languages[i].Tag.Base()
	return i, want == got
}

// maxAcceptLanguage bounds the Accept-Language header we read: a longer
// one is cut at its last comma within the bound, so that the visitor's
// first choices still count.
const maxAcceptLanguage = 512

// maxAcceptEntries bounds the languages of one header we try to match.
const maxAcceptEntries = 32

// Negotiate picks the visitor's language: an explicit ?lang= choice first,
// then the CookieName cookie, then the Accept-Language header, then the
// default. Invalid or unsupported values are skipped, never an error.
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
	if acceptLanguage == "" {
		return Language{}, false
	}
	h := cutAccept(acceptLanguage)
	i, ok := c.accepts.get(h)
	if !ok {
		i = c.matchAccept(h)
		c.accepts.put(h, i)
	}
	if i < 0 {
		return Language{}, false
	}
	return c.languages[i], true
}

// cutAccept shortens an over-long Accept-Language header at its last
// comma within maxAcceptLanguage ("" when there is none).
func cutAccept(h string) string {
	if len(h) <= maxAcceptLanguage {
		return h
	}
	if i := strings.LastIndexByte(h[:maxAcceptLanguage+1], ','); i >= 0 {
		return h[:i]
	}
	return ""
}

// matchAccept is the first of the header's languages, by q-value, that
// matches; -1 for none. Each entry is parsed on its own, so that a bad
// one (a q-value of "abc" or "2", a tag of "x_y") costs that entry only.
func (c *Catalog) matchAccept(h string) int {
	type pref struct {
		tag language.Tag
		q   float32
	}
	var prefs []pref
	for e := range strings.SplitSeq(h, ",") {
		if len(prefs) == maxAcceptEntries {
			break
		}
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		tags, qs, err := language.ParseAcceptLanguage(e)
		if err != nil || len(tags) != 1 || qs[0] <= 0 || qs[0] > 1 {
			continue
		}
		prefs = append(prefs, pref{tags[0], qs[0]})
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		if i, ok := c.matchTag(p.tag); ok {
			return i
		}
	}
	return -1
}

// Lookup returns the supported language for code, exactly or by a close
// match within the same language (or an akin one), and whether there is
// one.
func (c *Catalog) Lookup(code string) (Language, bool) {
	i, ok := c.lookup(code)
	if !ok {
		return Language{}, false
	}
	return c.languages[i], true
}
