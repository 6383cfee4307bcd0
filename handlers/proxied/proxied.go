// Package proxied reads what the reverse proxy told gatewatch about the
// failed request it sends to the error page: the status code, nginx's
// reference, the visitor's URI, method, host and address, the upstream's
// address and status, ingress-nginx's service. Every proxy header is
// believed only from a trusted proxy (internal/trust); anything else is
// the request as gatewatch itself received it.
package proxied

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/safeurl"
	"github.com/gatewatch/gatewatch/internal/trust"
)

// Request is what nginx told us about the failed request. Every field
// comes from headers only when the peer is a trusted proxy; otherwise
// they describe the request as gatewatch itself received it.
type Request struct {
	Trusted    bool
	Code       int
	RequestID  string
	URI        string // path and query the visitor asked for
	Method     string
	Host       string
	Proto      string // http or https
	ClientIP   string
	Upstream   Upstream
	NginxConn  int64
	Ingress    Ingress // ingress-nginx's view of the service
	UserAgent  string
	AcceptLang string
	Platform   string // for the hard-refresh keys (PlatformOf)
	Browser    string // for the clear-data steps (BrowserOf)
	// RequestIDHeader is the request's own X-Request-ID value slice, reused
	// for the response's header when nginx supplied the reference.
	RequestIDHeader []string
}

// Upstream is nginx's view of the upstream: admin-only evidence that
// never reaches a public page.
type Upstream struct {
	Addr        string
	Status      string
	ConnectTime string
	RetryAfter  string // the upstream's own Retry-After, if its answer carried one
}

func Read(r *http.Request, proxies trust.Proxies) Request {
	p := Request{
		Code:       http.StatusBadGateway,
		URI:        r.RequestURI,
		Method:     r.Method,
		Host:       r.Host,
		Proto:      "http",
		UserAgent:  httpx.Clip(httpx.HV(r.Header, "User-Agent"), 512),
		AcceptLang: httpx.HV(r.Header, "Accept-Language"),
	}
	if r.TLS != nil {
		p.Proto = "https"
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		p.ClientIP = host
	}
	p.Trusted = proxies.Trusted(r.RemoteAddr)
	if p.Trusted {
		h := r.Header
		if c, ok := ErrorCode(httpx.HV(h, "X-Code")); ok {
			p.Code = c
		}
		if id := httpx.HV(h, "X-Request-Id"); httpx.ValidRequestID(id) {
			p.RequestID = id
			p.RequestIDHeader = h["X-Request-Id"][:1]
		}
		// nginx's $request_uri is the visitor's own; when it is not a
		// path on this site the request's own URI is the next best, and
		// the same test decides it.
		p.URI = safeurl.Local(httpx.HV(h, "X-Original-Uri"), safeurl.Local(r.RequestURI, "/"))
		if m := httpx.HV(h, "X-Original-Method"); validToken(m) {
			p.Method = m
		}
		if pr := httpx.HV(h, "X-Forwarded-Proto"); pr == "https" || pr == "http" {
			p.Proto = pr
		}
		if ip := strings.TrimSpace(httpx.HV(h, "X-Real-Ip")); validIP(ip) {
			p.ClientIP = ip
		}
		p.Upstream = Upstream{
			Addr:        httpx.Clip(httpx.HV(h, "X-Upstream-Addr"), httpx.MaxHeaderVal),
			Status:      httpx.Clip(httpx.HV(h, "X-Upstream-Status"), httpx.MaxHeaderVal),
			ConnectTime: httpx.Clip(httpx.HV(h, "X-Upstream-Connect-Time"), httpx.MaxHeaderVal),
			RetryAfter:  httpx.Clip(strings.TrimSpace(httpx.HV(h, "X-Upstream-Retry-After")), 64),
		}
		p.Ingress = readIngress(h)
		if c := httpx.HV(h, "X-Nginx-Connection"); c != "" {
			if n, err := strconv.ParseInt(c, 10, 64); err == nil && n > 0 {
				p.NginxConn = n
			}
		}
	} else {
		p.URI = safeurl.Local(p.URI, "/")
	}
	if p.RequestID == "" {
		p.RequestID = newRequestID()
	}
	if !validHost(p.Host) {
		p.Host = ""
	}
	p.Platform, p.Browser = PlatformOf(httpx.HV(r.Header, "Sec-Ch-Ua-Platform"), p.UserAgent), BrowserOf(p.UserAgent)
	return p
}

func validToken(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// newRequestID makes a reference for requests nginx did not number, in
// the shape of nginx's $request_id (32 hex digits).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PlatformOf guesses the visitor's platform for the hard-refresh keys,
// preferring the Sec-CH-UA-Platform client hint.
func PlatformOf(hint, ua string) string {
	hint = strings.Trim(hint, `"`)
	switch {
	case hint == "Android" || strings.Contains(ua, "Android"):
		return "android"
	case hint == "iOS" || strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		return "ios"
	case hint == "macOS" || strings.Contains(ua, "Macintosh"):
		return "mac"
	case hint == "Windows" || strings.Contains(ua, "Windows"):
		return "windows"
	case hint == "Linux" || hint == "Chrome OS" || strings.Contains(ua, "Linux") || strings.Contains(ua, "CrOS") || strings.Contains(ua, "X11"):
		return "linux"
	}
	return ""
}

// BrowserOf names the browser family, for the clear-data instructions and
// the admin view; the order matters, as Edge's UA also says Chrome and
// Safari.
func BrowserOf(ua string) string {
	switch {
	case strings.Contains(ua, "Edg/") || strings.Contains(ua, "EdgA/") || strings.Contains(ua, "EdgiOS/"):
		return "edge"
	case strings.Contains(ua, "Firefox/") || strings.Contains(ua, "FxiOS/"):
		return "firefox"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Chromium/") || strings.Contains(ua, "CriOS/"):
		return "chrome"
	case strings.Contains(ua, "Safari/"):
		return "safari"
	case strings.HasPrefix(ua, "curl/"):
		return "curl"
	}
	return "other"
}

// validIP reports whether s is an IP address, without the allocation of
// netip.ParseAddr's error for the (rare) invalid header.
func validIP(s string) bool {
	if s == "" || len(s) > 45 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return false
		}
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// Ingress is what ingress-nginx tells its custom default backend
// about the service a request failed on (X-Namespace, X-Ingress-Name,
// X-Service-Name, X-Service-Port). Like every proxy header, it is read
// only from trusted proxies.
type Ingress struct {
	Namespace, Ingress, Service, Port string
}

func readIngress(h http.Header) Ingress {
	in := Ingress{
		Namespace: httpx.HV(h, "X-Namespace"), Ingress: httpx.HV(h, "X-Ingress-Name"),
		Service: httpx.HV(h, "X-Service-Name"), Port: httpx.HV(h, "X-Service-Port"),
	}
	for _, v := range []*string{&in.Namespace, &in.Ingress, &in.Service, &in.Port} {
		if !validLabel(*v) {
			*v = ""
		}
	}
	if in.Namespace == "" || in.Service == "" {
		return Ingress{}
	}
	return in
}

// validLabel reports whether s is a Kubernetes name (a DNS label) or a
// port number or name.
func validLabel(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ErrorCode parses X-Code: an HTTP error status, 400 to 599.
func ErrorCode(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 400 && n <= 599
}
