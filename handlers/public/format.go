package public

import (
	"net/http"
	"strings"

	"github.com/munnerz/goautoneg"

	"github.com/gatewatch/gatewatch/handlers/httpx"
)

// format is the representation of an error: a page for browsers, RFC 9457
// problem details for API clients, plain text for curl and friends.
type format int

const (
	formatHTML format = iota
	formatProblem
	formatText
)

func (f format) String() string {
	return [...]string{"html", "problem+json", "text"}[f]
}

// offers are what we can answer, in order of preference on a tie.
var offers = []string{"text/html", "application/xhtml+xml", "application/problem+json", "application/json", "text/plain"}

// maxAccept bounds the Accept header we parse.
const maxAccept = 1024

// negotiateFormat picks the format from X-Format (ingress-nginx passes the
// original request's Accept there) or Accept. A client that names no type
// (curl's */*) gets text.
func (d *publicDeps) negotiateFormat(r *http.Request) format {
	accept := httpx.HV(r.Header, "X-Format")
	if accept == "" {
		accept = httpx.HV(r.Header, "Accept")
	}
	if accept == "" || len(accept) > maxAccept {
		return formatText
	}
	// Clients send few distinct Accept headers, and parsing allocates.
	if f, ok := d.formats.Get(accept); ok {
		return f
	}
	f := negotiateAccept(accept)
	d.formats.Add(accept, f)
	return f
}

// maxFormatCache bounds the Accept headers whose format is remembered.
const maxFormatCache = 1024

func negotiateAccept(accept string) format {
	if accept == "" || len(accept) > maxAccept {
		return formatText
	}
	specific := false
	for _, a := range goautoneg.ParseAccept(accept) {
		if a.Type != "*" && a.Q > 0 {
			specific = true
			break
		}
	}
	if !specific {
		return formatText
	}
	switch goautoneg.Negotiate(accept, offers) {
	case "application/problem+json", "application/json":
		return formatProblem
	case "text/plain":
		return formatText
	case "":
		// Nothing we have is acceptable (an image request, say): a short
		// text body is the least wasteful answer.
		if strings.Contains(accept, "*/*") {
			return formatHTML
		}
		return formatText
	}
	return formatHTML
}
