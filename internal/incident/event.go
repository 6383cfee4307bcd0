package incident

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatewatch/gatewatch/internal/incident/record"
)

// Event, Cause and the cause sources live in package record, which the
// public handler imports without the store's drivers; these aliases keep
// their names here.
type (
	Event = record.Event
	Cause = record.Cause
)

// Cause sources, from the most to the least trusted (see package record).
const (
	SourceProbe    = record.SourceProbe
	SourceNginxVar = record.SourceNginxVar
	SourceNginxLog = record.SourceNginxLog
)

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

// sanitized returns e ready to store: bounded, valid strings; time in UTC at
// the microsecond precision both databases keep; the cause filled in.
func sanitized(e Event) Event {
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.FillVisitorHash()
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
