package httpx

import "net/http"

// Limits on header and query values kept: anything longer is noise or
// hostile.
const (
	// MaxHeaderVal bounds a proxy header or filter value.
	MaxHeaderVal = 256
	// MaxRequestID bounds a request reference.
	MaxRequestID = 64
)

// HV returns the first value of the header with the canonical key k,
// without canonicalising k again as Header.Get does on every call.
func HV(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Clip cuts s to at most n bytes.
func Clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ValidRequestID reports whether s can be a request reference: nginx's
// $request_id, a proxy's own id or Apache's UNIQUE_ID, at most
// MaxRequestID bytes.
func ValidRequestID(s string) bool {
	if s == "" || len(s) > MaxRequestID {
		return false
	}
	for _, c := range s {
		// '@': Apache's UNIQUE_ID alphabet.
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '@') {
			return false
		}
	}
	return true
}
