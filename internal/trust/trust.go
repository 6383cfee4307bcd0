// Package trust decides whose forwarding headers gatewatch believes: the
// peers listed in trusted_proxies. Both listeners use it, the public one
// for nginx's X-Code, X-Real-IP and upstream headers, the admin one for
// the sign-in limits' client address and the scheme of its cookies.
package trust

import (
	"net"
	"net/netip"

	"github.com/gatewatch/gatewatch/internal/config"
)

// Proxies is a set of trusted proxy prefixes.
type Proxies struct {
	prefixes []netip.Prefix
}

// New builds Proxies from the config's trusted_proxies entries, which the
// config has already validated.
func New(entries []string) Proxies {
	var t Proxies
	for _, e := range entries {
		if p, err := config.ParsePrefix(e); err == nil {
			t.prefixes = append(t.prefixes, p)
		}
	}
	return t
}

// Trusted reports whether remoteAddr (as in http.Request.RemoteAddr)
// belongs to a trusted proxy.
func (t Proxies) Trusted(remoteAddr string) bool {
	ip, ok := PeerIP(remoteAddr)
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

// PeerIP is the address of remoteAddr ("host:port" or a bare address),
// IPv4-mapped IPv6 addresses unmapped.
func PeerIP(remoteAddr string) (netip.Addr, bool) {
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
