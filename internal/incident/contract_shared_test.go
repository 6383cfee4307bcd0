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

// testCrowd: two instances' sightings of visitors with errors make one
// distinct count per site and upstream; a visitor both saw counts once,
// sightings before since do not count, and those before prune go.
func testCrowd(t *testing.T, open opener) {
	a, b := open(t), open(t)
	ctx := ctxT(t)
	v := func(n byte) [16]byte { return [16]byte{n} }
	mark := func(up string, n byte, at time.Time) incident.CrowdMark {
		return incident.CrowdMark{Site: "shop", Upstream: up, Visitor: v(n), IP: [8]byte{n}, At: at}
	}
	since, prune := t0.Add(-5*time.Minute), t0.Add(-10*time.Minute)
	// 70 marks: more than one insert's rows.
	var many []incident.CrowdMark
	for i := range 70 {
		many = append(many, mark("", byte(100+i), t0))
	}
	if _, err := a.SyncCrowd(ctx, append(many, mark("app", 1, t0), mark("app", 2, t0.Add(-20*time.Minute))), since, prune); err != nil {
		t.Fatalf("SyncCrowd: %v", err)
	}
	got, err := b.SyncCrowd(ctx, []incident.CrowdMark{mark("app", 1, t0.Add(time.Second)), mark("app", 3, t0), mark("api", 4, t0.Add(-6*time.Minute))}, since, prune)
	if err != nil {
		t.Fatalf("SyncCrowd on the other instance: %v", err)
	}
	want := map[string]int{"": 70, "app": 2}
	counts := map[string]int{}
	for _, c := range got {
		if c.Site != "shop" {
			t.Errorf("count for site %q", c.Site)
		}
		counts[c.Upstream] = c.Visitors
	}
	for up, n := range want {
		if counts[up] != n {
			t.Errorf("upstream %q: %d visitors; want %d (all counts %v)", up, counts[up], n, counts)
		}
	}
	if _, ok := counts["api"]; ok {
		t.Errorf("a sighting before since counts: %v", counts)
	}
	// One address cycling user agents, half on each instance, accounts
	// for CrowdPerIP visitors, as on one instance.
	var cycling []incident.CrowdMark
	for i := range 10 {
		m := mark("cart", byte(200+i), t0)
		m.IP = [8]byte{42}
		cycling = append(cycling, m)
	}
	a.SyncCrowd(ctx, cycling[:5], since, prune)
	got, err = b.SyncCrowd(ctx, append(cycling[5:], mark("cart", 5, t0)), since, prune)
	for _, c := range got {
		if c.Upstream == "cart" && c.Visitors != incident.CrowdPerIP+1 {
			t.Errorf("one address with 10 user agents and another visitor: %d; want %d", c.Visitors, incident.CrowdPerIP+1)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	// Later, with nothing new: the window moved past them all.
	got, err = a.SyncCrowd(ctx, nil, t0.Add(time.Hour), t0.Add(time.Hour))
	if err != nil || len(got) != 0 {
		t.Errorf("an hour later: %v, %v; want no one", got, err)
	}
}

// testLoginLimits: sign-in allowances are one across instances: a burst,
// then one attempt per interval; a refused attempt takes nothing from any
// limit; a returned attempt (a sign-in that succeeded) can be taken again.
func testLoginLimits(t *testing.T, open opener) {
	a, b := open(t), open(t)
	ctx := ctxT(t)
	ip := incident.LoginLimit{Key: "192.0.2.1", Every: 10 * time.Second, Burst: 3}
	pair := incident.LoginLimit{Key: "admin\x00192.0.2.1", Every: 20 * time.Second, Burst: 2}
	take := func(s incident.Store, at time.Duration, limits ...incident.LoginLimit) time.Duration {
		t.Helper()
		w, err := s.TakeLoginAttempt(ctx, t0.Add(at), limits)
		if err != nil {
			t.Fatalf("TakeLoginAttempt: %v", err)
		}
		return w
	}
	if w := take(a, 0, ip, pair); w != 0 {
		t.Fatalf("first attempt waits %v", w)
	}
	if w := take(b, 0, ip, pair); w != 0 {
		t.Fatalf("second attempt, on the other instance, waits %v", w)
	}
	// The pair's burst of 2 is spent on both instances together.
	if w := take(a, time.Second, ip, pair); w != 19*time.Second {
		t.Errorf("third attempt for the pair waits %v; want 19s (one more each 20 s after a burst of 2, a second later)", w)
	}
	// That refusal took nothing from the address: another user there
	// still has its third attempt.
	if w := take(b, time.Second, ip, incident.LoginLimit{Key: "bob\x00192.0.2.1", Every: 20 * time.Second, Burst: 2}); w != 0 {
		t.Errorf("another user at the address waits %v; want the address's third attempt", w)
	}
	if w := take(a, time.Second, ip); w != 9*time.Second {
		t.Errorf("the address's fourth attempt waits %v; want 9s (one more each 10 s after a burst of 3)", w)
	}
	// A sign-in that worked gives its attempt back.
	if err := b.ReturnLoginAttempt(ctx, []incident.LoginLimit{ip, pair}); err != nil {
		t.Fatal(err)
	}
	if w := take(a, time.Second, ip, pair); w != 0 {
		t.Errorf("after a returned attempt: waits %v; want none", w)
	}
	// Later, the allowances are full again (and their rows go).
	if w := take(b, time.Hour, ip, pair); w != 0 {
		t.Errorf("an hour later: waits %v", w)
	}
}
