package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// classify maps the error that ended a stage to a Class. The stage comes
// first because the same error means different things at different points:
// a timeout while connecting points at the network, a timeout after the
// connection was accepted points at an overloaded origin.
func classify(stage string, err error) Class {
	var se *statusError
	if errors.As(err, &se) {
		return ClassHTTP5xx
	}
	if stage == StageDNS {
		// Whatever went wrong, the name did not resolve; a refused or timed
		// out DNS server is still a DNS problem, not the origin's.
		return ClassDNSFailure
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return ClassReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return ClassConnectTimeout
	case isTimeout(err):
		if stage == StageConnect {
			return ClassConnectTimeout
		}
		return ClassSlow
	}
	switch stage {
	case StageConnect:
		if errors.Is(err, syscall.ENOENT) {
			// A unix socket path with nothing behind it: nothing listening.
			return ClassRefused
		}
		return ClassConnectTimeout
	case StageTLS:
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			// The peer answered, but not with TLS: plain HTTP (or another
			// protocol) on a port configured as https.
			return ClassBadResponse
		}
		return ClassTLSError
	case StageHTTP:
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// Accepted, then closed without a status line: the application
			// dropped the request, typically by crashing.
			return ClassReset
		}
		return ClassBadResponse
	}
	return ClassBadResponse
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
