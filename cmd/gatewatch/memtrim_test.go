package main

import "testing"

// TestTrimAfterStorms: memory goes back to the system once after each
// storm, when the allocation rate falls, and never while it stays busy
// or was never busy.
func TestTrimAfterStorms(t *testing.T) {
	steps := []struct {
		alloc uint64 // bytes allocated in the interval
		trim  bool
	}{
		{1 << 20, false},        // quiet from the start: nothing to return
		{stormBytes, false},     // a storm
		{2 * stormBytes, false}, // still
		{quietBytes, false},     // slower, not quiet
		{1 << 20, true},         // over: trim
		{0, false},              // once
		{0, false},
		{stormBytes, false}, // another storm
		{0, true},
	}
	tr := trimmer{last: 5 << 30}
	total := tr.last
	for i, s := range steps {
		total += s.alloc
		if got := tr.step(total); got != s.trim {
			t.Errorf("step %d (%d bytes in the interval): trim = %v; want %v", i, s.alloc, got, s.trim)
		}
	}
}

// TestHeapAllocatedGrows: the runtime metric the trimmer reads exists
// and counts allocations.
func TestHeapAllocatedGrows(t *testing.T) {
	before := heapAllocated()
	sink = make([]byte, 1<<20)
	if after := heapAllocated(); after < before+1<<20 {
		t.Errorf("heapAllocated went from %d to %d after a 1 MiB allocation", before, after)
	}
}

var sink []byte
