package incident

import (
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// Cause classes derived from nginx's variables and log lines, as the
// stored strings of package cause's one vocabulary. Probe classes come from
// the monitor and are stored as given; cause.Parse reads both, and the
// names older versions stored.
const (
	ClassNoUpstream     = string(cause.NoLiveUpstreams)
	ClassConnectFailed  = string(cause.Refused)
	ClassConnectTimeout = string(cause.ConnectTimeout)
	ClassReadTimeout    = string(cause.ReadTimeout)
	// ClassBadResponse: connected, then the answer was cut off or unusable.
	ClassBadResponse   = string(cause.PrematureClose)
	ClassUpstreamError = string(cause.HTTP5xx)
	ClassDNS           = string(cause.DNSFailure)
	ClassTLS           = string(cause.TLSError)
	ClassUnknown       = string(cause.Unknown)
)

// EventCause returns the cause an event carries: its own Cause when the
// caller set one (a probe class), else what nginx's variables say, else the
// nginx log line, else the zero Cause.
func EventCause(e Event) Cause {
	if e.Cause.Source != "" {
		return e.Cause
	}
	if c, ok := NginxVarCause(e); ok {
		return c
	}
	if e.NginxLog != "" {
		return NginxLogCause(e.NginxLog)
	}
	return Cause{}
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

// NginxVarCause classifies an error from the upstream variables nginx
// reported (see cause.FromRequest). ok is false when nginx reported
// nothing to go on (the error did not come from proxying).
func NginxVarCause(e Event) (c Cause, ok bool) {
	class, ok := cause.FromRequest(cause.Request{
		Code: e.Code, UpstreamAddr: e.UpstreamAddr, UpstreamStatus: e.UpstreamStatus, ConnectTime: e.UpstreamConnectTime,
	})
	if !ok {
		return Cause{}, false
	}
	return Cause{
		Source: SourceNginxVar,
		Class:  string(class),
		Detail: details[class],
		Evidence: "upstream_addr=" + e.UpstreamAddr + " upstream_status=" + e.UpstreamStatus +
			" upstream_connect_time=" + e.UpstreamConnectTime + " upstream_response_time=" + e.UpstreamResponseTime,
	}, true
}

// NginxLogCause classifies an nginx error.log line with nginxlog.Classify.
func NginxLogCause(line string) Cause {
	class := nginxlog.Classify(line)
	c := Cause{Source: SourceNginxLog, Class: string(class), Evidence: line}
	if class != cause.Unknown {
		c.Detail = details[class]
	}
	return c
}
