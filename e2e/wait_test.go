//go:build e2e

package e2e

import (
	"encoding/json"
	"testing"
	"time"
)

// pollEvery is how often poll asks again.
const pollEvery = 50 * time.Millisecond

// poll calls cond until it is true or timeout has passed, and reports
// whether it became true. It is the e2e tests' one wait: a test waits
// for the condition it needs (the monitor has seen the origin down, the
// event is stored), never for a time that usually suffices. The few
// sleeps left in e2e are about elapsed time itself, and say so.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
	return true
}

// eventually fails the test unless cond becomes true within timeout,
// saying what was awaited; it returns how long that took.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	if !poll(timeout, cond) {
		tb.Fatalf("%s: not within %v", what, timeout)
	}
	return time.Since(start)
}

// shopStatus is the part of the status API's answer the waits read.
type shopStatus struct{ Origin, Verdict string }

// waitStatus waits until the shop's status at base (gatewatch's public
// URL, or a proxy's that routes /_gatewatch/ to it) satisfies ok.
func waitStatus(t *testing.T, base, what string, ok func(shopStatus) bool) {
	t.Helper()
	var last string
	if !poll(15*time.Second, func() bool {
		_, last = get(t, base+"/_gatewatch/api/v1/status?site=shop", map[string]string{"Accept": "application/json"})
		var st shopStatus
		json.Unmarshal([]byte(last), &st)
		return ok(st)
	}) {
		t.Fatalf("the status never said %s: %s", what, last)
	}
}

// waitOrigin waits until the status says that the shop's origin is want
// ("down", "up"): the monitor has checked it.
func waitOrigin(t *testing.T, base, want string) {
	t.Helper()
	waitStatus(t, base, "origin "+want, func(st shopStatus) bool { return st.Origin == want })
}
