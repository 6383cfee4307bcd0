package incident

import (
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one error page served to one visitor. The upstream fields are the
// strings nginx reported ($upstream_addr, $upstream_status, ...), kept
// verbatim because their shape ("10.0.0.1:80, 10.0.0.2:80", "-") is itself
// evidence for support staff.
type Event struct {
	Time                 time.Time
	Site                 string
	Upstream             string // configured upstream name; "" when nginx's address matched none
	Host                 string
	Path                 string
	Method               string
	Code                 int
	RequestID            string
	NginxConn            int64 // nginx's $connection, the key into its error.log
	UpstreamAddr         string
	UpstreamStatus       string
	UpstreamConnectTime  string
	UpstreamResponseTime string
	Locale               string
	VisitorHash          string
	Browser              string // browser family, e.g. "Firefox"
	NginxLog             string // the matching nginx error.log line, if any

	// VisitorKey is VisitorHash's 16 bytes, for callers on the request
	// path: the Recorder's writer goroutine sets VisitorHash to its 32
	// lowercase hex digits when VisitorHash is empty and the key is
	// non-zero, so that the page path does not allocate the string.
	VisitorKey [16]byte

	// CountOnly asks the store to count the event in its incident
	// (requests, codes, paths, locales, visitors, cause) and in Series but
	// to keep no row of its own, so that Event(RequestID) does not find it.
	// The Recorder sets it on the events beyond
	// [RecorderOptions.RowsPerSecond].
	CountOnly bool

	// Cause is what the caller already knows about this error, typically the
	// monitor's probe class. When it is empty the store derives one from the
	// nginx variables, then from the log line (see [EventCause]).
	Cause Cause

	// IncidentID is set by the store: on read, and by AddEvents on the slice
	// it was given.
	IncidentID int64
}

// Cause sources, from the most to the least trusted. A probe saw the failure
// itself; nginx's variables are facts about this request but coarse; a log
// line is precise but matched to the request only by connection number.
const (
	SourceProbe    = "probe"
	SourceNginxVar = "nginx_var"
	SourceNginxLog = "nginx_log"
)

// Cause is why an incident happened, with where that knowledge came from.
type Cause struct {
	Source   string // SourceProbe, SourceNginxVar, SourceNginxLog or "" for unknown
	Class    string // machine-readable class, e.g. "connect_refused"
	Detail   string // one human-readable sentence
	Evidence string // what the class was derived from, verbatim
}

// rank orders sources by trust; an unknown source ranks 0, below all.
func (c Cause) rank() int {
	switch c.Source {
	case SourceProbe:
		return 3
	case SourceNginxVar:
		return 2
	case SourceNginxLog:
		return 1
	}
	return 0
}

// Count is a key with how many times it was seen.
type Count struct {
	Key string
	N   int64
}

// Incident is a run of errors of one site and upstream, from the first error
// until the caller closes it.
type Incident struct {
	ID       int64
	Site     string
	Upstream string
	OpenedAt time.Time
	LastSeen time.Time
	ClosedAt *time.Time // nil while open
	Requests int64
	Visitors int64 // distinct visitor hashes
	Codes    map[int]int64
	TopPaths []Count // most requested first, at most TopPathsLimit
	Locales  []Count // most frequent first
	Cause    Cause
}

// Open reports whether the incident has not been closed yet.
func (i Incident) Open() bool { return i.ClosedAt == nil }

// TopPathsLimit is how many paths an Incident reports: enough to spot the
// pages that matter without shipping a scanner's whole path list.
const TopPathsLimit = 10

// Filter selects incidents for a listing. Zero values select everything.
type Filter struct {
	Site     string
	Upstream string
	Open     *bool // nil: open and closed; true: open only; false: closed only
	Limit    int   // default 50, at most 1000
}

// Bucket is the number of events in the interval starting at Start.
type Bucket struct {
	Start time.Time
	N     int64
}

// Fill returns one bucket per interval from since up to (not including)
// until, with zero for the intervals series has no bucket for, so that a
// sparkline can be drawn from it directly.
func Fill(series []Bucket, since, until time.Time, bucket time.Duration) []Bucket {
	if bucket <= 0 || !until.After(since) {
		return nil
	}
	n := int((until.Sub(since) + bucket - 1) / bucket)
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * bucket).UTC()
	}
	for _, b := range series {
		i := int(b.Start.Sub(since) / bucket)
		if b.Start.Before(since) || i >= n {
			continue
		}
		out[i].N += b.N
	}
	return out
}

// Field limits. Everything in an Event comes from a request or a log line,
// so it is bounded and made valid UTF-8 without NUL bytes before it is
// stored: PostgreSQL rejects invalid text, and one bad path must not fail a
// whole batch.
const (
	maxShort = 256
	maxPath  = 2048
	maxLog   = 4096
)

// clean returns s as valid UTF-8 without NUL bytes, cut to at most max bytes
// on a rune boundary.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// fillVisitorHash sets VisitorHash from VisitorKey when only the key is
// set.
func (e *Event) fillVisitorHash() {
	if e.VisitorHash == "" && e.VisitorKey != ([16]byte{}) {
		e.VisitorHash = hex.EncodeToString(e.VisitorKey[:])
	}
}

// sanitized returns e ready to store: bounded, valid strings; time in UTC at
// the microsecond precision both databases keep; the cause filled in.
func (e Event) sanitized() Event {
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.fillVisitorHash()
	e.Site = clean(e.Site, maxShort)
	e.Upstream = clean(e.Upstream, maxShort)
	e.Host = clean(e.Host, maxShort)
	e.Path = clean(e.Path, maxPath)
	e.Method = clean(e.Method, maxShort)
	e.RequestID = clean(e.RequestID, maxShort)
	e.UpstreamAddr = clean(e.UpstreamAddr, maxShort)
	e.UpstreamStatus = clean(e.UpstreamStatus, maxShort)
	e.UpstreamConnectTime = clean(e.UpstreamConnectTime, maxShort)
	e.UpstreamResponseTime = clean(e.UpstreamResponseTime, maxShort)
	e.Locale = clean(e.Locale, maxShort)
	e.VisitorHash = clean(e.VisitorHash, maxShort)
	e.Browser = clean(e.Browser, maxShort)
	e.NginxLog = clean(e.NginxLog, maxLog)
	e.Cause = sanitizedCause(EventCause(e))
	return e
}

// sanitizedCause returns c with bounded, valid strings.
func sanitizedCause(c Cause) Cause {
	c.Source = clean(c.Source, maxShort)
	c.Class = clean(c.Class, maxShort)
	c.Detail = clean(c.Detail, maxLog)
	c.Evidence = clean(c.Evidence, maxLog)
	return c
}
