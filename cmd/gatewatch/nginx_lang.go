package main

import (
	"regexp"
	"strings"

	"golang.org/x/text/language"

	"github.com/gatewatch/gatewatch/locales"
)

// A langRule is one line of the fallback's language choice: when Pattern
// (case-insensitive, as nginx's ~*) matches the value, the page is in
// Lang; "" is the site's default. nginx runs the rules as a chain of ifs,
// so the LAST rule that matches wins.
type langRule struct{ Lang, Pattern string }

// langRules are the fallback's rules for Accept-Language (header), and
// for ?lang= or the lang cookie (tag). They are not written by hand: the
// Catalog's own matcher is asked about every tag a browser may send (each
// base language, with each region and script), and a rule is added
// wherever the rules so far would answer otherwise, from the general
// (de) to the specific (zh-Hant-CN). So the fallback follows the live
// page's negotiation, whatever the matcher does. Two limits: nginx reads
// the header's first three tags in their order, the first it has a
// language for winning (the live page weighs every tag by its q and may
// prefer a later tag that matches better), and only the two-letter
// languages and a few three-letter ones are asked about.
func langRules(c *locales.Catalog) (header, tag []langRule) {
	steps := langCandidates(c)
	header = deriveRules(steps, headerEnd, func(t string) string {
		l, _ := c.Match("", "", t)
		return l.Code
	})
	tag = deriveRules(steps, tagEnd, func(t string) string {
		l, _ := c.Lookup(t)
		return l.Code
	})
	return header, tag
}

// What may follow a tag: in the header, more subtags, a weight or the
// next tag; in ?lang= or the cookie, more subtags or nothing.
const (
	headerEnd = "([-_;, ]|$)"
	tagEnd    = "([-_]|$)"
)

// A step of the derivation: tags to get right one by one, or, with
// Pattern, a group of tags (a language with any region) that one rule may
// set to their most common answer before the exceptions follow.
type step struct {
	groups []group
}

type group struct {
	pattern string // "" for tags set one by one
	tags    []string
}

// region matches a region subtag: two letters or three digits (es-419).
const region = "([a-z]{2}|[0-9]{3})"

// langCandidates are the tags to ask the matcher about, in the steps of
// the derivation: each base language; the base with any region; with
// each region and each script the supported languages spell out
// (zh-Hant); that script with any region; with each region.
func langCandidates(c *locales.Catalog) []step {
	type lang struct {
		base    string
		scripts []string
	}
	var langs []lang
	at := map[string]int{}
	add := func(b string) int {
		if i, ok := at[b]; ok {
			return i
		}
		at[b] = len(langs)
		langs = append(langs, lang{base: b})
		return len(langs) - 1
	}
	for _, l := range c.Languages() {
		b, _ := l.Tag.Base()
		i := add(b.String())
		if s, conf := l.Tag.Script(); conf == language.Exact {
			langs[i].scripts = append(langs[i].scripts, s.String())
		}
	}
	supported := len(langs)
	// Every other language the matcher may place (no, nn → nb; iw → he):
	// the two-letter ones and the three-letter ones browsers send.
	var others []string
	for a := 'a'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			if _, err := language.ParseBase(string([]rune{a, b})); err == nil {
				others = append(others, string([]rune{a, b}))
			}
		}
	}
	others = append(others, "fil", "yue", "cmn", "haw", "ast", "ckb", "gsw", "cnr")
	for _, b := range others {
		add(b)
	}
	regions := []string{"419"}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			if r, err := language.ParseRegion(string([]rune{a, b})); err == nil && r.IsCountry() && r.String() == string([]rune{a, b}) {
				regions = append(regions, r.String())
			}
		}
	}
	with := func(prefix string) []string {
		out := make([]string, len(regions))
		for i, r := range regions {
			out[i] = prefix + "-" + r
		}
		return out
	}
	steps := make([]step, 5)
	for i, l := range langs {
		b := l.base
		steps[0].groups = append(steps[0].groups, group{tags: []string{b}})
		// A language the matcher does not place is not placed with a
		// region either.
		if _, ok := c.Match("", "", b); i >= supported && !ok {
			continue
		}
		steps[1].groups = append(steps[1].groups, group{pattern: tagPattern(b) + "[-_]" + region, tags: with(b)})
		steps[2].groups = append(steps[2].groups, group{tags: with(b)})
		for _, s := range l.scripts {
			bs := b + "-" + s
			steps[2].groups = append(steps[2].groups, group{tags: []string{bs}})
			steps[3].groups = append(steps[3].groups, group{pattern: tagPattern(bs) + "[-_]" + region, tags: with(bs)})
			steps[4].groups = append(steps[4].groups, group{tags: with(bs)})
		}
	}
	return steps
}

// deriveRules adds, step by step, the rules that make the chain answer
// want for every candidate: a rule per group pattern where it gets more
// of the group's tags right, then one rule per language for the tags it
// still gets wrong. The tags and patterns of one step never match each
// other, so their order within the step is free.
func deriveRules(steps []step, end string, want func(string) string) []langRule {
	var rules []langRule
	var compiled []*regexp.Regexp
	push := func(lang, alternatives string) {
		p := "^ *(" + alternatives + ")" + end
		rules = append(rules, langRule{Lang: lang, Pattern: p})
		compiled = append(compiled, regexp.MustCompile("(?i)"+p))
	}
	answers := map[string]string{}
	answer := func(t string) string {
		a, ok := answers[t]
		if !ok {
			a = want(t)
			answers[t] = a
		}
		return a
	}
	for _, st := range steps {
		wrong := map[string][]string{}
		var langs []string
		var patterns []langRule
		for _, g := range st.groups {
			if g.pattern != "" {
				if l, ok := majority(g.tags, answer, func(t string) string { return evalRules(rules, compiled, t) }); ok {
					patterns = append(patterns, langRule{Lang: l, Pattern: g.pattern})
				}
				continue
			}
			for _, t := range g.tags {
				w := answer(t)
				if evalRules(rules, compiled, t) == w {
					continue
				}
				if _, ok := wrong[w]; !ok {
					langs = append(langs, w)
				}
				wrong[w] = append(wrong[w], tagPattern(t))
			}
		}
		for _, p := range patterns {
			push(p.Lang, p.Pattern)
		}
		for _, l := range langs {
			push(l, strings.Join(wrong[l], "|"))
		}
	}
	return rules
}

// majority is the most common answer among tags, and whether setting all
// of them to it gets more of them right than now does.
func majority(tags []string, want, now func(string) string) (string, bool) {
	count := map[string]int{}
	right := 0
	for _, t := range tags {
		w := want(t)
		count[w]++
		if now(t) == w {
			right++
		}
	}
	best, n := "", -1
	for l, c := range count {
		if c > n || c == n && l < best {
			best, n = l, c
		}
	}
	return best, n > right
}

// tagPattern is t as a regex that also takes "_" for "-" (de_DE).
func tagPattern(t string) string {
	return strings.ReplaceAll(strings.ToLower(t), "-", "[-_]")
}

// evalRules is what nginx's chain of ifs answers for v: the language of
// the last rule that matches, or "" (the site's default).
func evalRules(rules []langRule, compiled []*regexp.Regexp, v string) string {
	for i := len(rules) - 1; i >= 0; i-- {
		if compiled[i].MatchString(v) {
			return rules[i].Lang
		}
	}
	return ""
}
