package nginxlog

import (
	"strings"

	"github.com/gatewatch/gatewatch/internal/cause"
)

// Cause is what an error.log message says went wrong, in the one
// vocabulary of package cause (its Category is the admin view's cause).
type Cause = cause.Class

// The causes Classify recognises. Each names a family of nginx messages, not
// one exact text, because nginx varies the verb (recv, readv, writev) and the
// action ("while reading response header from upstream", "while reading
// upstream") around the same failure.
const (
	// CauseRefused means nothing listens at the upstream address ("connect()
	// failed (111: Connection refused)", or a missing unix socket).
	CauseRefused = cause.Refused
	// CauseConnectTimeout means the upstream did not accept the connection or
	// finish the TLS handshake in proxy_connect_timeout.
	CauseConnectTimeout = cause.ConnectTimeout
	// CauseReadTimeout means the upstream accepted the request but did not answer
	// (or stopped answering) within proxy_read_timeout / proxy_send_timeout.
	CauseReadTimeout = cause.ReadTimeout
	// CauseNoLiveUpstreams means every server of the upstream group is marked
	// failed, so nginx did not even try.
	CauseNoLiveUpstreams = cause.NoLiveUpstreams
	// CausePrematureClose means the upstream closed the connection before sending
	// a complete response, typically because the application process died.
	CausePrematureClose = cause.PrematureClose
	// CauseReset means the upstream reset the connection (104: Connection reset
	// by peer).
	CauseReset = cause.Reset
	// CauseUnreachable means the network has no route to the upstream (113, 101,
	// 112).
	CauseUnreachable = cause.NoRoute
	// CausePermissionDenied means the kernel refused nginx's connect() (13:
	// Permission denied), which is SELinux or a local firewall rule.
	CausePermissionDenied = cause.PermissionDenied
	// CauseDNSFailure means nginx's resolver could not resolve the upstream name.
	CauseDNSFailure = cause.DNSFailure
	// CauseTLSError means the TLS handshake with the upstream failed, e.g. nginx
	// speaks TLS to a plain-HTTP port ("wrong version number").
	CauseTLSError = cause.TLSError
	// CauseTLSVerify means the upstream's certificate did not verify or did not
	// match its name (proxy_ssl_verify on).
	CauseTLSVerify = cause.TLSVerify
	// CauseHeaderTooBig means the upstream's response header did not fit
	// proxy_buffer_size.
	CauseHeaderTooBig = cause.HeaderTooBig
	// CauseBadResponse means the upstream answered something that is not valid
	// for the protocol nginx speaks to it (not HTTP, bad chunking, ...).
	CauseBadResponse = cause.BadResponse
	// CauseResourceLimit means nginx or the host ran out of descriptors,
	// connections, local ports or a unix socket backlog.
	CauseResourceLimit = cause.ResourceLimit
	// CauseRateLimited means nginx's own limit_req / limit_conn rejected the
	// request.
	CauseRateLimited = cause.RateLimited
	// CauseAppStderr means a FastCGI/uwsgi/SCGI application wrote to its stderr,
	// which is where PHP and friends report fatal errors.
	CauseAppStderr = cause.AppStderr
	// CauseOther means none of the above; the raw line is still the evidence.
	CauseOther = cause.Unknown
)

// Category is the admin view's cause (see package cause).
type Category = cause.Category

// The design's cause list, plus CategoryUnknown for messages Classify does
// not recognise.
const (
	CategoryOverload         = cause.CategoryOverload
	CategoryNetwork          = cause.CategoryNetwork
	CategoryUpstreamDown     = cause.CategoryUpstreamDown
	CategoryFirewall         = cause.CategoryFirewall
	CategoryMisconfiguration = cause.CategoryMisconfiguration
	CategoryDNS              = cause.CategoryDNS
	CategoryAppError         = cause.CategoryAppError
	CategoryUnknown          = cause.CategoryUnknown
)

// Categories returns the design's seven categories in the design's order.
func Categories() []Category { return cause.Categories() }

// Classify returns the Cause of an error.log message: the text after "*N "
// and before ", client: ", as in Entry.Message.
//
// It matches nginx's fixed wording and errno texts, in an order that settles
// overlaps: a resolver timeout is DNS, not a timeout; a failed TLS handshake
// is TLS whatever errno OpenSSL adds. Errno-based rules also require the word
// "upstream" so that a visitor's own dropped connection ("... while reading
// client request line") is not blamed on the upstream.
func Classify(message string) Cause {
	has := func(s string) bool { return strings.Contains(message, s) }
	upstream := has("upstream")
	switch {
	case has("could not be resolved"), has("no resolver defined to resolve"):
		return CauseDNSFailure
	case has("SSL certificate verify error"), has("SSL certificate does not match"):
		return CauseTLSVerify
	case has("SSL_do_handshake() failed"):
		return CauseTLSError
	case has("no live upstreams"):
		return CauseNoLiveUpstreams
	case has("upstream timed out"), upstream && has("(110: "):
		if has("while connecting to upstream") || has("while SSL handshaking to upstream") {
			return CauseConnectTimeout
		}
		return CauseReadTimeout
	case upstream && (has("(111: ") || has("(2: No such file or directory) while connecting to upstream")):
		return CauseRefused
	case upstream && has("(104: "):
		return CauseReset
	case upstream && (has("(113: ") || has("(101: ") || has("(112: ")):
		return CauseUnreachable
	case has("(13: Permission denied) while connecting to upstream"):
		return CausePermissionDenied
	case has("upstream prematurely closed"):
		return CausePrematureClose
	case has("upstream sent too big header"):
		return CauseHeaderTooBig
	case has("upstream sent "):
		return CauseBadResponse
	case has("(24: Too many open files)"), has("worker_connections are not enough"),
		upstream && (has("(99: ") || has("(11: Resource temporarily unavailable)")):
		return CauseResourceLimit
	case has("limiting requests, excess"), has("limiting connections by zone"):
		return CauseRateLimited
	case has(" sent in stderr: "):
		return CauseAppStderr
	case upstream && has("SSL"):
		// Other OpenSSL failures on the upstream side (SSL_read, SSL_write,
		// "while SSL handshaking to upstream") without a more specific errno.
		return CauseTLSError
	}
	return CauseOther
}
