package nginxlog

import (
	"strings"
	"sync"
	"time"
)

// DefaultIndexSize is the number of entries NewIndex keeps when given a
// size <= 0: at a few hundred bytes each, about a few MB of recent evidence.
const DefaultIndexSize = 10000

// perConnLimit bounds the entries kept for one connection number. A
// keep-alive or HTTP/2 connection can fail many requests in a row; the most
// recent ones are the evidence, and the cap keeps Lookup cheap.
const perConnLimit = 64

// Index keeps the most recent error.log entries, bounded by count, and
// finds them by nginx connection number. Entries are evicted oldest first.
// It is safe for concurrent use: a Follower adds while handlers look up.
//
// nginx restarts its connection counter at zero when it restarts, and a
// number is reused by every request on a keep-alive connection, so one
// number can name several unrelated failures: Lookup returns them all with
// their times and LookupNear keeps those close to the event's time.
type Index struct {
	mu     sync.Mutex
	max    int
	ring   []Entry            // entry number s lives at ring[s%max]
	added  uint64             // entries ever added; the next entry's number
	byConn map[int64][]uint64 // entry numbers per connection, oldest first
}

// NewIndex returns an empty Index that keeps at most max entries
// (DefaultIndexSize when max <= 0).
func NewIndex(max int) *Index {
	if max <= 0 {
		max = DefaultIndexSize
	}
	return &Index{max: max, byConn: make(map[int64][]uint64)}
}

// Add records e, evicting the oldest entry when the Index is full. Entries
// without a connection number (Conn 0) are kept for Recent but cannot be
// looked up.
func (ix *Index) Add(e Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := ix.added
	ix.added++
	pos := int(s % uint64(ix.max))
	if len(ix.ring) < ix.max {
		ix.ring = append(ix.ring, e)
	} else {
		ix.forget(ix.ring[pos].Conn, s-uint64(ix.max))
		ix.ring[pos] = e
	}
	if e.Conn == 0 {
		return
	}
	list := append(ix.byConn[e.Conn], s)
	if len(list) > perConnLimit {
		list = list[len(list)-perConnLimit:]
	}
	ix.byConn[e.Conn] = list
}

// forget drops entry number s of connection conn from byConn. Evictions
// happen oldest first, so s is either the front of conn's list or was
// already dropped there by perConnLimit.
func (ix *Index) forget(conn int64, s uint64) {
	if conn == 0 {
		return
	}
	list := ix.byConn[conn]
	if len(list) > 0 && list[0] == s {
		list = list[1:]
	}
	if len(list) == 0 {
		delete(ix.byConn, conn)
		return
	}
	ix.byConn[conn] = list
}

// Lookup returns the kept entries for connection number conn, oldest first,
// or nil. At most the 64 most recent entries of one connection are kept.
func (ix *Index) Lookup(conn int64) []Entry {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	list := ix.byConn[conn]
	if len(list) == 0 {
		return nil
	}
	out := make([]Entry, 0, len(list))
	for _, s := range list {
		out = append(out, ix.ring[s%uint64(ix.max)])
	}
	return out
}

// LookupNear returns Lookup(conn) restricted to entries whose Time is
// within window of at, oldest first. nginx logs whole seconds and writes the
// line just before handing the request to gatewatch, so a window of a few
// seconds joins an event to its own lines and not to those of an earlier
// nginx process that used the same number.
func (ix *Index) LookupNear(conn int64, at time.Time, window time.Duration) []Entry {
	var out []Entry
	for _, e := range ix.Lookup(conn) {
		d := e.Time.Sub(at)
		if d < 0 {
			d = -d
		}
		if d <= window {
			out = append(out, e)
		}
	}
	return out
}

// Recent returns up to n of the most recently added entries, oldest first,
// including those without a connection number.
func (ix *Index) Recent(n int) []Entry {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if n > len(ix.ring) {
		n = len(ix.ring)
	}
	if n <= 0 {
		return nil
	}
	out := make([]Entry, 0, n)
	for s := ix.added - uint64(n); s < ix.added; s++ {
		out = append(out, ix.ring[s%uint64(ix.max)])
	}
	return out
}

// Len returns the number of entries kept.
func (ix *Index) Len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.ring)
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
