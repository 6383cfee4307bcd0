package incident_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// testSharedState: two handles on one database (two instances, or one
// before and after a restart) agree on the day's visitor salt and on staff
// sessions.
func testSharedState(t *testing.T, open opener) {
	a, b := open(t), open(t)
	ctx := ctxT(t)
	day := incident.Day(t0)

	sa, err := a.VisitorSalt(ctx, day)
	if err != nil {
		t.Fatalf("VisitorSalt: %v", err)
	}
	sb, err := b.VisitorSalt(ctx, day)
	if err != nil || sa != sb || sa == ([32]byte{}) {
		t.Errorf("VisitorSalt on two instances = %x, %x (%v); want one non-zero salt", sa, sb, err)
	}
	next, _ := a.VisitorSalt(ctx, day+1)
	if next == sa {
		t.Errorf("the next day's salt = today's; want a new one")
	}
	if err := b.DropSaltsBefore(ctx, day+1); err != nil {
		t.Fatal(err)
	}
	if again, _ := a.VisitorSalt(ctx, day); again == sa {
		t.Errorf("after DropSaltsBefore, the old day's salt is still there; want it gone")
	}
	salts := incident.NewSalts(a, func() time.Time { return t0 }, slog.New(slog.DiscardHandler))
	if err := salts.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if k, ok := salts.Salt(day + 1); !ok || *k != next {
		t.Errorf("Salts.Salt(tomorrow) = %x, %t; want %x ahead of midnight", k, ok, next)
	}

	tok := [32]byte{9, 9, 9}
	s := incident.Session{TokenHash: tok, User: "alice", CSRF: "c-token", Created: t0, Expires: t0.Add(time.Hour)}
	if err := a.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := b.Session(ctx, tok, t0.Add(time.Minute))
	if err != nil || got != s {
		t.Errorf("Session on the other instance = %+v, %v; want %+v", got, err, s)
	}
	if _, err := b.Session(ctx, tok, t0.Add(time.Hour)); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Session at its expiry = %v; want ErrNotFound", err)
	}
	if _, err := b.Session(ctx, [32]byte{1}, t0); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Session(unknown) = %v; want ErrNotFound", err)
	}
	if err := b.DeleteSession(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, tok, t0.Add(time.Minute)); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Session after sign-out on the other instance = %v; want ErrNotFound", err)
	}
	// Expired sessions go when the next one is made.
	old := incident.Session{TokenHash: [32]byte{7}, User: "bob", CSRF: "x", Created: t0, Expires: t0.Add(time.Minute)}
	if err := a.CreateSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	later := incident.Session{TokenHash: [32]byte{8}, User: "bob", CSRF: "y", Created: t0.Add(time.Hour), Expires: t0.Add(2 * time.Hour)}
	if err := a.CreateSession(ctx, later); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, old.TokenHash, t0); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("an expired session after a newer sign-in = %v; want it deleted", err)
	}
}
