package incident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// SharedState is what instances sharing a store agree on besides
// incidents: the visitor-hash salt of each day and staff sessions. Store
// includes it.
type SharedState interface {
	// VisitorSalt returns the salt of the UTC day (days since the Unix
	// epoch), making a random one if no instance has yet: the same for
	// every instance and across restarts.
	VisitorSalt(ctx context.Context, day int64) ([32]byte, error)
	// DropSaltsBefore deletes the salts of the days before day, so that
	// nobody, gatewatch included, can link an old day's hashes to an
	// address by trying addresses.
	DropSaltsBefore(ctx context.Context, day int64) error

	// CreateSession stores a staff session and drops expired ones.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session whose token hashes to tokenHash, or
	// ErrNotFound when there is none or it expired by now.
	Session(ctx context.Context, tokenHash [32]byte, now time.Time) (Session, error)
	// DeleteSession ends a session (signing out); no such session is
	// not an error.
	DeleteSession(ctx context.Context, tokenHash [32]byte) error

	// SyncCrowd records one instance's sightings of visitors with
	// errors, drops every sighting before prune, and returns the
	// distinct visitors that every instance saw since since, per site
	// and upstream: the live verdict's count of others affected.
	SyncCrowd(ctx context.Context, seen []CrowdMark, since, prune time.Time) ([]CrowdCount, error)

	// TakeLoginAttempt takes one sign-in attempt at now from each
	// limit's allowance, or none and how long to wait when any has none
	// left; ReturnLoginAttempt gives one back (the sign-in succeeded).
	TakeLoginAttempt(ctx context.Context, now time.Time, limits []LoginLimit) (time.Duration, error)
	ReturnLoginAttempt(ctx context.Context, limits []LoginLimit) error
}

// Session is one signed-in staff member. Only the SHA-256 of the cookie's
// token is stored.
type Session struct {
	TokenHash [32]byte
	User      string
	CSRF      string
	Created   time.Time
	Expires   time.Time
}

func (s *sqlStore) VisitorSalt(ctx context.Context, day int64) ([32]byte, error) {
	var fresh [32]byte
	rand.Read(fresh[:]) // never fails (crypto/rand, Go 1.24+)
	var key [32]byte
	var text string
	err := s.b.write(ctx, func(c conn) error {
		// Whoever inserts first wins; everyone reads the winner's.
		if _, err := c.exec(ctx, `INSERT INTO visitor_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING`,
			day, hex.EncodeToString(fresh[:])); err != nil {
			return err
		}
		return c.queryRow(ctx, `SELECT salt FROM visitor_salts WHERE day = $1`, day).Scan(&text)
	})
	if err != nil {
		return key, fmt.Errorf("incident: visitor salt: %w", err)
	}
	b, err := hex.DecodeString(text)
	if err != nil || len(b) != len(key) {
		return key, fmt.Errorf("incident: visitor salt of day %d is not 32 bytes of hex", day)
	}
	copy(key[:], b)
	return key, nil
}

func (s *sqlStore) DropSaltsBefore(ctx context.Context, day int64) error {
	err := s.b.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, `DELETE FROM visitor_salts WHERE day < $1`, day)
		return err
	})
	if err != nil {
		return fmt.Errorf("incident: drop visitor salts: %w", err)
	}
	return nil
}

func (s *sqlStore) CreateSession(ctx context.Context, ss Session) error {
	err := s.b.write(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `DELETE FROM staff_sessions WHERE expires_at <= $1`, micro(ss.Created)); err != nil {
			return err
		}
		_, err := c.exec(ctx, `INSERT INTO staff_sessions (token_hash, user_name, csrf, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, hex.EncodeToString(ss.TokenHash[:]), clean(ss.User, maxShort),
			clean(ss.CSRF, maxShort), micro(ss.Created), micro(ss.Expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("incident: create session: %w", err)
	}
	return nil
}

func (s *sqlStore) Session(ctx context.Context, tokenHash [32]byte, now time.Time) (Session, error) {
	out := Session{TokenHash: tokenHash}
	var created, expires int64
	err := s.b.reader().queryRow(ctx, `SELECT user_name, csrf, created_at, expires_at FROM staff_sessions
		WHERE token_hash = $1 AND expires_at > $2`, hex.EncodeToString(tokenHash[:]), micro(now)).
		Scan(&out.User, &out.CSRF, &created, &expires)
	if err != nil {
		return Session{}, err // ErrNotFound included, unwrapped
	}
	out.Created, out.Expires = fromMicro(created), fromMicro(expires)
	return out, nil
}

func (s *sqlStore) DeleteSession(ctx context.Context, tokenHash [32]byte) error {
	err := s.b.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, hex.EncodeToString(tokenHash[:]))
		return err
	})
	if err != nil {
		return fmt.Errorf("incident: delete session: %w", err)
	}
	return nil
}

// Salts keeps the visitor-hash salts of today and tomorrow from the store
// in memory, for the request path, which must not wait for a database.
// Run refreshes them; tomorrow's is fetched ahead so that midnight needs
// no query.
type Salts struct {
	store SharedState
	now   func() time.Time
	log   *slog.Logger

	mu sync.RWMutex
	m  map[int64][32]byte
}

// NewSalts returns a Salts reading from store.
func NewSalts(store SharedState, now func() time.Time, log *slog.Logger) *Salts {
	return &Salts{store: store, now: now, log: log, m: make(map[int64][32]byte)}
}

// Day is the UTC day of t, as VisitorSalt counts days.
func Day(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// Salt returns the salt of day if it has been fetched.
func (s *Salts) Salt(day int64) (*[32]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.m[day]
	if !ok {
		return nil, false
	}
	return &k, true
}

// Refresh fetches today's and tomorrow's salts, forgets older ones and
// drops them from the store.
func (s *Salts) Refresh(ctx context.Context) error {
	today := Day(s.now())
	got := make(map[int64][32]byte, 2)
	for _, d := range []int64{today, today + 1} {
		k, err := s.store.VisitorSalt(ctx, d)
		if err != nil {
			return err
		}
		got[d] = k
	}
	s.mu.Lock()
	s.m = got
	s.mu.Unlock()
	return s.store.DropSaltsBefore(ctx, today)
}

// Run refreshes every interval until ctx ends, logging failures (the
// previous salts stay in use meanwhile).
func (s *Salts) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("visitor salts: refresh from the store failed", "err", err)
		}
	}
}
