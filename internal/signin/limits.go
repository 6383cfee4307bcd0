package signin

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// MaxUserName bounds user names from forms and the auth header; [Limits]
// key a longer name by its first MaxUserName bytes.
const MaxUserName = 128

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

// limitStoreWait bounds how long a sign-in waits for the store's limits.
const limitStoreWait = 500 * time.Millisecond

// limitStoreRetry is how long after a failure the limits stay in memory
// before the store is asked again.
const limitStoreRetry = 5 * time.Second

// LimitStore keeps the allowances in the store, where every instance
// sharing it, and this one after a reload or restart, finds them;
// *incident.Store satisfies it.
type LimitStore interface {
	TakeLoginAttempt(ctx context.Context, now time.Time, limits []incident.LoginLimit) (time.Duration, error)
	ReturnLoginAttempt(ctx context.Context, limits []incident.LoginLimit) error
}

// Limits slows password guessing per client address and per user name at
// that address: in the store when there is one, in memory while it does
// not answer (each instance then allows its own bursts).
type Limits struct {
	ip, user *limiterSet
	store    LimitStore // nil: memory only
	log      *slog.Logger
	failing  atomic.Bool  // the store's last answer was an error
	failedAt atomic.Int64 // when (Unix ns): the store is asked again after limitStoreRetry
}

// NewLimits returns sign-in limits kept in store, or in memory alone when
// store is nil. log, which may be nil, hears when the store stops and
// starts answering again.
func NewLimits(store LimitStore, log *slog.Logger) *Limits {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limits{
		ip:    newLimiterSet(rate.Every(ipEvery), ipBurst, maxLimiters),
		user:  newLimiterSet(rate.Every(userEvery), userBurst, maxLimiters),
		store: store, log: log,
	}
}

// Reservation is one attempt's tokens, given back if it succeeds.
type Reservation struct {
	rs []*rate.Reservation
	at time.Time // when they were taken
	// or, from the store:
	store  LimitStore
	limits []incident.LoginLimit
}

// Reserve takes one token from the client's and the (user, client) pair's
// limiter. When either has none, it takes nothing and returns how long to
// wait.
func (l *Limits) Reserve(ctx context.Context, client, user string, now time.Time) (Reservation, time.Duration) {
	// Case variants and padding of a name share its limiter, so that
	// "Admin" and "admin " do not buy an attacker more guesses.
	user = strings.ToLower(strings.TrimSpace(user[:min(len(user), MaxUserName)]))
	if l.store != nil && now.Sub(time.Unix(0, l.failedAt.Load())) >= limitStoreRetry {
		limits := []incident.LoginLimit{
			{Key: "ip\x00" + client, Every: ipEvery, Burst: ipBurst},
			{Key: "user\x00" + user + "\x00" + client, Every: userEvery, Burst: userBurst},
		}
		// A store that hangs must not hang sign-ins and scrapes with it:
		// past limitStoreWait the limits are kept in memory.
		sctx, cancel := context.WithTimeout(ctx, limitStoreWait)
		wait, err := l.store.TakeLoginAttempt(sctx, now, limits)
		cancel()
		if err == nil {
			if l.failing.Swap(false) {
				l.log.Info("sign-in limits: the store answers again")
			}
			if wait > 0 {
				return Reservation{}, wait
			}
			return Reservation{store: l.store, limits: limits}, 0
		}
		l.failedAt.Store(now.UnixNano())
		if !l.failing.Swap(true) {
			l.log.Warn("sign-in limits: the store does not answer; limiting in memory", "err", err)
		}
	}
	res := Reservation{at: now, rs: []*rate.Reservation{
		l.ip.get(client, now).ReserveN(now, 1),
		l.user.get(user+"\x00"+client, now).ReserveN(now, 1),
	}}
	var wait time.Duration
	for _, r := range res.rs {
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		res.Refund(ctx)
		return Reservation{}, wait
	}
	return res, 0
}

// Refund gives the tokens back. It cancels as of the moment they were
// taken: rate.Reservation.CancelAt refunds nothing once its time has
// passed, and checking a bcrypt hash takes a good part of a second.
func (r Reservation) Refund(ctx context.Context) {
	if r.store != nil {
		// Best effort: an attempt not given back costs one try.
		ctx, cancel := context.WithTimeout(ctx, limitStoreWait)
		r.store.ReturnLoginAttempt(ctx, r.limits)
		cancel()
		return
	}
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
