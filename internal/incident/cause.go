package incident

import (
	"strings"
)

// Cause classes derived from nginx's variables and log lines. Probe classes
// come from the monitor and are stored as given.
const (
	ClassNoUpstream     = "no_upstream"
	ClassConnectFailed  = "connect_failed"
	ClassConnectTimeout = "connect_timeout"
	ClassReadTimeout    = "read_timeout"
	ClassBadResponse    = "bad_response"
	ClassUpstreamError  = "upstream_error"
	ClassDNS            = "dns"
	ClassTLS            = "tls"
	ClassUnknown        = "unknown"
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

// NginxVarCause classifies an error from the upstream variables nginx
// reported. It looks at the last upstream nginx tried, because that is the
// one whose failure the visitor got. ok is false when nginx reported nothing
// to go on (the error did not come from proxying).
func NginxVarCause(e Event) (c Cause, ok bool) {
	if e.UpstreamAddr == "" && e.UpstreamStatus == "" && e.UpstreamConnectTime == "" {
		return Cause{}, false
	}
	c = Cause{
		Source: SourceNginxVar,
		Evidence: "upstream_addr=" + e.UpstreamAddr + " upstream_status=" + e.UpstreamStatus +
			" upstream_connect_time=" + e.UpstreamConnectTime + " upstream_response_time=" + e.UpstreamResponseTime,
	}
	status := lastValue(e.UpstreamStatus)
	connected := lastValue(e.UpstreamConnectTime) != "-" && lastValue(e.UpstreamConnectTime) != ""
	addr := lastAddr(e.UpstreamAddr)
	switch {
	case addr == "" || (!strings.Contains(addr, ":") && status == ""):
		// nginx keeps the group name in $upstream_addr when it had no
		// server left to try, and nothing when a name did not resolve.
		c.Class, c.Detail = ClassNoUpstream, "nginx found no upstream server to try: none was alive or its name did not resolve."
	case status == "502" && !connected:
		c.Class, c.Detail = ClassConnectFailed, "nginx could not connect to the upstream: the connection was refused or the host was unreachable."
	case status == "504" && !connected:
		c.Class, c.Detail = ClassConnectTimeout, "nginx timed out connecting to the upstream."
	case status == "504":
		c.Class, c.Detail = ClassReadTimeout, "The upstream accepted the connection but did not answer in time."
	case status == "502":
		c.Class, c.Detail = ClassBadResponse, "The upstream closed the connection or sent a response nginx could not use."
	case len(status) == 3 && status[0] == '5':
		c.Class, c.Detail = ClassUpstreamError, "The upstream itself answered with HTTP "+status+"."
	default:
		c.Class, c.Detail = ClassUnknown, "nginx reported the upstream but not why it failed."
	}
	return c, true
}

// NginxLogCause classifies an nginx error.log line by the phrases nginx
// uses, most specific first.
func NginxLogCause(line string) Cause {
	c := Cause{Source: SourceNginxLog, Evidence: line}
	has := func(phrase string) bool { return strings.Contains(line, phrase) }
	switch {
	case has("no live upstreams"):
		c.Class, c.Detail = ClassNoUpstream, "nginx had no live upstream server left to try."
	case has("could not be resolved"):
		c.Class, c.Detail = ClassDNS, "nginx could not resolve the upstream's name."
	case has("Connection refused"), has("No route to host"), has("Network is unreachable"):
		c.Class, c.Detail = ClassConnectFailed, "nginx could not connect to the upstream: the connection was refused or the host was unreachable."
	case has("timed out") && has("while connecting to upstream"):
		c.Class, c.Detail = ClassConnectTimeout, "nginx timed out connecting to the upstream."
	case has("timed out"):
		c.Class, c.Detail = ClassReadTimeout, "The upstream accepted the connection but did not answer in time."
	case has("SSL_do_handshake"), has("SSL_connect"):
		c.Class, c.Detail = ClassTLS, "The TLS handshake with the upstream failed."
	case has("prematurely closed"), has("Connection reset"), has("invalid header"):
		c.Class, c.Detail = ClassBadResponse, "The upstream closed the connection or sent a response nginx could not use."
	default:
		c.Class = ClassUnknown
	}
	return c
}

// lastValue returns the last entry of an nginx upstream variable, where
// retries are separated by ", " and internal redirects by " : ".
func lastValue(v string) string {
	if i := strings.LastIndexAny(v, ",:"); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// lastAddr is lastValue for $upstream_addr, whose entries contain ':'
// themselves ("10.0.0.1:80", "unix:/run/app.sock").
func lastAddr(v string) string {
	if i := strings.LastIndex(v, ","); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndex(v, " : "); i >= 0 {
		v = v[i+3:]
	}
	return strings.TrimSpace(v)
}
