package probe

// Class is the classified outcome of a check: ok, or the cause of the first
// failing stage. The string values are stable; they appear in metrics, stored
// events and the status API.
type Class string

// The classes a check can end in. See the package documentation for the cause
// each one points to.
const (
	ClassOK             Class = "ok"
	ClassDNSFailure     Class = "dns_failure"
	ClassRefused        Class = "refused"
	ClassConnectTimeout Class = "connect_timeout"
	ClassReset          Class = "reset"
	ClassTLSError       Class = "tls_error"
	ClassBadResponse    Class = "bad_response"
	ClassHTTP5xx        Class = "http_5xx"
	ClassSlow           Class = "slow"
	// ClassInvalidTarget means the target itself is unusable (unparsable URL,
	// unsupported scheme, missing host). Configuration validation should make
	// it unreachable; it exists so that Check never has to guess.
	ClassInvalidTarget Class = "invalid_target"
)

// Classes lists every Class, in a stable order, so that metrics can publish a
// zero for causes that have not happened yet.
func Classes() []Class {
	return []Class{
		ClassOK, ClassDNSFailure, ClassRefused, ClassConnectTimeout, ClassReset,
		ClassTLSError, ClassBadResponse, ClassHTTP5xx, ClassSlow, ClassInvalidTarget,
	}
}

// Stage names, in the order a check runs them.
const (
	StageDNS     = "dns"
	StageConnect = "connect"
	StageTLS     = "tls"
	StageHTTP    = "http"
)
