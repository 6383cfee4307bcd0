package safeurl

// MaxLen bounds a URL kept from a request: anything longer is noise or
// hostile.
const MaxLen = 2048

// IsLocal reports whether s is a same-origin path reference: it starts
// with one '/', the next byte is neither '/' nor '\' (a browser reads
// "//host" and "/\host" as another host), and it holds no '\' (browsers
// turn it into '/'), no control character, space or DEL (browsers drop
// tabs and newlines, so "/\t/host" is "//host"). A path cannot carry a
// scheme, since it starts with '/'.
func IsLocal(s string) bool {
	if s == "" || len(s) > MaxLen || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// Local returns s if it is a same-origin path reference (see IsLocal),
// else fallback.
func Local(s, fallback string) string {
	if IsLocal(s) {
		return s
	}
	return fallback
}
