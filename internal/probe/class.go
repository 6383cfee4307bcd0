package probe

import "github.com/gatewatch/gatewatch/internal/cause"

// Class is the classified outcome of a check: ok, or the cause of the first
// failing stage, in the one vocabulary of package cause. The string values
// are stable; they appear in metrics, stored events and the status API.
type Class = cause.Class

// The classes a check can end in. See the package documentation for the cause
// each one points to.
const (
	ClassOK             = cause.OK
	ClassDNSFailure     = cause.DNSFailure
	ClassRefused        = cause.Refused
	ClassConnectTimeout = cause.ConnectTimeout
	ClassReset          = cause.Reset
	ClassTLSError       = cause.TLSError
	ClassBadResponse    = cause.BadResponse
	ClassHTTP5xx        = cause.HTTP5xx
	ClassSlow           = cause.Slow
	// ClassInvalidTarget means the target itself is unusable (unparsable URL,
	// unsupported scheme, missing host). Configuration validation should make
	// it unreachable; it exists so that Check never has to guess.
	ClassInvalidTarget = cause.InvalidTarget
)

// Classes lists every Class a check can end in, in a stable order, so that
// metrics can publish a zero for causes that have not happened yet.
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
