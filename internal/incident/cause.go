package incident

import (
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/incident/record"
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

// Detail explains class to staff in a sentence.
func Detail(class cause.Class) string { return record.Detail(class) }

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
		Detail: record.Detail(class),
		Evidence: "upstream_addr=" + e.UpstreamAddr + " upstream_status=" + e.UpstreamStatus +
			" upstream_connect_time=" + e.UpstreamConnectTime + " upstream_response_time=" + e.UpstreamResponseTime,
	}, true
}

// NginxLogCause classifies an nginx error.log line with nginxlog.Classify.
func NginxLogCause(line string) Cause {
	class := nginxlog.Classify(line)
	c := Cause{Source: SourceNginxLog, Class: string(class), Evidence: line}
	if class != cause.Unknown {
		c.Detail = record.Detail(class)
	}
	return c
}
