package admin

import (
	"testing"
	"time"
)

// TestSuccessfulSignInsCostNothing: a correct password gives its tokens
// back even though checking it took time, so that a Prometheus scraping
// /metrics with Basic auth cannot lock its user out of the sign-in form.
func TestSuccessfulSignInsCostNothing(t *testing.T) {
	l := newLoginLimits()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range 50 {
		res, wait := l.reserve("127.0.0.1", "support", now)
		if wait > 0 {
			t.Fatalf("attempt %d after %d successes waits %v; want none", i+1, i, wait)
		}
		now = now.Add(300 * time.Millisecond) // bcrypt's time
		res.refund()
	}
	// Failures still count: the user's burst, then a wait.
	for i := range userBurst {
		if _, wait := l.reserve("127.0.0.1", "support", now); wait > 0 {
			t.Fatalf("failure %d waits %v; want the burst of %d first", i+1, wait, userBurst)
		}
	}
	if _, wait := l.reserve("127.0.0.1", "support", now); wait <= 0 {
		t.Error("failures past the burst are not slowed")
	}
}
