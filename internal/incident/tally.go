package incident

import (
	"cmp"
	"encoding/hex"
	"maps"
	"slices"
	"time"
)

// Batch is what one store write adds: the counts of every event recorded
// since the last batch, and the events that keep a row of their own. The
// rows are already in the counts; a row may come one batch after its count.
type Batch struct {
	Counts   []GroupCount  // per site and upstream, sorted
	Seconds  []SecondCount // per site and second, sorted
	Visitors []SiteVisitor // distinct per site and minute, sorted
	Rows     []Event
}

// SiteVisitor is a visitor seen on a site during a minute.
type SiteVisitor struct {
	Site   string
	Minute time.Time // start of the minute
	Hash   string
}

// GroupCount is what a batch adds to the open incident of one site and
// upstream.
type GroupCount struct {
	Site, Upstream string
	First, Last    time.Time
	Requests       int64
	Codes          map[int]int64
	Paths          map[string]int64
	Locales        map[string]int64
	Visitors       []string // distinct visitor hashes
	Cause          Cause    // the most trusted of the events' causes, the latest among equals
	CauseAt        time.Time

	// IncidentID is set by the store on a successful write.
	IncidentID int64
}

// SecondCount is how many events of a site a batch holds in one second.
type SecondCount struct {
	Site string
	At   time.Time // start of the second
	N    int64
}

// Bounds on what one tally holds, so that a store that is down for long
// (the tally is kept and retried) or a scanner's flood of distinct paths
// does not grow memory without limit. Past them a path is counted in its
// incident's requests but not by name; visitors past the bound are not
// told apart (the tally's overflow counter says how many were not).
const (
	maxTallyPaths    = 20000
	maxTallyVisitors = 200000
)

// tally counts events in memory between two store writes. It is cheap to
// add to (a few map updates, no allocation once the maps have grown), so
// the Recorder counts every event on the request path, whatever happens to
// its row.
type tally struct {
	groups   map[groupKey]*groupTally
	seconds  map[secondKey]int64
	minutes  map[minuteVisitor]struct{}
	events   int64
	paths    int // distinct paths over all groups
	visitors int // distinct visitors over all groups
	// overflow counts the events whose path or visitor the bounds above
	// left out.
	overflow int64
}

type groupKey struct{ site, upstream string }

// minuteVisitor is a visitor, by key or by hash, on a site in a minute.
type minuteVisitor struct {
	site   string
	minute int64 // start of the minute, in microseconds
	key    [16]byte
	hash   string
}

// minuteMicros is the granule of site_visitors.
const minuteMicros = 60 * secondMicros

type secondKey struct {
	site string
	at   int64 // start of the second, in microseconds
}

type groupTally struct {
	first, last time.Time
	requests    int64
	codes       map[int]int64
	paths       map[string]int64
	locales     map[string]int64
	keys        map[[16]byte]struct{} // VisitorKey, spelled out off the request path
	hashes      map[string]struct{}   // VisitorHash when the caller gave one
	cause       Cause
	causeAt     time.Time

	// The nginx variables last classified and their cause: a storm repeats
	// the same few, so most events need no classification.
	varSet   bool
	varReq   [4]string
	varCode  int
	varCause Cause
	varOK    bool
}

func newTally() *tally {
	return &tally{groups: make(map[groupKey]*groupTally), seconds: make(map[secondKey]int64),
		minutes: make(map[minuteVisitor]struct{})}
}

// add counts e.
func (t *tally) add(e *Event) {
	k := groupKey{e.Site, e.Upstream}
	g := t.groups[k]
	if g == nil {
		g = &groupTally{first: e.Time, last: e.Time, codes: make(map[int]int64), paths: make(map[string]int64),
			locales: make(map[string]int64), keys: make(map[[16]byte]struct{})}
		t.groups[k] = g
	}
	t.events++
	g.requests++
	if e.Time.Before(g.first) {
		g.first = e.Time
	}
	if e.Time.After(g.last) {
		g.last = e.Time
	}
	g.codes[e.Code]++
	if e.Path != "" {
		if _, ok := g.paths[e.Path]; ok || t.paths < maxTallyPaths {
			if !ok {
				t.paths++
			}
			g.paths[e.Path]++
		} else {
			t.overflow++
		}
	}
	if e.Locale != "" {
		g.locales[e.Locale]++
	}
	switch {
	case e.VisitorHash != "":
		if g.hashes == nil {
			g.hashes = make(map[string]struct{})
		}
		addVisitor(t, g.hashes, e.VisitorHash)
	case e.VisitorKey != [16]byte{}:
		addVisitor(t, g.keys, e.VisitorKey)
	}
	if e.VisitorHash != "" || e.VisitorKey != [16]byte{} {
		us := micro(e.Time)
		mv := minuteVisitor{site: e.Site, minute: us - us%minuteMicros, hash: e.VisitorHash}
		if mv.hash == "" {
			mv.key = e.VisitorKey
		}
		addVisitor(t, t.minutes, mv)
	}
	t.seconds[secondKey{e.Site, secondOf(micro(e.Time))}]++
	g.offerCause(g.eventCause(e), e.Time)
}

// addVisitor adds v to set unless t already holds maxTallyVisitors.
func addVisitor[K comparable](t *tally, set map[K]struct{}, v K) {
	if _, ok := set[v]; ok {
		return
	}
	if t.visitors >= maxTallyVisitors {
		t.overflow++
		return
	}
	t.visitors++
	set[v] = struct{}{}
}

// eventCause is EventCause(*e), classifying nginx's variables only when
// they differ from the group's previous event's.
func (g *groupTally) eventCause(e *Event) Cause {
	if e.Cause.Source != "" {
		return e.Cause
	}
	req := [4]string{e.UpstreamAddr, e.UpstreamStatus, e.UpstreamConnectTime, e.UpstreamResponseTime}
	if !g.varSet || req != g.varReq || e.Code != g.varCode {
		g.varSet, g.varReq, g.varCode = true, req, e.Code
		g.varCause, g.varOK = NginxVarCause(*e)
	}
	if g.varOK {
		return g.varCause
	}
	if e.NginxLog != "" {
		return NginxLogCause(e.NginxLog)
	}
	return Cause{}
}

// offerCause keeps c if it is more trusted than the group's cause, or as
// trusted and not older.
func (g *groupTally) offerCause(c Cause, at time.Time) {
	if r := c.Rank(); r > 0 && (r > g.cause.Rank() || (r == g.cause.Rank() && !at.Before(g.causeAt))) {
		g.cause, g.causeAt = c, at
	}
}

// merge adds o's counts to t: a tally whose write failed goes back into
// the next one.
func (t *tally) merge(o *tally) {
	for k, og := range o.groups {
		g := t.groups[k]
		if g == nil {
			t.groups[k] = og
			continue
		}
		g.requests += og.requests
		if og.first.Before(g.first) {
			g.first = og.first
		}
		if og.last.After(g.last) {
			g.last = og.last
		}
		for c, n := range og.codes {
			g.codes[c] += n
		}
		for p, n := range og.paths {
			g.paths[p] += n
		}
		for l, n := range og.locales {
			g.locales[l] += n
		}
		for v := range og.keys {
			g.keys[v] = struct{}{}
		}
		for v := range og.hashes {
			if g.hashes == nil {
				g.hashes = make(map[string]struct{})
			}
			g.hashes[v] = struct{}{}
		}
		g.offerCause(og.cause, og.causeAt)
	}
	for k, n := range o.seconds {
		t.seconds[k] += n
	}
	for k := range o.minutes {
		t.minutes[k] = struct{}{}
	}
	t.events += o.events
	t.paths += o.paths
	t.visitors += o.visitors
	t.overflow += o.overflow
}

// batch returns t's counts in the store's form, sorted so that concurrent
// writers lock rows in one order.
func (t *tally) batch() Batch {
	var b Batch
	for k, g := range t.groups {
		gc := GroupCount{Site: k.site, Upstream: k.upstream, First: g.first, Last: g.last, Requests: g.requests,
			Codes: g.codes, Paths: g.paths, Locales: g.locales, Cause: g.cause, CauseAt: g.causeAt}
		gc.Visitors = make([]string, 0, len(g.keys)+len(g.hashes))
		for v := range g.keys {
			gc.Visitors = append(gc.Visitors, hex.EncodeToString(v[:]))
		}
		for v := range g.hashes {
			gc.Visitors = append(gc.Visitors, v)
		}
		b.Counts = append(b.Counts, gc)
	}
	slices.SortFunc(b.Counts, func(a, b GroupCount) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Upstream, b.Upstream))
	})
	for _, k := range slices.SortedFunc(maps.Keys(t.seconds), func(a, b secondKey) int {
		return cmp.Or(cmp.Compare(a.site, b.site), cmp.Compare(a.at, b.at))
	}) {
		b.Seconds = append(b.Seconds, SecondCount{Site: k.site, At: fromMicro(k.at), N: t.seconds[k]})
	}
	for mv := range t.minutes {
		h := mv.hash
		if h == "" {
			h = hex.EncodeToString(mv.key[:])
		}
		b.Visitors = append(b.Visitors, SiteVisitor{Site: mv.site, Minute: fromMicro(mv.minute), Hash: h})
	}
	slices.SortFunc(b.Visitors, func(a, b SiteVisitor) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), a.Minute.Compare(b.Minute), cmp.Compare(a.Hash, b.Hash))
	})
	return b
}

// CountEvents returns the batch that stores events: all of them counted,
// those that are not CountOnly with rows.
func CountEvents(events []Event) Batch {
	t := newTally()
	var rows []Event
	for i := range events {
		t.add(&events[i])
		if !events[i].CountOnly {
			e := events[i]
			e.FillVisitorHash()
			rows = append(rows, e)
		}
	}
	b := t.batch()
	b.Rows = rows
	return b
}
