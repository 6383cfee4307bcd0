package nginxlog

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultIndexSize is the number of entries NewIndex keeps when given a
// size <= 0.
const DefaultIndexSize = 10000

// bytesPerEntry is the room for raw lines an Index keeps per entry of its
// size: nginx's lines about a failed request are 250-500 bytes, and it cuts
// them at 2048. When long lines fill the room first, the oldest entries go
// early: the Index is bounded by bytes as well as by count.
const bytesPerEntry = 512

// perConnLimit bounds the entries kept for one connection number. A
// keep-alive or HTTP/2 connection can fail many requests in a row; the most
// recent ones are the evidence, and the cap keeps lookups cheap.
const perConnLimit = 64

// Index keeps the most recent error.log entries, bounded by count and by
// bytes, and finds them by nginx connection number. Entries are evicted
// oldest first. It is safe for concurrent use: a Follower adds while
// handlers look up.
//
// An entry is kept as a compact record (connection, time, cause, a hash of
// its request's method and path, and where its raw line lies in one ring
// of bytes), so that what the Index holds has no pointers for the garbage
// collector to scan and a lookup copies nothing: EachNear hands the
// records to a callback. Lookup, LookupNear and Recent parse the raw line
// again for the whole Entry.
//
// nginx restarts its connection counter at zero when it restarts, and a
// number is reused by every request on a keep-alive connection, so one
// number can name several unrelated failures: lookups return them all with
// their times and LookupNear keeps those close to the event's time.
type Index struct {
	mu    sync.Mutex
	max   int
	recs  []record // entry number s lives at recs[s%max]
	first uint64   // the oldest kept entry's number
	added uint64   // entries ever added; the next entry's number
	// raw holds the raw lines: byte offset o (counted since the start)
	// lives at raw[o%len(raw)]; rawStart is the oldest kept entry's.
	raw      []byte
	rawCap   int
	rawStart uint64
	rawEnd   uint64
	latest   map[int64]uint64 // a connection's newest entry number
	loc      *time.Location   // the entries' time zone, for parsing again
	seed     maphash.Seed
}

// record is one kept entry. Records of one connection are chained newest
// to oldest by prev.
type record struct {
	conn      int64
	unixNano  int64
	request   uint64 // RequestKey of the entry's request line; 0 for none
	prev      uint64 // the connection's previous entry number, plus one; 0 for none
	off       uint64 // the raw line's byte offset
	n         uint32 // the raw line's length
	cause     Cause
	truncated bool
}

// NewIndex returns an empty Index that keeps at most size entries
// (DefaultIndexSize when size <= 0), and at most size×512 bytes of raw
// lines (64 KB at least).
func NewIndex(size int) *Index {
	if size <= 0 {
		size = DefaultIndexSize
	}
	return &Index{max: size, rawCap: max(size*bytesPerEntry, 4*DefaultMaxLineBytes), latest: make(map[int64]uint64), seed: maphash.MakeSeed(), loc: time.UTC}
}

// RequestKey is the key EachNear's lines carry for their request line's
// method and path (without query): compare it with Line.Request to find a
// request's own lines among its connection's. It does not allocate.
func (ix *Index) RequestKey(method, path string) uint64 {
	var h maphash.Hash
	h.SetSeed(ix.seed)
	h.WriteString(method)
	h.WriteByte(' ')
	h.WriteString(path)
	return h.Sum64() | 1 // never 0, the key of no request line
}

// requestKey is RequestKey of an entry's request line ("GET /x?y HTTP/1.1").
func (ix *Index) requestKey(request string) uint64 {
	if request == "" {
		return 0
	}
	m, rest, _ := strings.Cut(request, " ")
	target, _, _ := strings.Cut(rest, " ")
	target, _, _ = strings.Cut(target, "?")
	return ix.RequestKey(m, target)
}

// Add records e, evicting the oldest entries when the Index is full. Only
// e's Time, Conn, Cause, Truncated, Request (as a key) and Raw are kept:
// the rest is parsed from Raw again when asked for. Entries without a
// connection number (Conn 0) are kept for Recent but cannot be looked up.
func (ix *Index) Add(e Entry) {
	line, truncated := e.Raw, e.Truncated
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.raw == nil {
		// Grown on first use, once: no pointers in it, so the collector
		// never scans it.
		ix.raw = make([]byte, ix.rawCap)
	}
	if len(line) > ix.rawCap/4 {
		// A line longer than nginx writes (Follower's MaxLineBytes may
		// allow it) keeps its start, and the Index most of its entries.
		line, truncated = line[:ix.rawCap/4], true
	}
	for ix.added-ix.first >= uint64(ix.max) || ix.rawEnd+uint64(len(line))-ix.rawStart > uint64(ix.rawCap) {
		ix.evictOldest()
	}
	if loc := e.Time.Location(); loc != nil {
		ix.loc = loc
	}
	s := ix.added
	ix.added++
	r := record{conn: e.Conn, unixNano: e.Time.UnixNano(), request: ix.requestKey(e.Request),
		off: ix.rawEnd, n: uint32(len(line)), cause: e.Cause, truncated: truncated}
	ix.putRaw(line)
	if e.Conn != 0 {
		if p, ok := ix.latest[e.Conn]; ok {
			r.prev = p + 1
		}
		ix.latest[e.Conn] = s
	}
	if len(ix.recs) < ix.max {
		ix.recs = append(ix.recs, r)
	} else {
		ix.recs[s%uint64(ix.max)] = r
	}
}

// evictOldest drops the oldest kept entry.
func (ix *Index) evictOldest() {
	if ix.first == ix.added {
		ix.rawStart = ix.rawEnd
		return
	}
	s := ix.first
	r := &ix.recs[s%uint64(ix.max)]
	ix.first++
	ix.rawStart = r.off + uint64(r.n)
	if r.conn != 0 && ix.latest[r.conn] == s {
		// The connection's newest entry goes last of its entries.
		delete(ix.latest, r.conn)
	}
}

func (ix *Index) putRaw(line string) {
	o := int(ix.rawEnd % uint64(ix.rawCap))
	n := copy(ix.raw[o:], line)
	copy(ix.raw, line[n:])
	ix.rawEnd += uint64(len(line))
}

// rawOf returns r's raw line as a new string.
func (ix *Index) rawOf(r *record) string {
	o := int(r.off % uint64(ix.rawCap))
	if end := o + int(r.n); end <= ix.rawCap {
		return string(ix.raw[o:end])
	}
	var b strings.Builder
	b.Grow(int(r.n))
	b.Write(ix.raw[o:])
	b.Write(ix.raw[:int(r.n)-(ix.rawCap-o)])
	return b.String()
}

// entryOf parses r's raw line again into the whole Entry. A line that does
// not parse (an Entry added without Raw) comes back with what was kept.
func (ix *Index) entryOf(r *record) Entry {
	raw := ix.rawOf(r)
	e, err := ParseLine(raw, ix.loc)
	if err != nil {
		e = Entry{Raw: raw, Conn: r.conn, Cause: r.cause}
	}
	e.Time = time.Unix(0, r.unixNano).In(ix.loc)
	e.Conn, e.Cause = r.conn, r.cause
	e.Truncated = e.Truncated || r.truncated
	return e
}

// Line is one kept entry as EachNear hands it over: valid only during the
// callback.
type Line struct {
	Time time.Time
	// Cause is Classify of the entry's message.
	Cause Cause
	// Request is RequestKey of the entry's request line's method and path,
	// 0 when the line names no request.
	Request uint64
	ix      *Index
	r       *record
}

// Raw returns the whole line as read, as a new string.
func (l Line) Raw() string { return l.ix.rawOf(l.r) }

// Entry returns the whole Entry, parsed from the raw line again.
func (l Line) Entry() Entry { return l.ix.entryOf(l.r) }

// EachNear calls fn with each kept entry of connection conn whose time is
// within window of at (any time when window < 0), newest first, until fn
// returns false. At most the 64 most recent entries of one connection are
// kept. fn runs under the Index's lock: it must not call the Index, and
// the Line is valid only until it returns. EachNear does not allocate.
func (ix *Index) EachNear(conn int64, at time.Time, window time.Duration, fn func(Line) bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.eachNearLocked(conn, at, window, fn)
}

func (ix *Index) eachNearLocked(conn int64, at time.Time, window time.Duration, fn func(Line) bool) {
	if conn == 0 {
		return
	}
	s, ok := ix.latest[conn]
	if !ok {
		return
	}
	atNano := at.UnixNano()
	for i := 0; i < perConnLimit && s >= ix.first; i++ {
		r := &ix.recs[s%uint64(ix.max)]
		d := r.unixNano - atNano
		if d < 0 {
			d = -d
		}
		if window < 0 || d <= int64(window) {
			if !fn(Line{Time: time.Unix(0, r.unixNano).In(ix.loc), Cause: r.cause, Request: r.request, ix: ix, r: r}) {
				return
			}
		}
		if r.prev == 0 {
			return
		}
		s = r.prev - 1
	}
}

// Evidence is the raw line that is the evidence for one request: among
// the kept entries of connection conn within window of at, those about
// the request's method and path when any is (a keep-alive connection
// carries several requests, and nginx logs each one's failure with its
// request line), else all of them; of those the newest that names a cause
// (not CauseOther), failing that the newest. ok is false when there is
// none. Only the returned line is allocated.
func (ix *Index) Evidence(conn int64, at time.Time, window time.Duration, method, path string) (raw string, ok bool) {
	key := ix.RequestKey(method, path)
	var own, ownCaused, any, anyCaused Line
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.eachNearLocked(conn, at, window, func(l Line) bool {
		if any.r == nil {
			any = l
		}
		if anyCaused.r == nil && l.Cause != CauseOther {
			anyCaused = l
		}
		if l.Request == key {
			if own.r == nil {
				own = l
			}
			if ownCaused.r == nil && l.Cause != CauseOther {
				ownCaused = l
			}
		}
		return ownCaused.r == nil
	})
	pick := any
	switch {
	case ownCaused.r != nil:
		pick = ownCaused
	case own.r != nil:
		pick = own
	case anyCaused.r != nil:
		pick = anyCaused
	}
	if pick.r == nil {
		return "", false
	}
	return ix.rawOf(pick.r), true
}

// Lookup returns the kept entries for connection number conn, oldest first,
// or nil. At most the 64 most recent entries of one connection are kept.
func (ix *Index) Lookup(conn int64) []Entry {
	return ix.LookupNear(conn, time.Time{}, -1)
}

// LookupNear returns Lookup(conn) restricted to entries whose Time is
// within window of at, oldest first. nginx logs whole seconds and writes the
// line just before handing the request to gatewatch, so a window of a few
// seconds joins an event to its own lines and not to those of an earlier
// nginx process that used the same number. Each Entry is parsed again from
// its raw line: for pages that show them, not for every event (see
// EachNear and Evidence).
func (ix *Index) LookupNear(conn int64, at time.Time, window time.Duration) []Entry {
	var out []Entry
	ix.EachNear(conn, at, window, func(l Line) bool {
		out = append(out, l.Entry())
		return true
	})
	slices.Reverse(out)
	return out
}

// Recent returns up to n of the most recently added entries, oldest first,
// including those without a connection number.
func (ix *Index) Recent(n int) []Entry {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n = min(n, int(ix.added-ix.first))
	if n <= 0 {
		return nil
	}
	out := make([]Entry, 0, n)
	for s := ix.added - uint64(n); s < ix.added; s++ {
		out = append(out, ix.entryOf(&ix.recs[s%uint64(ix.max)]))
	}
	return out
}

// Len returns the number of entries kept.
func (ix *Index) Len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return int(ix.added - ix.first)
}

// ForRequest narrows entries of one connection to those about the request
// method and path (without query), when any is: a keep-alive connection
// carries several requests, and nginx logs each one's failure with its
// request line. With no such entry, entries come back whole.
func ForRequest(entries []Entry, method, path string) []Entry {
	var out []Entry
	for _, e := range entries {
		m, rest, _ := strings.Cut(e.Request, " ")
		target, _, _ := strings.Cut(rest, " ")
		target, _, _ = strings.Cut(target, "?")
		if m == method && target == path {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return entries
	}
	return out
}
