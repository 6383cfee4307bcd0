package cause

import "strings"

// Class is what went wrong, in the one vocabulary every part uses: the
// probe's check, nginx's variables, nginx's error.log line, the stored
// event, the admin view and the page. The string values are stable: they
// are stored, exported as metric labels and used as message keys.
type Class string

// The classes. Each names a family of failures, not one exact message.
const (
	OK Class = "ok"

	// Unreachable: the gateway cannot open a usable connection.
	Refused          Class = "refused"           // nothing listens at the address (or a missing unix socket)
	ConnectTimeout   Class = "connect_timeout"   // the connection attempt got no answer
	NoRoute          Class = "unreachable"       // no route to the host (113, 101, 112)
	NoLiveUpstreams  Class = "no_live_upstreams" // every server of the group is marked failed
	PermissionDenied Class = "permission_denied" // the kernel refused connect(): SELinux, a firewall rule
	DNSFailure       Class = "dns_failure"       // the name does not resolve
	TLSError         Class = "tls_error"         // the TLS handshake failed
	TLSVerify        Class = "tls_verify"        // the certificate did not verify or match
	InvalidTarget    Class = "invalid_target"    // the check target itself is unusable

	// Overloaded: alive, but not answering in time.
	ReadTimeout   Class = "read_timeout"   // accepted, no answer within the read timeout
	Slow          Class = "slow"           // the check answered late, or accepted and never answered
	ResourceLimit Class = "resource_limit" // descriptors, connections, ports, backlog ran out
	RateLimited   Class = "rate_limited"   // the proxy's own limit_req / limit_conn
	Unavailable   Class = "unavailable"    // the application itself answered 503 without a Retry-After

	// Application error: the upstream answered, badly.
	Reset          Class = "reset"           // the connection was reset
	PrematureClose Class = "premature_close" // closed before a complete answer: the process died
	BadResponse    Class = "bad_response"    // not valid for the protocol spoken to it
	HTTP5xx        Class = "http_5xx"        // the application answered with a 5xx
	AppStderr      Class = "app_stderr"      // a FastCGI/uwsgi application wrote to its stderr

	// Maintenance: the application said when to come back (503 with Retry-After).
	Maintenance Class = "maintenance"

	// The visitor's side: the request itself is what the upstream cannot take.
	HeaderTooBig Class = "header_too_big" // the response header did not fit: usually cookies grown too large

	// Unknown: nothing to go on.
	Unknown Class = "unknown"
)

// Classes lists every class in a stable order, so that metrics can publish
// a zero for causes that have not happened yet.
func Classes() []Class {
	return []Class{
		OK, Refused, ConnectTimeout, NoRoute, NoLiveUpstreams, PermissionDenied, DNSFailure, TLSError, TLSVerify,
		InvalidTarget, ReadTimeout, Slow, ResourceLimit, RateLimited, Unavailable, Reset, PrematureClose,
		BadResponse, HTTP5xx, AppStderr, Maintenance, HeaderTooBig, Unknown,
	}
}

// legacy maps the class names stored before the vocabulary was one.
var legacy = map[string]Class{
	"no_upstream":    NoLiveUpstreams,
	"connect_failed": Refused,
	"dns":            DNSFailure,
	"tls":            TLSError,
	"upstream_error": HTTP5xx,
	"other":          Unknown,
	"":               Unknown,
}

// Parse reads a stored class name, including the names older versions
// stored; anything unrecognised is Unknown.
func Parse(s string) Class {
	if c, ok := legacy[s]; ok {
		return c
	}
	for _, c := range Classes() {
		if string(c) == s {
			return c
		}
	}
	return Unknown
}

// Kind is the family of a failure as the visitor meets it: what it means
// for them and what helps.
type Kind string

// The kinds.
const (
	KindUnreachable Kind = "unreachable" // the site's server cannot be reached at all
	KindOverloaded  Kind = "overloaded"  // it is up but too slow or too busy to answer
	KindAppError    Kind = "app_error"   // it answered this request with an error
	KindMaintenance Kind = "maintenance" // it said it is down on purpose, and until when
	KindClient      Kind = "client"      // something in the visitor's request (cookies too large)
	KindNone        Kind = "none"        // nothing failed (OK)
	KindUnknown     Kind = "unknown"     // no evidence
)

// Kind returns the family of c.
func (c Class) Kind() Kind {
	switch c {
	case OK:
		return KindNone
	case Refused, ConnectTimeout, NoRoute, NoLiveUpstreams, PermissionDenied, DNSFailure, TLSError, TLSVerify, InvalidTarget:
		return KindUnreachable
	case ReadTimeout, Slow, ResourceLimit, RateLimited, Unavailable:
		return KindOverloaded
	case Reset, PrematureClose, BadResponse, HTTP5xx, AppStderr:
		return KindAppError
	case Maintenance:
		return KindMaintenance
	case HeaderTooBig:
		return KindClient
	}
	return KindUnknown
}

// Category is one of the design's seven causes in the admin view, each
// with its own "what to check". The string values are stable ids.
type Category string

// The design's cause list, plus CategoryUnknown.
const (
	CategoryOverload         Category = "overload"         // server overload
	CategoryNetwork          Category = "network"          // network issues between proxy and upstream
	CategoryUpstreamDown     Category = "upstream_down"    // upstream down or in maintenance
	CategoryFirewall         Category = "firewall"         // firewall or security software blocking
	CategoryMisconfiguration Category = "misconfiguration" // ports, protocol, TLS
	CategoryDNS              Category = "dns"              // DNS resolution
	CategoryAppError         Category = "app_error"        // application errors or crashes
	CategoryUnknown          Category = "unknown"          // not one of the seven
)

// Categories returns the seven categories in the design's order, without
// CategoryUnknown, for views that list them all.
func Categories() []Category {
	return []Category{
		CategoryOverload, CategoryNetwork, CategoryUpstreamDown, CategoryFirewall,
		CategoryMisconfiguration, CategoryDNS, CategoryAppError,
	}
}

// Category maps c onto the admin view's causes, by what staff should check
// first: a read timeout means alive but too slow (overload), a premature
// close or reset means the process died (application), a handshake or
// protocol mismatch means proxy and upstream disagree (misconfiguration).
func (c Class) Category() Category {
	switch c {
	case ReadTimeout, Slow, ResourceLimit, RateLimited, Unavailable:
		return CategoryOverload
	case ConnectTimeout, NoRoute:
		return CategoryNetwork
	case Refused, NoLiveUpstreams, Maintenance:
		return CategoryUpstreamDown
	case PermissionDenied:
		return CategoryFirewall
	case TLSError, TLSVerify, HeaderTooBig, BadResponse, InvalidTarget:
		return CategoryMisconfiguration
	case DNSFailure:
		return CategoryDNS
	case PrematureClose, Reset, HTTP5xx, AppStderr:
		return CategoryAppError
	}
	return CategoryUnknown
}

// Request is a failed request's own evidence, as the proxy reported it.
// Every field may be empty: the proxy may not pass it, or the error did
// not come from proxying at all.
type Request struct {
	Code           int    // the status the proxy answered the visitor with
	UpstreamAddr   string // nginx's $upstream_addr: "a:1, b:2 : c:3"
	UpstreamStatus string // $upstream_status, same shape
	ConnectTime    string // $upstream_connect_time, same shape; "-" when no connection was made
	RetryAfter     bool   // the upstream's own answer carried a Retry-After
}

// FromRequest classifies a failed request from its own evidence. It looks
// at the last upstream the proxy tried, because that is the one whose
// failure the visitor got. ok is false when there is nothing to go on
// (no upstream variables: the error did not come from proxying, or the
// proxy does not pass them).
func FromRequest(r Request) (c Class, ok bool) {
	if r.UpstreamAddr == "" && r.UpstreamStatus == "" && r.ConnectTime == "" {
		return Unknown, false
	}
	status := LastValue(r.UpstreamStatus)
	ct := LastValue(r.ConnectTime)
	connected := ct != "-" && ct != ""
	addr := LastAddr(r.UpstreamAddr)
	switch {
	case addr == "" || (!strings.Contains(addr, ":") && status == ""):
		// nginx keeps the group name in $upstream_addr when it had no
		// server left to try, and nothing when a name did not resolve.
		return NoLiveUpstreams, true
	case status == "502" && !connected:
		return Refused, true
	case status == "504" && !connected:
		return ConnectTimeout, true
	case status == "504":
		return ReadTimeout, true
	case status == "502":
		return PrematureClose, true
	case status == "503" && r.RetryAfter:
		return Maintenance, true
	case status == "503":
		return Unavailable, true
	case len(status) == 3 && status[0] == '5':
		return HTTP5xx, true
	}
	return Unknown, true
}

// LastValue returns the last entry of an nginx upstream variable, where
// retries are separated by ", " and internal redirects by " : ".
func LastValue(v string) string {
	if i := strings.LastIndexAny(v, ",:"); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// LastAddr is LastValue for $upstream_addr, whose entries contain ':'
// themselves ("10.0.0.1:80", "unix:/run/app.sock").
func LastAddr(v string) string {
	if i := strings.LastIndex(v, ","); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndex(v, " : "); i >= 0 {
		v = v[i+3:]
	}
	return strings.TrimSpace(v)
}

// ParseKind reads a kind as the page's poll URL carries it; anything else
// is KindUnknown.
func ParseKind(s string) Kind {
	switch k := Kind(s); k {
	case KindUnreachable, KindOverloaded, KindAppError, KindMaintenance, KindClient:
		return k
	}
	return KindUnknown
}
