package proxied_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/trust"
)

var proxies = trust.New([]string{"127.0.0.1/32"})

func failed(remote string) *http.Request {
	r := httptest.NewRequest("GET", "http://shop.example/_gatewatch/x", nil)
	r.RemoteAddr = remote
	r.RequestURI = "/_gatewatch/x" // as a server sees it (httptest keeps the absolute form)
	h := r.Header
	h.Set("X-Code", "504")
	h.Set("X-Request-ID", "0123456789abcdef0123456789abcdef")
	h.Set("X-Original-URI", "/cart?id=1")
	h.Set("X-Original-Method", "POST")
	h.Set("X-Forwarded-Proto", "https")
	h.Set("X-Real-IP", "203.0.113.7")
	h.Set("X-Upstream-Addr", "10.0.0.5:8080")
	h.Set("X-Upstream-Status", "504")
	h.Set("X-Nginx-Connection", "42")
	h.Set("X-Namespace", "shop")
	h.Set("X-Service-Name", "web")
	h.Set("User-Agent", "Mozilla/5.0 (Macintosh) Firefox/133.0")
	return r
}

// TestReadTrusted: from a trusted proxy, every header nginx sets is read.
func TestReadTrusted(t *testing.T) {
	p := proxied.Read(failed("127.0.0.1:5000"), proxies)
	want := proxied.Request{
		Trusted: true, Code: 504, RequestID: "0123456789abcdef0123456789abcdef", URI: "/cart?id=1", Method: "POST",
		Host: "shop.example", Proto: "https", ClientIP: "203.0.113.7",
		Upstream:  proxied.Upstream{Addr: "10.0.0.5:8080", Status: "504"},
		NginxConn: 42, Ingress: proxied.Ingress{Namespace: "shop", Service: "web"},
		UserAgent: "Mozilla/5.0 (Macintosh) Firefox/133.0", Platform: "mac", Browser: "firefox",
	}
	if len(p.RequestIDHeader) != 1 || p.RequestIDHeader[0] != want.RequestID {
		t.Errorf("RequestIDHeader = %q; want nginx's own value to reuse", p.RequestIDHeader)
	}
	p.RequestIDHeader = nil
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Read from a trusted proxy =\n%+v\nwant\n%+v", p, want)
	}
}

// TestReadUntrusted: from anyone else the proxy headers are ignored: the
// page describes the request as gatewatch received it, with a fresh
// reference and the default code.
func TestReadUntrusted(t *testing.T) {
	p := proxied.Read(failed("192.0.2.9:5000"), proxies)
	if p.Trusted || p.Code != 502 || p.URI != "/_gatewatch/x" || p.Method != "GET" || p.Proto != "http" ||
		p.ClientIP != "192.0.2.9" || p.Upstream != (proxied.Upstream{}) || p.NginxConn != 0 || p.Ingress != (proxied.Ingress{}) {
		t.Errorf("Read from an untrusted peer took its headers: %+v", p)
	}
	if len(p.RequestID) != 32 || p.RequestID == "0123456789abcdef0123456789abcdef" {
		t.Errorf("RequestID = %q; want a fresh 32-hex reference", p.RequestID)
	}
}

// TestReadHostile: malformed values from a trusted proxy are dropped, not
// passed on: a code outside 400–599, a method that is not a token, a
// client address that is not one, a URI that is not a local path, a Host
// with markup, a service name that is not a DNS label.
func TestReadHostile(t *testing.T) {
	q := failed("127.0.0.1:5000")
	h := q.Header
	h.Set("X-Code", "200")
	h.Set("X-Original-Method", "GET<script>")
	h.Set("X-Real-IP", "not-an-ip")
	h.Set("X-Original-URI", "//evil.example/x")
	h.Set("X-Request-ID", "<b>")
	h.Set("X-Service-Name", "Web Service")
	q.Host = `shop.example"><script>`
	p := proxied.Read(q, proxies)
	if p.Code != 502 || p.Method != "GET" || p.ClientIP != "127.0.0.1" || p.Host != "" || p.Ingress != (proxied.Ingress{}) {
		t.Errorf("hostile headers were taken: %+v", p)
	}
	if p.URI == "//evil.example/x" || p.URI[0] != '/' || len(p.URI) > 1 && p.URI[1] == '/' {
		t.Errorf("URI = %q; want a local path", p.URI)
	}
	if p.RequestID == "<b>" || len(p.RequestID) != 32 {
		t.Errorf("RequestID = %q; want a fresh reference in place of the hostile one", p.RequestID)
	}
}
