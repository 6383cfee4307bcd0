package public

import (
	"bytes"
	"strconv"
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/locales"
)

// A prepared page is the error page rendered once per variant (site,
// language, code, platform, browser) with a marker wherever a request
// brings its own value, then cut at the markers. Serving it writes the
// chunks and the request's values in turn: no templates, no translations
// and no allocations on the request path (BenchmarkErrorPageBrowser,
// TestErrorPageDoesNotAllocate; BENCHMARKS.md shows what it buys under a
// storm). This file is where that fast path is documented.
//
// The escapers here (appendAttr, appendMailEscaped) are the standard
// library's mappings written to append without allocating;
// FuzzPreparedEqualsDirect holds every prepared page, plain and gzip, to a
// direct templ render of the same values, and FuzzMailEscapeIsQueryEscape
// the mailto encoder to url.QueryEscape.
//
// A new per-request value: a slot and its mark below, its case in
// appendSlot (and fill's field, set in fillFor), the pageValues field the
// page model takes it from (view.go; markValues gives it the mark), and,
// if the static fallback pages show it, its SSI command (render.go).

// slot is a place in a prepared page that each request fills.
type slot uint8

const (
	slotMethod     slot = iota // the failed request's method
	slotRetryAfter             // seconds, for the script
	slotVerdict                // the "down for everyone?" section
	slotURI                    // the failed URI, in an attribute
	slotPath                   // its path, in an attribute
	slotHidden                 // hidden inputs for its query
	slotRefID                  // the reference
	slotRefTime                // the time, UTC
	slotRefISO                 // the time, RFC 3339
	slotMailRef                // the reference inside the mailto URL
	slotMailTime               // the time inside the mailto URL
	slotMailURL                // the page's address inside the mailto URL
	slotStatusURL              // the poll URL for the request's upstream, in an attribute
	slotAnnounce               // the staff's announcements, above the verdict
	numSlots
)

// marks are what the page is rendered with in place of each slot. \x01
// never occurs in a page otherwise: translations and config values are
// text, and request values are not in the pre-rendered page. Inside the
// mailto URL the markers come out percent-encoded.
var marks = [numSlots]string{
	slotMethod: "\x01b\x01", slotRetryAfter: "\x01c\x01", slotVerdict: "\x01d\x01",
	slotURI: "\x01e\x01", slotPath: "\x01f\x01", slotHidden: "\x01g\x01", slotRefID: "\x01h\x01",
	slotRefTime: "\x01i\x01", slotRefISO: "\x01j\x01", slotMailRef: "%01h%01", slotMailTime: "%01i%01", slotMailURL: "%01k%01",
	slotStatusURL: "\x01l\x01", slotAnnounce: "\x01m\x01",
}

// mailURLMark is the page address in the localized e-mail body before
// percent-encoding turns it into marks[slotMailURL].
const mailURLMark = "\x01k\x01"

// prepared is a page cut at its slots: chunks[i] comes before slots[i],
// and the last chunk ends the page.
type prepared struct {
	chunks [][]byte
	slots  []slot
	static int // bytes in chunks
	// deflated[i] is chunks[i] compressed on its own and ended with a
	// sync flush, so that a request's values can sit between them as
	// stored blocks: a gzip body without compressing anything per request.
	deflated [][]byte
	// crcs[i] is chunks[i]'s CRC-32 and ops[i] the operator that
	// combines it after what precedes it (crc32combine).
	crcs, ops []uint32
	// frameable: the chunks can be deflated in one stream (framer): no
	// chunk holds the filler byte, and the slots fit lengths.
	frameable bool
}

// prepare cuts a page rendered with marks.
func prepare(page []byte) *prepared {
	p := &prepared{}
	defer p.deflate()
	for {
		at, s := nextMark(page)
		if at < 0 {
			p.chunks = append(p.chunks, page)
			p.static += len(page)
			return p
		}
		p.chunks = append(p.chunks, page[:at])
		p.static += at
		p.slots = append(p.slots, s)
		page = page[at+len(marks[s]):]
	}
}

func nextMark(page []byte) (int, slot) {
	best, which := -1, slot(0)
	for s, m := range marks {
		if i := bytes.Index(page, []byte(m)); i >= 0 && (best < 0 || i < best) {
			best, which = i, slot(s)
		}
	}
	return best, which
}

// fill is one request's values for the slots.
type fill struct {
	method     string
	retryAfter int
	verdict    []byte
	verdictZ   []byte // verdict deflated on its own (see verdictHTML)
	announce   []byte // the announcement section, and deflated
	announceZ  []byte
	uri        string
	path       string
	query      string
	refID      string
	now        time.Time
	lang       locales.Language // for the reference time's digits
	mailURL    [4]string        // proto, "://", host, uri: written percent-encoded in turn
	// The poll URL: its prefix for the site, upstream and language
	// (escaped when built), then the request's evidence.
	statusPrefix string
	kind         cause.Kind
	failedAt     time.Time
	appRetry     int
}

// appendPage appends the page for f to b.
func (p *prepared) appendPage(b []byte, f *fill) []byte {
	for i, s := range p.slots {
		b = append(b, p.chunks[i]...)
		b = p.appendSlot(b, s, f)
	}
	return append(b, p.chunks[len(p.chunks)-1]...)
}

// appendSlot appends the request's value for slot s.
func (p *prepared) appendSlot(b []byte, s slot, f *fill) []byte {
	switch s {
	case slotMethod:
		b = appendAttr(b, f.method)
	case slotRetryAfter:
		b = strconv.AppendInt(b, int64(f.retryAfter), 10)
	case slotVerdict:
		b = append(b, f.verdict...)
	case slotAnnounce:
		b = append(b, f.announce...)
	case slotURI:
		b = appendAttr(b, f.uri)
	case slotPath:
		b = appendAttr(b, f.path)
	case slotHidden:
		b = appendHiddenInputs(b, f.query)
	case slotRefID:
		b = appendAttr(b, f.refID)
	case slotRefTime:
		if f.lang.Digits == "" {
			b = f.now.UTC().AppendFormat(b, refTimeLayout)
		} else {
			// In the digits the script's local time beside it uses too.
			var t [32]byte
			b = f.lang.AppendNumber(b, string(f.now.UTC().AppendFormat(t[:0], refTimeLayout)))
		}
	case slotRefISO:
		b = f.now.UTC().AppendFormat(b, time.RFC3339)
	case slotMailRef:
		b = appendMailEscaped(b, f.refID)
	case slotMailTime:
		var t [32]byte
		b = appendMailEscaped(b, f.now.UTC().AppendFormat(t[:0], refTimeLayout))
	case slotMailURL:
		for _, part := range f.mailURL {
			b = appendMailEscaped(b, part)
		}
	case slotStatusURL:
		b = appendAttr(b, f.statusPrefix)
		// The rest is [a-z_0-9=&]: only & needs escaping in an attribute,
		// and appendStatusQuery's output is escaped by writing it as &amp;.
		start := len(b)
		b = appendStatusQuery(b, f.kind, f.failedAt, f.appRetry)
		b = ampEscape(b, start)
	}
	return b
}

// ampEscape rewrites each & in b[start:] as &amp;, in place.
func ampEscape(b []byte, start int) []byte {
	n := bytes.Count(b[start:], []byte("&"))
	if n == 0 {
		return b
	}
	old := len(b)
	b = append(b, make([]byte, 4*n)...)
	w := len(b)
	for r := old - 1; r >= start; r-- {
		if b[r] == '&' {
			w -= 5
			copy(b[w:], "&amp;")
			continue
		}
		w--
		b[w] = b[r]
	}
	return b
}

// appendAttr appends s escaped for an HTML attribute or text.
func appendAttr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&#34;"...)
		case '\'':
			b = append(b, "&#39;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

// appendMailEscaped percent-encodes s for a mailto header value (RFC
// 6068): unreserved characters stay, everything else, space included, is
// %XX.
func appendMailEscaped[T string | []byte](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// appendHiddenInputs keeps the failed URL's query parameters (but lang)
// in the language switcher's form, escaped, at most maxKeptParams.
func appendHiddenInputs(b []byte, query string) []byte {
	n := 0
	for query != "" && n < maxKeptParams {
		var pair string
		pair, query, _ = cutAny(query, "&;")
		if pair == "" {
			continue
		}
		name, value, _ := cutAny(pair, "=")
		name, value = unescapeQuery(name), unescapeQuery(value)
		if name == "lang" || name == "" {
			continue
		}
		b = append(b, `<input type="hidden" name="`...)
		b = appendAttr(b, name)
		b = append(b, `" value="`...)
		b = appendAttr(b, value)
		b = append(b, `">`...)
		n++
	}
	return b
}

func cutAny(s, seps string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(seps); j++ {
			if s[i] == seps[j] {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}
