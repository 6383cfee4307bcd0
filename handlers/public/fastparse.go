package public

import (
	"strings"
)

// Small parsers for the request path that allocate nothing in the usual
// case, where the standard library's general ones (url.ParseQuery,
// Request.Cookie, strconv.Atoi's error) would allocate on every page.

// queryValue returns the first value of name in a raw query, decoded.
func queryValue(rawQuery, name string) string {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k == name {
			return unescapeQuery(v)
		}
	}
	return ""
}

// cookieValue returns the value of the cookie name from a Cookie header.
func cookieValue(header, name string) string {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
