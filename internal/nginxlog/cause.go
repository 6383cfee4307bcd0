package nginxlog

import "strings"

// Cause is what an error.log message says went wrong, one level finer than
// the admin view's Category. The string values are stable ids, safe to store
// and to use as message keys.
type Cause string

// The causes Classify recognises. Each names a family of nginx messages, not
// one exact text, because nginx varies the verb (recv, readv, writev) and the
// action ("while reading response header from upstream", "while reading
// upstream") around the same failure.
const (
	// CauseRefused means nothing listens at the upstream address ("connect()
	// failed (111: Connection refused)", or a missing unix socket).
	CauseRefused Cause = "refused"
	// CauseConnectTimeout means the upstream did not accept the connection or
	// finish the TLS handshake in proxy_connect_timeout.
	CauseConnectTimeout Cause = "connect_timeout"
	// CauseReadTimeout means the upstream accepted the request but did not answer
	// (or stopped answering) within proxy_read_timeout / proxy_send_timeout.
	CauseReadTimeout Cause = "read_timeout"
	// CauseNoLiveUpstreams means every server of the upstream group is marked
	// failed, so nginx did not even try.
	CauseNoLiveUpstreams Cause = "no_live_upstreams"
	// CausePrematureClose means the upstream closed the connection before sending
	// a complete response, typically because the application process died.
	CausePrematureClose Cause = "premature_close"
	// CauseReset means the upstream reset the connection (104: Connection reset
	// by peer).
	CauseReset Cause = "reset"
	// CauseUnreachable means the network has no route to the upstream (113, 101,
	// 112).
	CauseUnreachable Cause = "unreachable"
	// CausePermissionDenied means the kernel refused nginx's connect() (13:
	// Permission denied), which is SELinux or a local firewall rule.
	CausePermissionDenied Cause = "permission_denied"
	// CauseDNSFailure means nginx's resolver could not resolve the upstream name.
	CauseDNSFailure Cause = "dns_failure"
	// CauseTLSError means the TLS handshake with the upstream failed, e.g. nginx
	// speaks TLS to a plain-HTTP port ("wrong version number").
	CauseTLSError Cause = "tls_error"
	// CauseTLSVerify means the upstream's certificate did not verify or did not
	// match its name (proxy_ssl_verify on).
	CauseTLSVerify Cause = "tls_verify"
	// CauseHeaderTooBig means the upstream's response header did not fit
	// proxy_buffer_size.
	CauseHeaderTooBig Cause = "header_too_big"
	// CauseBadResponse means the upstream answered something that is not valid
	// for the protocol nginx speaks to it (not HTTP, bad chunking, ...).
	CauseBadResponse Cause = "bad_response"
	// CauseResourceLimit means nginx or the host ran out of descriptors,
	// connections, local ports or a unix socket backlog.
	CauseResourceLimit Cause = "resource_limit"
	// CauseRateLimited means nginx's own limit_req / limit_conn rejected the
	// request.
	CauseRateLimited Cause = "rate_limited"
	// CauseAppStderr means a FastCGI/uwsgi/SCGI application wrote to its stderr,
	// which is where PHP and friends report fatal errors.
	CauseAppStderr Cause = "app_stderr"
	// CauseOther means none of the above; the raw line is still the evidence.
	CauseOther Cause = "other"
)

// Category is one of the design's seven causes in the admin view, each of
// which carries its own "what to check" text. The string values are stable
// ids.
type Category string

// The design's cause list, plus CategoryUnknown for messages Classify does
// not recognise.
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

// Categories returns the design's seven categories in the design's order,
// without CategoryUnknown, for views that list them all.
func Categories() []Category {
	return []Category{
		CategoryOverload, CategoryNetwork, CategoryUpstreamDown, CategoryFirewall,
		CategoryMisconfiguration, CategoryDNS, CategoryAppError,
	}
}

// Category maps c onto the admin view's cause list. The mapping follows what
// staff should check first: a read timeout means the upstream is alive but
// too slow (overload), a premature close or reset means the process behind it
// died (application), a handshake or protocol mismatch means nginx and the
// upstream disagree (misconfiguration).
func (c Cause) Category() Category {
	switch c {
	case CauseReadTimeout, CauseResourceLimit, CauseRateLimited:
		return CategoryOverload
	case CauseConnectTimeout, CauseUnreachable:
		return CategoryNetwork
	case CauseRefused, CauseNoLiveUpstreams:
		return CategoryUpstreamDown
	case CausePermissionDenied:
		return CategoryFirewall
	case CauseTLSError, CauseTLSVerify, CauseHeaderTooBig, CauseBadResponse:
		return CategoryMisconfiguration
	case CauseDNSFailure:
		return CategoryDNS
	case CausePrematureClose, CauseReset, CauseAppStderr:
		return CategoryAppError
	}
	return CategoryUnknown
}

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
