package main

import (
	"context"
	"runtime/metrics"
	"time"
)

// After a storm the runtime keeps the memory it grew to until collections
// run again, and an idle server allocates too little to cause one: RSS
// stayed at 95 MB for two minutes after 1,000 connections left, until the
// runtime's forced collection brought it to 63 MB (BENCHMARKS.md, "A
// storm at 1,000 connections"). trimAfterStorms returns it once the storm
// is over: when an interval that allocated stormBytes or more is followed
// by a quiet one (under quietBytes), it calls free (debug.FreeOSMemory:
// a collection, and the freed memory given back), once.

const (
	trimEvery  = 10 * time.Second
	stormBytes = 64 << 20 // allocated in one interval: about 13,000 pages
	quietBytes = 4 << 20  // about 800 pages in ten seconds
)

// trimAfterStorms watches allocated() every interval until ctx ends, and
// calls free after each storm (see above).
func trimAfterStorms(ctx context.Context, every time.Duration, allocated func() uint64, free func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	tr := trimmer{last: allocated()}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if tr.step(allocated()) {
			free()
		}
	}
}

// trimmer decides, interval by interval, when a storm has passed.
type trimmer struct {
	last   uint64 // bytes allocated at the previous step
	stormy bool   // an interval since the last trim allocated stormBytes
}

// step takes the bytes allocated so far and says whether to trim now.
func (t *trimmer) step(now uint64) bool {
	d := now - t.last
	t.last = now
	switch {
	case d >= stormBytes:
		t.stormy = true
	case t.stormy && d < quietBytes:
		t.stormy = false
		return true
	}
	return false
}

// heapAllocated is the bytes the heap has allocated since the process
// began (runtime/metrics).
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
