package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gatewatch/gatewatch/internal/config"
)

// Trust decides which peers' forwarding headers are believed.
type Trust struct {
	prefixes []netip.Prefix
}

// NewTrust builds a Trust from the config's trusted_proxies entries,
// which the config has already validated.
func NewTrust(entries []string) Trust {
	var t Trust
	for _, e := range entries {
		if p, err := config.ParsePrefix(e); err == nil {
			t.prefixes = append(t.prefixes, p)
		}
	}
	return t
}

// Trusted reports whether remoteAddr (as in http.Request.RemoteAddr)
// belongs to a trusted proxy.
func (t Trust) Trusted(remoteAddr string) bool {
	ip, ok := peerIP(remoteAddr)
	if !ok {
		return false
	}
	for _, p := range t.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerIP(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// proxied is what nginx told us about the failed request. Every field
// comes from headers only when the peer is a trusted proxy; otherwise
// they describe the request as gatewatch itself received it.
type proxied struct {
	Trusted    bool
	Code       int
	RequestID  string
	URI        string // path and query the visitor asked for
	Method     string
	Host       string
	Proto      string // http or https
	ClientIP   string
	Upstream   upstreamInfo
	NginxConn  int64
	UserAgent  string
	AcceptLang string
	platform   string
	browser    string
}

// upstreamInfo is nginx's view of the upstream: admin-only evidence that
// never reaches a public page.
type upstreamInfo struct {
	Addr        string
	Status      string
	ConnectTime string
}

// Limits on header values we keep: anything longer is noise or hostile.
const (
	maxURI       = 2048
	maxHeaderVal = 256
	maxRequestID = 64
)

func readProxied(r *http.Request, trust Trust) proxied {
	p := proxied{
		Code:       http.StatusBadGateway,
		URI:        r.URL.RequestURI(),
		Method:     r.Method,
		Host:       r.Host,
		Proto:      "http",
		UserAgent:  clip(r.Header.Get("User-Agent"), 512),
		AcceptLang: r.Header.Get("Accept-Language"),
	}
	if r.TLS != nil {
		p.Proto = "https"
	}
	if ip, ok := peerIP(r.RemoteAddr); ok {
		p.ClientIP = ip.String()
	}
	p.Trusted = trust.Trusted(r.RemoteAddr)
	if p.Trusted {
		h := r.Header
		if c, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Code"))); err == nil && c >= 400 && c <= 599 {
			p.Code = c
		}
		if id := h.Get("X-Request-ID"); validRequestID(id) {
			p.RequestID = id
		}
		if u := h.Get("X-Original-URI"); validURI(u) {
			p.URI = u
		}
		if m := h.Get("X-Original-Method"); validToken(m) {
			p.Method = m
		}
		if pr := h.Get("X-Forwarded-Proto"); pr == "https" || pr == "http" {
			p.Proto = pr
		}
		if ip, err := netip.ParseAddr(strings.TrimSpace(h.Get("X-Real-IP"))); err == nil {
			p.ClientIP = ip.Unmap().String()
		}
		p.Upstream = upstreamInfo{
			Addr:        clip(h.Get("X-Upstream-Addr"), maxHeaderVal),
			Status:      clip(h.Get("X-Upstream-Status"), maxHeaderVal),
			ConnectTime: clip(h.Get("X-Upstream-Connect-Time"), maxHeaderVal),
		}
		if n, err := strconv.ParseInt(h.Get("X-Nginx-Connection"), 10, 64); err == nil && n > 0 {
			p.NginxConn = n
		}
	} else if p.URI == "" || !validURI(p.URI) {
		p.URI = "/"
	}
	if c, ok := ownCode(r); ok {
		p.Code = c
	}
	if p.RequestID == "" {
		p.RequestID = newRequestID()
	}
	if !validHost(p.Host) {
		p.Host = ""
	}
	p.platform, p.browser = platformOf(r.Header.Get("Sec-CH-UA-Platform"), p.UserAgent), browserOf(p.UserAgent)
	return p
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestID {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func validURI(s string) bool {
	if s == "" || len(s) > maxURI || s[0] != '/' || strings.HasPrefix(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] == 0x7f {
			return false
		}
	}
	return true
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

// platformOf guesses the visitor's platform for the hard-refresh keys,
// preferring the Sec-CH-UA-Platform client hint.
func platformOf(hint, ua string) string {
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

// browserOf names the browser family, for the clear-data instructions and
// the admin view; the order matters, as Edge's UA also says Chrome and
// Safari.
func browserOf(ua string) string {
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
