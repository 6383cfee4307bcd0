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
// visitor, for the site and for each upstream involved (those whose
// configured addrs include an address in v.ReportedAddr), and asks for a
// fresh check of those upstreams (or else all the site's upstreams),
// subject to the MinInterval gate. It never blocks on a check. An upstream
// without a check URL adopts a reported address that matches its
// configured addrs as its target. Unknown sites and addresses are ignored.
//
// It returns the name of the upstream the visitor's error came from: the
// last one nginx tried that is configured, or the site's only upstream;
// "" when it cannot tell; and the visitor's key (VisitorKey), hashed once
// for the count and the event alike.
func (m *Monitor) Observe(site string, v Visit) (string, [16]byte) {
	now := m.clock.Now()
	vk, ik := m.keys(v.IP, v.UserAgent, now)
	s := m.sites[site]
	if s == nil {
		return "", vk
	}
	m.counter.visits.Add(1)
	s.visitors.add(vk, ik, m.mono(now), int64(m.opts.Window))

	var hit [maxMatched]*upstream
	var last *upstream // the last configured one nginx tried
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
			last = u
			if n < len(hit) && !contains(hit[:n], u) {
				hit[n] = u
				n++
			}
		}
	}
	if n == 0 {
		for _, u := range s.ups {
			m.request(u, u.contradicted())
		}
		if len(s.ups) == 1 {
			s.ups[0].visitors.add(vk, ik, m.mono(now), int64(m.opts.Window))
			return s.ups[0].cfg.Name, vk
		}
		return "", vk
	}
	for _, u := range hit[:n] {
		u.visitors.add(vk, ik, m.mono(now), int64(m.opts.Window))
		m.request(u, u.contradicted())
	}
	return last.cfg.Name, vk
}

// contradicted reports whether a visitor's failure on u contradicts what
// is known of it: it has not been checked, or its last check passed.
func (u *upstream) contradicted() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return !u.st.has || u.st.up
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
