package admin

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gatewatch/gatewatch/handlers/httpx"
)

// Sign-in limits. A client address gets a few more tries than one user
// name from that address because staff behind one NAT share an address;
// a (user, address) pair gets few, since guessing one account's password
// is the attack. After the burst, one attempt per interval: a password
// list takes years, a typo costs seconds. There is no wall per user name
// alone: whoever guesses at "admin" from elsewhere must not lock the real
// admin, or a scraper signing in as admin, out.
const (
	ipBurst     = 10
	ipEvery     = 6 * time.Second
	userBurst   = 5
	userEvery   = 20 * time.Second
	maxLimiters = 10000
)

// loginLimits slows password guessing per client address and per user
// name at that address.
type loginLimits struct {
	ip, user *limiterSet
}

func newLoginLimits() *loginLimits {
	return &loginLimits{
		ip:   newLimiterSet(rate.Every(ipEvery), ipBurst, maxLimiters),
		user: newLimiterSet(rate.Every(userEvery), userBurst, maxLimiters),
	}
}

// reservation is one attempt's tokens, given back if it succeeds.
type reservation struct {
	rs []*rate.Reservation
	at time.Time // when they were taken
}

// reserve takes one token from the client's and the (user, client) pair's limiter. When
// either has none, it takes nothing and returns how long to wait.
func (l *loginLimits) reserve(client, user string, now time.Time) (reservation, time.Duration) {
	// Case variants and padding of a name share its limiter, so that
	// "Admin" and "admin " do not buy an attacker more guesses.
	user = strings.ToLower(strings.TrimSpace(httpx.Clip(user, maxUserName)))
	res := reservation{at: now, rs: []*rate.Reservation{
		l.ip.get(client, now).ReserveN(now, 1),
		l.user.get(user+"\x00"+client, now).ReserveN(now, 1),
	}}
	var wait time.Duration
	for _, r := range res.rs {
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		res.refund()
		return reservation{}, wait
	}
	return res, 0
}

// refund gives the tokens back. It cancels as of the moment they were
// taken: rate.Reservation.CancelAt refunds nothing once its time has
// passed, and checking a bcrypt hash takes a good part of a second.
func (r reservation) refund() {
	for _, x := range r.rs {
		x.CancelAt(r.at)
	}
}

// limiterSet is a bounded map of limiters by key.
type limiterSet struct {
	mu       sync.Mutex
	limit    rate.Limit
	burst    int
	max      int
	m        map[string]*rate.Limiter
	overflow *rate.Limiter
}

func newLimiterSet(limit rate.Limit, burst, max int) *limiterSet {
	return &limiterSet{limit: limit, burst: burst, max: max, m: map[string]*rate.Limiter{},
		overflow: rate.NewLimiter(limit, burst)}
}

// get returns key's limiter. When the map is full it first forgets the
// limiters that have refilled (a full limiter is the same as a new one, so
// nothing is lost); if every one is still in use, new keys share one
// overflow limiter: a flood of fresh addresses is slowed as a whole rather
// than growing the map or resetting anyone's count.
func (s *limiterSet) get(key string, now time.Time) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.m[key]; ok {
		return l
	}
	if len(s.m) >= s.max {
		for k, l := range s.m {
			if l.TokensAt(now) >= float64(s.burst) {
				delete(s.m, k)
			}
		}
	}
	if len(s.m) >= s.max {
		return s.overflow
	}
	l := rate.NewLimiter(s.limit, s.burst)
	s.m[key] = l
	return l
}
