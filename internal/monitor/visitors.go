package monitor

import (
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// pruneSteps is how finely the window expires: every Window/pruneSteps,
	// so Affected may still include visitors that left the window up to
	// that long ago.
	pruneSteps = 16
	// maxVisitors caps the distinct visitors tracked per site, so a flood
	// of made-up user agents costs bounded memory; the count saturates.
	maxVisitors = 10000
	// maxPerIP caps the visitors one IP can account for: a household or
	// office shares an address, but one address cycling user agents must
	// not reach DownThreshold alone.
	maxPerIP = 3
)

// MaxPerIP is the most visitors one address accounts for (see maxPerIP),
// for a crowd store to cap alike.
const MaxPerIP = maxPerIP

// visitorKey identifies a visitor (IP and user agent) under the day's salt;
// ipKey identifies the IP alone, for the per-IP cap.
type (
	visitorKey [16]byte
	ipKey      [8]byte
)

type visitorEntry struct {
	last   int64 // mono time last seen
	shared int64 // mono time last handed to the crowd store, 0 for never
	ip     ipKey
}

// visitorWindow counts distinct visitors seen within the window.
type visitorWindow struct {
	mu        sync.Mutex
	seen      map[visitorKey]visitorEntry // guarded by mu
	perIP     map[ipKey]uint8             // guarded by mu
	lastPrune int64                       // guarded by mu
	n         atomic.Int64                // len(seen), for lock-free reads
	newest    atomic.Int64                // mono time of the latest counted visit
	// With a crowd store (Options.Crowd): the visitors to hand it next
	// (mono time seen), and every instance's count at the last sync.
	pending map[visitorKey]visitorEntry // guarded by mu; nil without a store
	crowd   atomic.Int64
	crowdAt atomic.Int64 // mono time of that sync, 0 for never
}

func (w *visitorWindow) init(share bool) {
	w.seen = map[visitorKey]visitorEntry{}
	w.perIP = map[ipKey]uint8{}
	if share {
		w.pending = map[visitorKey]visitorEntry{}
	}
}

// add counts a visit at mono time now.
func (w *visitorWindow) add(vk visitorKey, ik ipKey, now, window int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now-w.lastPrune >= window/pruneSteps {
		w.pruneLocked(now, window)
	}
	e, ok := w.seen[vk]
	switch {
	case ok:
		e.last = now
	case w.perIP[ik] < maxPerIP && len(w.seen) < maxVisitors:
		e = visitorEntry{last: now, ip: ik}
		w.perIP[ik]++
	default:
		return
	}
	// The store keeps a visitor's latest sighting: one that returns is
	// handed on again only after a quarter of the window.
	if w.pending != nil && (e.shared == 0 || now-e.shared >= window/4) && len(w.pending) < maxVisitors {
		e.shared = now
		w.pending[vk] = e
	}
	w.seen[vk] = e
	w.n.Store(int64(len(w.seen)))
	w.newest.Store(now)
}

// take returns the visitors to hand to the crowd store and forgets them.
func (w *visitorWindow) take() map[visitorKey]visitorEntry {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	p := w.pending
	w.pending = make(map[visitorKey]visitorEntry, len(p))
	return p
}

// affected is count, or every instance's count from the crowd store when
// that is larger and its sync no older than fresh.
func (w *visitorWindow) affected(now, window, fresh int64) int {
	n := w.count(now, window)
	if at := w.crowdAt.Load(); at != 0 && now-at < fresh {
		n = max(n, int(w.crowd.Load()))
	}
	return n
}

// count returns the distinct visitors in the window at mono time now. It
// reads two atomics: when even the newest visit is older than the window,
// everyone has left, whether or not a prune has run.
func (w *visitorWindow) count(now, window int64) int {
	newest := w.newest.Load()
	if newest == 0 || now-newest >= window {
		return 0
	}
	return int(w.n.Load())
}

// prune drops visitors last seen before the window.
func (w *visitorWindow) prune(now, window int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(now, window)
}

func (w *visitorWindow) pruneLocked(now, window int64) {
	w.lastPrune = now
	for k, e := range w.seen {
		if now-e.last < window {
			continue
		}
		delete(w.seen, k)
		if w.perIP[e.ip] <= 1 {
			delete(w.perIP, e.ip)
		} else {
			w.perIP[e.ip]--
		}
	}
	w.n.Store(int64(len(w.seen)))
}

// reset forgets everyone.
func (w *visitorWindow) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.seen)
	clear(w.perIP)
	w.n.Store(0)
	w.newest.Store(0)
}

// salt is the HMAC key for one UTC day. It comes from Options.Salts, the
// store's salt of the day that every instance sharing the store uses (so a
// visitor counts once whichever instance answers, and after a restart),
// and the store forgets it once the day is over, so that nobody, gatewatch
// included, can link its hashes to an IP by trying addresses. Without a
// source, or until the source has the day's salt, it is random and never
// stored.
type salt struct {
	day    int64
	key    [32]byte
	shared bool // from Options.Salts
}

// SaltSource hands out the visitor-hash salt of a UTC day (days since the
// Unix epoch) without waiting; ok is false when it does not have it.
type SaltSource interface {
	Salt(day int64) (key *[32]byte, ok bool)
}

// saltFor returns the key for the UTC day of now, taking it from the
// source, else making a random one when the day has changed.
func (m *Monitor) saltFor(now time.Time) *[32]byte {
	day := now.UTC().Unix() / 86400
	s := m.salt.Load()
	if s != nil && s.day == day && (s.shared || m.opts.Salts == nil) {
		return &s.key
	}
	if m.opts.Salts != nil {
		if k, ok := m.opts.Salts.Salt(day); ok {
			ns := &salt{day: day, key: *k, shared: true}
			m.salt.Store(ns)
			return &ns.key
		}
		if s != nil && s.day == day {
			return &s.key
		}
	}
	m.saltMu.Lock()
	defer m.saltMu.Unlock()
	if s := m.salt.Load(); s != nil && s.day == day {
		return &s.key
	}
	s = &salt{day: day}
	rand.Read(s.key[:]) // never fails (crypto/rand, Go 1.24+)
	m.salt.Store(s)
	return &s.key
}

// maxHashedUA bounds the user agent hashed: longer ones are cut, which
// only merges visitors who share the first 512 bytes.
const maxHashedUA = 512

// keys hashes a visitor under the salt of now's day: SHA-256 of the salt
// followed by the IP (and then the user agent). Nobody sees these hashes
// but staff, so a keyed prefix serves as well as HMAC here, and it runs
// on a stack buffer: this is on every error page.
func (m *Monitor) keys(ip, ua string, now time.Time) (visitorKey, ipKey) {
	ip = canonIP(ip)
	if len(ua) > maxHashedUA {
		ua = ua[:maxHashedUA]
	}
	var buf [32 + 3 + 64 + 4 + maxHashedUA]byte
	b := append(buf[:0], m.saltFor(now)[:]...)
	b = append(b, "ip\x00"...)
	b = append(b, clipIP(ip)...)
	var ik ipKey
	sum := sha256.Sum256(b)
	copy(ik[:], sum[:])
	b = append(b, "\x00ua\x00"...)
	b = append(b, ua...)
	var vk visitorKey
	sum = sha256.Sum256(b)
	copy(vk[:], sum[:])
	return vk, ik
}

// clipIP bounds what is hashed of an address that did not parse.
func clipIP(ip string) string {
	if len(ip) > 64 {
		return ip[:64]
	}
	return ip
}

// VisitorKey returns the visitor's salted hash: the same key the affected
// count uses, for event records that must tell visitors apart without
// keeping IPs. It changes when the salt rotates at midnight UTC. It is an
// array, not hex, so that the page path does not allocate; the event
// recorder spells it out off that path.
func (m *Monitor) VisitorKey(ip, ua string) [16]byte {
	vk, _ := m.keys(ip, ua, m.clock.Now())
	return vk
}

// canonIP folds the spellings of one address (IPv4-mapped IPv6, zero
// padding, case) together; anything unparsable is hashed as given.
func canonIP(ip string) string {
	ip = strings.TrimSpace(ip)
	if !strings.ContainsAny(ip, ":%") && !strings.HasPrefix(ip, "0") {
		// Dotted IPv4 has one spelling (netip rejects leading zeros);
		// skipping the parse and String saves an allocation per page.
		return ip
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return ip
}
