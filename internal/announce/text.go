package announce

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRunes bounds an announcement's text: a few sentences, not a page.
const MaxRunes = 500

// Errors of Clean.
var (
	ErrEmpty   = errors.New("announcement text is empty")
	ErrTooLong = errors.New("announcement text is longer than 500 characters")
)

// Clean returns text tidied for display: valid UTF-8, no control or
// format characters (bidi overrides included) but line breaks, at most
// one blank line in a row, trimmed. It refuses empty and overlong text.
func Clean(text string) (string, error) {
	text = strings.ToValidUTF8(text, "")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var b strings.Builder
	newlines := 0
	for _, r := range text {
		switch {
		case r == '\n' || r == '\r':
			newlines++
			if newlines <= 2 {
				b.WriteRune('\n')
			}
			continue
		case r == '\t':
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		newlines = 0
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	switch {
	case out == "":
		return "", ErrEmpty
	case utf8.RuneCountInString(out) > MaxRunes:
		return "", ErrTooLong
	}
	return out, nil
}

// Part is a run of an announcement's text; Href is set for a link, whose
// text is its own address.
type Part struct {
	Text string `json:"text"`
	Href string `json:"href,omitempty"`
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"'` + "`" + `]+`)

// Parts splits text into plain runs and http(s) links. Only absolute
// http and https URLs with a host become links; trailing punctuation stays
// text.
func Parts(text string) []Part {
	var out []Part
	rest := text
	for rest != "" {
		loc := linkRE.FindStringIndex(rest)
		if loc == nil {
			break
		}
		raw := strings.TrimRight(rest[loc[0]:loc[1]], ".,;:!?)]}")
		end := loc[0] + len(raw)
		if href := safeHref(raw); href != "" {
			if loc[0] > 0 {
				out = append(out, Part{Text: rest[:loc[0]]})
			}
			out = append(out, Part{Text: raw, Href: href})
		} else {
			out = append(out, Part{Text: rest[:end]})
		}
		rest = rest[end:]
	}
	if rest != "" {
		out = append(out, Part{Text: rest})
	}
	return out
}

func safeHref(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}
