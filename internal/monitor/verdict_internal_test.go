package monitor

import (
	"testing"
	"time"
)

// TestVerdictTable covers every combination of the inputs, including those
// the scenario tests reach only by timing.
func TestVerdictTable(t *testing.T) {
	tests := []struct {
		origin     HopState
		many       bool
		recovering bool
		want       Verdict
	}{
		{HopDown, false, false, VerdictDownForEveryone},
		{HopDown, true, true, VerdictDownForEveryone},
		{HopUp, true, false, VerdictDownForEveryone},
		{HopUp, true, true, VerdictDownForEveryone},
		{HopUnknown, true, false, VerdictDownForEveryone},
		{HopUnknown, false, false, VerdictUnknown},
		{HopUp, false, true, VerdictRecovering},
		{HopUp, false, false, VerdictNotEveryone},
	}
	for _, tt := range tests {
		if got := verdict(tt.origin, tt.many, tt.recovering); got != tt.want {
			t.Errorf("verdict(%q, many=%t, recovering=%t) = %q; want %q", tt.origin, tt.many, tt.recovering, got, tt.want)
		}
	}
}

func TestIntervalBackoff(t *testing.T) {
	m := &Monitor{opts: Options{Interval: 30 * time.Second, DownInterval: 5 * time.Second, MaxDownInterval: 60 * time.Second}}
	tests := []struct {
		up       bool
		failures int
		want     time.Duration
	}{
		{true, 0, 30 * time.Second},
		{false, 1, 5 * time.Second},
		{false, 2, 10 * time.Second},
		{false, 3, 20 * time.Second},
		{false, 4, 40 * time.Second},
		{false, 5, 60 * time.Second},
		{false, 1000, 60 * time.Second},
	}
	for _, tt := range tests {
		if got := m.interval(tt.up, tt.failures); got != tt.want {
			t.Errorf("interval(up=%t, failures=%d) = %s; want %s", tt.up, tt.failures, got, tt.want)
		}
	}
}
