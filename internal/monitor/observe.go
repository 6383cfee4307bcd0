package monitor

import (
	"net/netip"
	"strings"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// Visit is one error page served, as the public handler saw it. IP is the
// visitor's address taken from a trusted proxy; ReportedAddr is nginx's
// $upstream_addr, e.g. "10.0.0.5:8080, 10.0.0.6:8080 : unix:/run/app.sock".
// Every field is visitor-controlled as far as the monitor knows, so none of
// them can make it probe anything that is not configured.
type Visit struct {
	IP           string
	UserAgent    string
	ReportedAddr string
}

// maxMatched bounds the upstreams one visit can name; nginx tries a handful.
const maxMatched = 8

// Observe records that site served an error page to v: it counts the
// visitor and asks for a fresh check of the upstreams involved (those whose
// configured addrs include an address in v.ReportedAddr, or else all the
// site's upstreams), subject to the MinInterval gate. It never blocks on a
// check. An upstream without a check URL adopts a reported address that
// matches its configured addrs as its target. Unknown sites and addresses
// are ignored.
func (m *Monitor) Observe(site string, v Visit) {
	s := m.sites[site]
	if s == nil {
		return
	}
	m.counter.visits.Add(1)
	now := m.clock.Now()
	vk, ik := m.keys(v.IP, v.UserAgent, now)
	s.visitors.add(vk, ik, m.mono(now), int64(m.opts.Window))

	var hit [maxMatched]*upstream
	n := 0
	for group := range strings.SplitSeq(v.ReportedAddr, " : ") {
		for item := range strings.SplitSeq(group, ",") {
			u, addr := s.lookup(strings.TrimSpace(item))
			if u == nil {
				continue
			}
			if !u.fixed {
				u.adopt(addr)
			}
			if n < len(hit) && !contains(hit[:n], u) {
				hit[n] = u
				n++
			}
		}
	}
	if n == 0 {
		for _, u := range s.ups {
			m.request(u)
		}
		return
	}
	for _, u := range hit[:n] {
		m.request(u)
	}
}

func contains(us []*upstream, u *upstream) bool {
	for _, x := range us {
		if x == u {
			return true
		}
	}
	return false
}

// lookup finds the upstream whose configured addrs include item, and the
// address in canonical form. Only configured addresses ever come back.
func (s *site) lookup(item string) (*upstream, string) {
	if item == "" {
		return nil, ""
	}
	if ap, err := netip.ParseAddrPort(item); err == nil {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if u := s.byIP[ap]; u != nil {
			return u, ap.String()
		}
		return nil, ""
	}
	if strings.HasPrefix(item, "unix:") {
		if u := s.byName[item]; u != nil {
			return u, item
		}
		return nil, ""
	}
	key := strings.ToLower(item)
	if u := s.byName[key]; u != nil {
		return u, key
	}
	return nil, ""
}

// adopt makes a configured address nginx reported the target of an upstream
// that has no check URL. The check is a TCP connect to that exact address:
// without a check URL there is no scheme or Host to send a request with.
func (u *upstream) adopt(addr string) {
	t := probe.Target{URL: "tcp://" + addr, Addr: addr}
	if strings.HasPrefix(addr, "unix:") {
		t.URL = "tcp://localhost"
	}
	if cur := u.target.Load(); cur != nil && *cur == t {
		return
	}
	u.target.Store(&t)
	select {
	case u.kick <- struct{}{}:
	default:
	}
}
