package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// Session is one signed-in user.
type Session struct {
	User    string
	CSRF    string // the session's CSRF token
	Expires time.Time
}

// Store keeps staff sessions where every instance sharing the store finds
// them, so that staff stay signed in across restarts, reloads and
// instances; *incident.Store satisfies it.
type Store interface {
	CreateSession(ctx context.Context, s incident.Session) error
	Session(ctx context.Context, tokenHash [32]byte, now time.Time) (incident.Session, error)
	DeleteSession(ctx context.Context, tokenHash [32]byte) error
}

// Sessions keeps sessions in the store, keyed by the SHA-256 of their ID,
// so that the table never holds a usable cookie value. It remembers the
// sessions it saw for when the store does not answer, so that staff then
// see the store's failure rather than the sign-in form; whenever the store
// answers, its answer wins (a sign-out on another instance counts).
type Sessions struct {
	db  Store
	ttl time.Duration

	mu   sync.Mutex
	seen map[[32]byte]Session
}

// maxSeenSessions bounds the sessions remembered for a store outage.
const maxSeenSessions = 10000

// NewSessions returns sessions kept in db that last ttl.
func NewSessions(db Store, ttl time.Duration) *Sessions {
	return &Sessions{db: db, ttl: ttl, seen: map[[32]byte]Session{}}
}

// Create starts a session for user and returns its ID, the cookie value.
func (s *Sessions) Create(ctx context.Context, user string, now time.Time) (string, Session, error) {
	id := RandomToken()
	k := sha256.Sum256([]byte(id))
	sess := Session{User: user, CSRF: RandomToken(), Expires: now.Add(s.ttl)}
	err := s.db.CreateSession(ctx, incident.Session{TokenHash: k, User: user, CSRF: sess.CSRF,
		Created: now, Expires: sess.Expires})
	if err != nil {
		return "", Session{}, err
	}
	s.remember(k, sess, now)
	return id, sess, nil
}

func (s *Sessions) remember(k [32]byte, sess Session, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[k]; !ok && len(s.seen) >= maxSeenSessions {
		for k, v := range s.seen {
			if !now.Before(v.Expires) {
				delete(s.seen, k)
			}
		}
		if len(s.seen) >= maxSeenSessions {
			clear(s.seen)
		}
	}
	s.seen[k] = sess
}

// Get returns the live session of id.
func (s *Sessions) Get(ctx context.Context, id string, now time.Time) (Session, bool) {
	if id == "" || len(id) > 64 {
		return Session{}, false
	}
	k := sha256.Sum256([]byte(id))
	ss, err := s.db.Session(ctx, k, now)
	switch {
	case err == nil:
		sess := Session{User: ss.User, CSRF: ss.CSRF, Expires: ss.Expires}
		s.remember(k, sess, now)
		return sess, true
	case errors.Is(err, incident.ErrNotFound):
		s.mu.Lock()
		delete(s.seen, k)
		s.mu.Unlock()
		return Session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.seen[k]
	if !ok || !now.Before(sess.Expires) {
		return Session{}, false
	}
	return sess, true
}

// Delete ends the session of id, here and in the store.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	delete(s.seen, k)
	s.mu.Unlock()
	return s.db.DeleteSession(ctx, k)
}

// RandomBytes returns n random bytes.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}

// RandomToken is 32 random bytes, base64url: session IDs and CSRF tokens.
func RandomToken() string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(32))
}
