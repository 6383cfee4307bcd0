package signin

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
)

// fakeStore is a session store that answers with err when it is set.
type fakeStore struct {
	m   map[[32]byte]incident.Session
	err error
}

func (f *fakeStore) CreateSession(_ context.Context, s incident.Session) error {
	if f.err != nil {
		return f.err
	}
	f.m[s.TokenHash] = s
	return nil
}

func (f *fakeStore) Session(_ context.Context, k [32]byte, now time.Time) (incident.Session, error) {
	if f.err != nil {
		return incident.Session{}, f.err
	}
	s, ok := f.m[k]
	if !ok || !now.Before(s.Expires) {
		return incident.Session{}, incident.ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) DeleteSession(_ context.Context, k [32]byte) error {
	delete(f.m, k)
	return f.err
}

// TestSessionsOutlastAStoreOutage: while the store does not answer, a
// session seen before still counts until it expires; one the store said
// is gone (a sign-out elsewhere) does not come back.
func TestSessionsOutlastAStoreOutage(t *testing.T) {
	ctx := context.Background()
	db := &fakeStore{m: map[[32]byte]incident.Session{}}
	s := NewSessions(db, time.Hour)
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	id, _, err := s.Create(ctx, "alice", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.m[sha256.Sum256([]byte(id))]; !ok {
		t.Fatal("the store does not hold the session under the SHA-256 of its ID")
	}
	other, _, err := s.Create(ctx, "bob", t0)
	if err != nil {
		t.Fatal(err)
	}
	delete(db.m, sha256.Sum256([]byte(other))) // signed out on another instance
	if _, ok := s.Get(ctx, other, t0); ok {
		t.Fatal("a session the store no longer has still counts")
	}

	db.err = errors.New("store down")
	if got, ok := s.Get(ctx, id, t0.Add(time.Minute)); !ok || got.User != "alice" {
		t.Errorf("Get during an outage = %+v, %v; want alice's remembered session", got, ok)
	}
	if _, ok := s.Get(ctx, other, t0.Add(time.Minute)); ok {
		t.Error("during an outage, a session the store said was gone is back")
	}
	if _, ok := s.Get(ctx, id, t0.Add(time.Hour)); ok {
		t.Error("during an outage, a remembered session outlives its expiry")
	}
	if _, ok := s.Get(ctx, "never-seen", t0); ok {
		t.Error("during an outage, an unknown ID counts")
	}
}

// TestVerifyUnknownUser: an unknown name is refused even when its password
// is the dummy's, and the dummy costs what the users' hashes cost.
func TestVerifyUnknownUser(t *testing.T) {
	const cost = bcrypt.MinCost + 1
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), cost)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPasswords([]config.User{{Name: "alice", PasswordHash: string(hash)}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(p.dummy); err != nil || c != cost {
		t.Errorf("dummy hash cost = %d, %v; want %d, the users'", c, err, cost)
	}
	ctx := context.Background()
	if !p.Verify(ctx, "alice", "right") || p.Verify(ctx, "alice", "wrong") {
		t.Fatal("Verify does not tell alice's password from a wrong one")
	}
	p.dummy, err = bcrypt.GenerateFromPassword([]byte("dummy"), cost)
	if err != nil {
		t.Fatal(err)
	}
	if p.Verify(ctx, "mallory", "dummy") {
		t.Error("an unknown user with the dummy's password is let in")
	}
}
