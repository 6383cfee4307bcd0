package handlers

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/pages"
)

// maxPrepared bounds the prepared pages kept (about 12 KB each): enough
// for every site × language × common code × platform a real outage sees;
// rarer variants are prepared per request.
const maxPrepared = 2048

type variantKey struct {
	site     *config.Site
	lang     string
	code     int
	platform string
	browser  string
}

// pageCache holds prepared pages by variant.
type pageCache struct {
	mu sync.RWMutex
	m  map[variantKey]*prepared
}

func (c *pageCache) get(k variantKey) *prepared {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[k]
}

func (c *pageCache) put(k variantKey, p *prepared) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[variantKey]*prepared{}
	}
	if len(c.m) < maxPrepared {
		c.m[k] = p
	}
}

// page returns the prepared page for the request's variant, preparing it
// on first use.
func (d *publicDeps) page(ctx context.Context, q *request) (*prepared, error) {
	k := variantKey{site: q.site, lang: q.lang.Code, code: q.p.Code, platform: q.p.platform, browser: q.p.browser}
	if p := d.pages.get(k); p != nil {
		return p, nil
	}
	pq := &request{
		p: proxied{Code: q.p.Code, Method: marks[slotMethod], URI: marks[slotURI], RequestID: marks[slotRefID],
			platform: q.p.platform, browser: q.p.browser},
		site: q.site, lang: q.lang, tr: q.tr, langs: q.langs,
		timeText: marks[slotRefTime], isoText: marks[slotRefISO], mailURL: mailURLMark,
	}
	var buf bytes.Buffer
	m := buildPage(pq, d.assets, d.logos[q.site.Name], d.cfg.Server.AdminURL)
	if err := pages.ErrorPageView(m).Render(ctx, &buf); err != nil {
		return nil, err
	}
	p := prepare(buf.Bytes())
	d.pages.put(k, p)
	return p, nil
}

// verdictKey names one site's verdict section in one language.
type verdictKey struct {
	site string
	lang string
}

// fingerprint is what the verdict section shows of a status.
type fingerprint struct {
	verdict  monitor.Verdict
	origin   monitor.HopState
	affected int
	window   time.Duration
}

type verdictHTML struct {
	fp   fingerprint
	html []byte
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

// verdict returns the section for the request's status and language.
func (d *publicDeps) verdict(ctx context.Context, q *request) []byte {
	fp := fingerprint{q.status.Verdict, q.status.Origin, q.status.Affected, q.status.Window}
	ptr := d.verdicts.slot(verdictKey{q.site.Name, q.lang.Code})
	if v := ptr.Load(); v != nil && v.fp == fp {
		return v.html
	}
	live := buildLive(q.tr, q)
	var buf bytes.Buffer
	if err := pages.VerdictSection(buildVerdict(q.tr, q.status), &live).Render(ctx, &buf); err != nil {
		d.logger.Error("render verdict", "err", err)
		return nil
	}
	v := &verdictHTML{fp: fp, html: buf.Bytes()}
	ptr.Store(v)
	return v.html
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
