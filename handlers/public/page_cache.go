package public

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/pages"
)

// maxPrepared bounds the prepared pages kept (13–25 KB each, the page and
// its deflated chunks, by language): more than the site × language × code
// × platform × browser variants an outage sees at once, and at most about
// 12 MB, well inside the default memory_limit. Past it, a new variant
// takes the place of a random one, so that a client cycling through
// variants costs preparations, never memory.
const maxPrepared = 512

type variantKey struct {
	site     *config.Site
	lang     string
	code     int
	platform string
	browser  string
	mode     string // stepMode of the verdict
	unsafe   bool   // a form submission failed
}

// pageCache holds prepared pages by variant. A variant is prepared once
// even when a burst of requests misses it together, as every visitor of a
// fresh outage does: the first prepares it, the others wait for it.
type pageCache struct {
	mu sync.RWMutex
	m  map[variantKey]*pageEntry
}

// pageEntry is a page being prepared (ready open) or prepared.
type pageEntry struct {
	ready chan struct{}
	p     *prepared
	err   error
}

// get returns the variant's page, running prepare for it on a miss.
func (c *pageCache) get(k variantKey, prepare func() (*prepared, error)) (*prepared, error) {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e == nil {
		c.mu.Lock()
		if e = c.m[k]; e == nil {
			if c.m == nil {
				c.m = map[variantKey]*pageEntry{}
			}
			c.evict()
			e = &pageEntry{ready: make(chan struct{})}
			c.m[k] = e
			c.mu.Unlock()
			e.p, e.err = prepare()
			if e.err != nil {
				// Let a later request try again.
				c.mu.Lock()
				delete(c.m, k)
				c.mu.Unlock()
			}
			close(e.ready)
			return e.p, e.err
		}
		c.mu.Unlock()
	}
	<-e.ready
	return e.p, e.err
}

// evict makes room for one more page when the cache is full, dropping a
// random one (map order) among those already prepared. Callers hold mu.
func (c *pageCache) evict() {
	if len(c.m) < maxPrepared {
		return
	}
	for k, e := range c.m {
		select {
		case <-e.ready:
			delete(c.m, k)
			return
		default: // still being prepared: others wait for it
		}
	}
}

// page returns the prepared page for the request's variant, preparing it
// on first use.
func (d *publicDeps) page(ctx context.Context, q *request) (*prepared, error) {
	k := variantKey{site: q.site, lang: q.lang.Code, code: q.p.Code, platform: q.p.platform, browser: q.p.browser,
		mode: stepMode(q.dec.Verdict), unsafe: q.unsafe}
	return d.pages.get(k, func() (*prepared, error) {
		pq := &request{
			p: proxied{Code: q.p.Code, Method: marks[slotMethod], URI: marks[slotURI], RequestID: marks[slotRefID],
				platform: q.p.platform, browser: q.p.browser},
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

// latest keeps, per key, the latest value made for it, so that readers
// of a value that has not changed share one copy without locking.
type latest[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]*atomic.Pointer[V]
}

// slot returns the key's cell, creating it on first use.
func (c *latest[K, V]) slot(k K) *atomic.Pointer[V] {
	c.mu.RLock()
	p := c.m[k]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]*atomic.Pointer[V]{}
	}
	if p = c.m[k]; p == nil {
		p = new(atomic.Pointer[V])
		c.m[k] = p
	}
	return p
}

// verdictCache keeps the latest rendered verdict section per site and
// language; a status change renders it once, not once per page view.
type verdictCache = latest[verdictKey, verdictHTML]

// verdict returns the section for the request's status and language,
// and its deflated form (see verdictHTML).
func (d *publicDeps) verdict(ctx context.Context, q *request) (html, deflated []byte) {
	fp := fingerprintOf(q)
	ptr := d.verdicts.slot(verdictKey{q.site.Name, q.upstream, q.lang.Code})
	if v := ptr.Load(); v != nil && v.fp == fp {
		return v.html, v.deflated
	}
	live := buildLive(q.tr, q)
	var buf bytes.Buffer
	if err := pages.VerdictSection(buildVerdict(q.tr, q), &live).Render(ctx, &buf); err != nil {
		d.logger.Error("render verdict", "err", err)
		return nil, nil
	}
	v := &verdictHTML{fp: fp, html: buf.Bytes(), deflated: deflateChunks(buf.Bytes())[0]}
	ptr.Store(v)
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
