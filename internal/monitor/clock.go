package monitor

import "time"

// Clock is the monitor's source of time. Everything that schedules, gates or
// expires goes through it, so tests can drive intervals, backoff and
// verdicts with a fake instead of sleeping.
type Clock interface {
	Now() time.Time
	// After waits for d, like time.After. The monitor never stops a wait
	// early; it only stops listening, so a fake may keep the channel.
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
