package public

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/pages"
)

// maxPrepared bounds the prepared pages kept (13–25 KB each, the page and
// its deflated chunks, by language): more than the site × language × code
// × platform × browser variants an outage sees at once, and at most about
// 12 MB, well inside the default memory_limit. Past it, a new variant
// takes the place of the least recently used, so that a client cycling
// through variants costs preparations, never memory.
const maxPrepared = 512

// maxSections bounds each cache of rendered sections and encoded status
// responses. Their keys (site × upstream × language) come from the
// configuration and the catalogue, not from the client, so the bound is
// only a backstop.
const maxSections = 4096

type variantKey struct {
	site     *config.Site
	lang     string
	code     int
	platform string
	browser  string
	mode     string // stepMode of the verdict
	unsafe   bool   // a form submission failed
}

// page returns the prepared page for the request's variant, preparing it
// on first use.
func (d *publicDeps) page(ctx context.Context, q *request) (*prepared, error) {
	k := variantKey{site: q.site, lang: q.lang.Code, code: q.p.Code, platform: q.p.Platform, browser: q.p.Browser,
		mode: stepMode(q.dec.Verdict), unsafe: q.unsafe}
	// A variant is prepared once even when a burst of requests misses it
	// together, as every visitor of a fresh outage does.
	return d.pages.Fill(k, func() (*prepared, error) {
		pq := &request{
			p: proxied.Request{Code: q.p.Code, Method: marks[slotMethod], URI: marks[slotURI], RequestID: marks[slotRefID],
				Platform: q.p.Platform, Browser: q.p.Browser},
			site: q.site, lang: q.lang, tr: q.tr, langs: q.langs, dec: q.dec, unsafe: q.unsafe,
			timeText: marks[slotRefTime], isoText: marks[slotRefISO], mailURL: mailURLMark,
		}
		var buf bytes.Buffer
		m := buildPage(pq, markValues, d.assets, d.logos[q.site.Name], d.cfg.Server.AdminURL)
		// Others may wait for this page: one visitor leaving must not
		// fail it for them.
		if err := pages.ErrorPageView(m).Render(context.WithoutCancel(ctx), &buf); err != nil {
			return nil, err
		}
		return prepare(buf.Bytes()), nil
	})
}

// verdictKey names the verdict section of one upstream of a site ("" for
// the site as a whole) in one language.
type verdictKey struct {
	site     string
	upstream string
	lang     string
}

// fingerprint is what the verdict section shows of a decision.
type fingerprint struct {
	verdict  cause.Verdict
	origin   cause.Hop
	many     bool
	affected int
	window   time.Duration
}

func fingerprintOf(q *request) fingerprint {
	return fingerprint{q.dec.Verdict, q.dec.Origin, q.dec.Many, q.view.Affected, q.view.Window}
}

type verdictHTML struct {
	fp   fingerprint
	html []byte
	// deflated is html compressed on its own and sync-flushed, for the
	// gzip form of the page: the section is a kilobyte and more of text
	// that would otherwise go out as a stored block.
	deflated []byte
}

// verdict returns the section for the request's status and language,
// and its deflated form (see verdictHTML).
func (d *publicDeps) verdict(ctx context.Context, q *request) (html, deflated []byte) {
	fp := fingerprintOf(q)
	k := verdictKey{q.site.Name, q.upstream, q.lang.Code}
	if v, ok := d.verdicts.Get(k); ok && v.fp == fp {
		return v.html, v.deflated
	}
	live := buildLive(q.tr, q)
	var buf bytes.Buffer
	if err := pages.VerdictSection(buildVerdict(q.tr, q), &live).Render(ctx, &buf); err != nil {
		d.logger.Error("render verdict", "err", err)
		return nil, nil
	}
	v := &verdictHTML{fp: fp, html: buf.Bytes(), deflated: deflateChunks(buf.Bytes())[0]}
	d.verdicts.Add(k, v)
	return v.html, v.deflated
}

// unescapeQuery decodes a query component, keeping it as it is when it is
// not valid encoding.
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
