package signin

import (
	"context"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// TestSuccessfulSignInsCostNothing: a correct password gives its tokens
// back even though checking it took time, so that a Prometheus scraping
// /metrics with Basic auth cannot lock its user out of the sign-in form.
func TestSuccessfulSignInsCostNothing(t *testing.T) {
	l := NewLimits(nil, nil)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range 50 {
		res, wait := l.Reserve(context.Background(), "127.0.0.1", "support", now)
		if wait > 0 {
			t.Fatalf("attempt %d after %d successes waits %v; want none", i+1, i, wait)
		}
		now = now.Add(300 * time.Millisecond) // bcrypt's time
		res.Refund(context.Background())
	}
	// Failures still count: the user's burst, then a wait.
	for i := range userBurst {
		if _, wait := l.Reserve(context.Background(), "127.0.0.1", "support", now); wait > 0 {
			t.Fatalf("failure %d waits %v; want the burst of %d first", i+1, wait, userBurst)
		}
	}
	if _, wait := l.Reserve(context.Background(), "127.0.0.1", "support", now); wait <= 0 {
		t.Error("failures past the burst are not slowed")
	}
}

// TestLimitsLiveInTheStore: the allowances are the store's, so a second
// set of limits on it (another instance, or this one after a reload or a
// restart) refuses what the first used up; while the store does not
// answer, the limits still hold, in memory.
func TestLimitsLiveInTheStore(t *testing.T) {
	ctx := context.Background()
	store, err := incident.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewLimits(store, nil), NewLimits(store, nil)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range userBurst {
		if _, wait := a.Reserve(ctx, "192.0.2.7", "Support", now); wait > 0 {
			t.Fatalf("failure %d waits %v; want the burst of %d first", i+1, wait, userBurst)
		}
	}
	if _, wait := b.Reserve(ctx, "192.0.2.7", "support ", now); wait <= 0 {
		t.Error("a second set of limits on the store allows more guesses at the same user and address")
	}
	res, wait := b.Reserve(ctx, "192.0.2.7", "alice", now)
	if wait > 0 {
		t.Fatalf("another user at the address waits %v", wait)
	}
	res.Refund(ctx)
	store.Close()
	for i := range userBurst {
		if _, wait := b.Reserve(ctx, "192.0.2.8", "bob", now); wait > 0 {
			t.Fatalf("store closed: failure %d waits %v; want the burst first", i+1, wait)
		}
	}
	if _, wait := b.Reserve(ctx, "192.0.2.8", "bob", now); wait <= 0 {
		t.Error("with the store closed, guesses are not limited")
	}
}
