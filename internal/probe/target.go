package probe

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Target is what to check. URL is the check URL from the configuration
// (http, https, or tcp://host:port for a connect-only check). Addr, when set,
// is dialled instead of the URL's host and port, while the Host header and
// TLS server name still come from URL; it is used to check the exact address
// nginx reported, once the caller has matched it against the configured
// addresses. Addr is host:port, [ipv6]:port or unix:/path/to.sock.
type Target struct {
	URL  string
	Addr string
}

// Validate reports why t cannot be checked, or nil. Callers validate
// configured targets up front so that mistakes surface at startup rather
// than as a permanent invalid_target verdict.
func (t Target) Validate() error {
	_, err := t.plan()
	return err
}

// plan is a Target taken apart into what each stage needs.
type plan struct {
	scheme   string   // "http", "https" or "tcp"
	url      *url.URL // the request URL (http and https)
	hostname string   // the URL's host without port: Host header and TLS server name
	network  string   // "tcp" or "unix"
	dialHost string   // name or IP literal to resolve and dial; the socket path for unix
	dialPort string   // empty for unix
}

func (t Target) plan() (plan, error) {
	var p plan
	if t.URL == "" {
		return p, errors.New("empty check URL")
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return p, fmt.Errorf("check URL: %w", err)
	}
	p.scheme = strings.ToLower(u.Scheme)
	p.url = u
	p.hostname = u.Hostname()
	if p.hostname == "" {
		return p, fmt.Errorf("check URL %q has no host", t.URL)
	}
	if u.User != nil {
		// Credentials in a check URL would end up in logs and admin pages.
		return p, fmt.Errorf("check URL %q must not carry credentials", t.URL)
	}
	port := u.Port()
	switch p.scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	case "tcp":
		if port == "" && t.Addr == "" {
			return p, fmt.Errorf("check URL %q: tcp needs a port", t.URL)
		}
	default:
		return p, fmt.Errorf("check URL %q: scheme must be http, https or tcp", t.URL)
	}
	p.network, p.dialHost, p.dialPort = "tcp", p.hostname, port
	if t.Addr == "" {
		return p, nil
	}
	if path, ok := strings.CutPrefix(t.Addr, "unix:"); ok {
		if path == "" {
			return p, fmt.Errorf("addr %q has no socket path", t.Addr)
		}
		p.network, p.dialHost, p.dialPort = "unix", path, ""
		return p, nil
	}
	host, aport, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return p, fmt.Errorf("addr %q: %w", t.Addr, err)
	}
	if host == "" || aport == "" {
		return p, fmt.Errorf("addr %q needs a host and a port", t.Addr)
	}
	p.dialHost, p.dialPort = host, aport
	return p, nil
}
