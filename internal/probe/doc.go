// Package probe runs one health check of one upstream, stage by stage, and
// classifies the failure.
//
// A check walks the path a proxy takes to reach an origin: resolve the name
// (dns), open a TCP connection (connect), negotiate TLS for https (tls) and
// send one GET to the check URL (http). Each stage is timed and bounded by
// its own timeout, and the whole check by an overall one, so a check never
// outlives Options.Timeout whatever the origin does.
//
// The first failing stage decides the Class, which maps to the causes the
// admin pages explain:
//
//	dns_failure      the name does not resolve (DNS resolution)
//	refused          nothing listens on the port (upstream down or in maintenance)
//	connect_timeout  the connection attempt gets no answer (firewall or network)
//	reset            the connection was reset or closed without an answer (crash)
//	tls_error        the TLS handshake failed: certificate, protocol, SNI (misconfiguration)
//	bad_response     the peer does not speak the expected protocol (misconfiguration)
//	http_5xx         the application answered with a 5xx (application error)
//	slow             the origin answered past SlowThreshold, or accepted the
//	                 connection and never answered (server overload)
//	ok               it answered in time with a status below 500
//
// Slow is deliberately two-sided. When the check completed, late, the origin is
// up but degraded and Result.OK reports true: the visitor's error is probably
// a timeout of an overloaded origin rather than an outage. When the origin
// accepted the connection (the kernel does that on behalf of a saturated
// process) but sent nothing back before the stage timeout, Class is slow as
// well, because overload is still the likely cause, but Result.OK reports
// false: nothing answered, so for the visitor it is down.
//
// A 4xx on the check URL counts as ok: the origin is up and answering, which
// is all "is it down for everyone?" needs; StatusCode keeps the evidence.
//
// The prober only ever contacts the Target it is handed. Choosing targets,
// and refusing any that the operator did not configure, is the caller's job
// (see package monitor).
package probe
