package httpx

import "net/http"

// The security headers every response of both listeners carries. The
// Content-Security-Policy here is the strictest (nothing loads, nothing
// frames): a handler that serves HTML replaces it with its page's own
// policy.
var (
	hdrNoRef     = []string{"no-referrer"}
	hdrDeny      = []string{"DENY"}
	HdrStrictCSP = []string{"default-src 'none'; frame-ancestors 'none'"}
)

// SecurityHeaders sets the security headers on every response before next
// runs: X-Content-Type-Options, Referrer-Policy, X-Frame-Options and the
// strict Content-Security-Policy. It assigns shared slices and allocates
// nothing, so the public listener's error page, the path an outage
// floods, goes through it too.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

// SetSecurityHeaders sets what SecurityHeaders sets on h.
func SetSecurityHeaders(h http.Header) {
	h["X-Content-Type-Options"] = HdrNoSniff
	h["Referrer-Policy"] = hdrNoRef
	h["X-Frame-Options"] = hdrDeny
	h["Content-Security-Policy"] = HdrStrictCSP
}
