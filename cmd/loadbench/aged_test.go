package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestGCLineCPU(t *testing.T) {
	for _, tc := range []struct {
		line string
		want float64
	}{
		{"gc 1 @0.012s 2%: 0.010+1.2+0.015 ms clock, 0.021+0.35/1.0/0.50+0.031 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P", 1.902},
		{"gc 7 @3.1s 4%: 0.1+2+0.2 ms clock, 0.2+1/3/0+0.4 ms cpu, 8->9->4 MB, 9 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)", 4.6},
		{`time=2026-12-07T16:00:00Z level=INFO msg="gc 1 @0.1s 1%: ms clock, 1 ms cpu"`, 0},
		{"gc 2 @0.2s 1%: 0.1+0.2+0.3 ms clock, 0.1+x/0.2/0.3+0.4 ms cpu", 0},
	} {
		if got := gcLineCPU(tc.line); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("gcLineCPU(%q) = %v; want %v", tc.line, got, tc.want)
		}
	}
}

func TestGCCPUSumsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.log")
	log := "gc 1 @0.012s 2%: 0.010+1.2+0.015 ms clock, 1+2/3/4+5 ms cpu, 4->4->0 MB, 4 MB goal, 2 P\n" +
		"time=x level=INFO msg=serving\n" +
		"gc 2 @0.5s 2%: 0.010+1.2+0.015 ms clock, 0.5+0/0/0+0.5 ms cpu, 4->4->0 MB, 4 MB goal, 2 P\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := gcCPU(path)
	if err != nil || got != 16*time.Millisecond {
		t.Errorf("gcCPU = %v, %v; want 16ms", got, err)
	}
}
