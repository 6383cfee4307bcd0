// Package record holds what the incident store records and the public
// side hands to it or reads from it: one error page served (Event), what
// is known of its cause (Cause), and a staff announcement
// (Announcement). It is apart from package incident, which holds the
// recorder and the store with its SQLite and PostgreSQL drivers, so that
// handlers/public and internal/announce depend on none of them; package
// incident keeps the names as aliases.
package record

import (
	"encoding/hex"
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
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

// Rank orders sources by trust; an unknown source ranks 0, below all.
func (c Cause) Rank() int {
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

// FillVisitorHash sets VisitorHash from VisitorKey when only the key is
// set.
func (e *Event) FillVisitorHash() {
	if e.VisitorHash == "" && e.VisitorKey != ([16]byte{}) {
		e.VisitorHash = hex.EncodeToString(e.VisitorKey[:])
	}
}

// details explain each class to staff, in a sentence.
var details = map[cause.Class]string{
	cause.NoLiveUpstreams:  "nginx found no upstream server to try: none was alive or its name did not resolve.",
	cause.Refused:          "nginx could not connect to the upstream: the connection was refused or the host was unreachable.",
	cause.NoRoute:          "nginx has no route to the upstream's network.",
	cause.ConnectTimeout:   "nginx timed out connecting to the upstream.",
	cause.ReadTimeout:      "The upstream accepted the connection but did not answer in time.",
	cause.PrematureClose:   "The upstream closed the connection or sent a response nginx could not use.",
	cause.BadResponse:      "The upstream sent a response nginx could not use.",
	cause.Reset:            "The upstream reset the connection.",
	cause.HTTP5xx:          "The upstream itself answered with an HTTP 5xx.",
	cause.Unavailable:      "The upstream itself answered 503 Service Unavailable.",
	cause.Maintenance:      "The upstream answered 503 with a Retry-After: maintenance.",
	cause.DNSFailure:       "nginx could not resolve the upstream's name.",
	cause.TLSError:         "The TLS handshake with the upstream failed.",
	cause.TLSVerify:        "The upstream's certificate did not verify or did not match its name.",
	cause.PermissionDenied: "The kernel refused nginx's connection to the upstream (SELinux or a firewall rule).",
	cause.HeaderTooBig:     "The upstream's response header did not fit proxy_buffer_size (often large cookies or many Set-Cookie headers).",
	cause.ResourceLimit:    "nginx or the host ran out of descriptors, connections or ports.",
	cause.RateLimited:      "nginx's own request or connection limit rejected the request.",
	cause.AppStderr:        "The application wrote an error to its stderr.",
	cause.Unknown:          "nginx reported the upstream but not why it failed.",
}

// Detail explains class to staff in a sentence.
func Detail(class cause.Class) string { return details[class] }

// Announcement is a message from staff shown on a site's error pages (of
// one upstream, when Upstream is set) from CreatedAt until the earlier of
// Until and EndedAt.
type Announcement struct {
	ID        int64
	Site      string
	Upstream  string
	Text      string
	Lang      string // BCP 47 tag of Text; "" when unknown
	Author    string
	CreatedAt time.Time
	Until     time.Time
	EndedAt   *time.Time
}

// End is when the announcement stops showing.
func (a Announcement) End() time.Time {
	if a.EndedAt != nil && a.EndedAt.Before(a.Until) {
		return *a.EndedAt
	}
	return a.Until
}

// ActiveAt reports whether the announcement shows at t.
func (a Announcement) ActiveAt(t time.Time) bool {
	return !t.Before(a.CreatedAt) && t.Before(a.End())
}
