package handlers

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPageCachePreparesOnce: a burst of requests that all miss one
// variant, as a fresh outage brings, prepares it once; each prepare
// costs megabytes of compressor state, so a burst that prepared it per
// request would show as a memory spike.
func TestPageCachePreparesOnce(t *testing.T) {
	var c pageCache
	var calls atomic.Int32
	release := make(chan struct{})
	want := &prepared{}
	prepare := func() (*prepared, error) {
		calls.Add(1)
		<-release
		return want, nil
	}
	k := variantKey{lang: "de", code: 502}
	var wg sync.WaitGroup
	got := make([]*prepared, 64)
	for i := range got {
		wg.Go(func() {
			p, err := c.get(k, prepare)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("prepared %d times for 64 concurrent misses; want 1", n)
	}
	for i, p := range got {
		if p != want {
			t.Fatalf("request %d got %p; want the prepared page %p", i, p, want)
		}
	}
}

// TestPageCacheRetriesAfterError: a failed prepare is not kept.
func TestPageCacheRetriesAfterError(t *testing.T) {
	var c pageCache
	k := variantKey{lang: "en", code: 503}
	if _, err := c.get(k, func() (*prepared, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("get returned no error from a failing prepare")
	}
	want := &prepared{}
	if p, err := c.get(k, func() (*prepared, error) { return want, nil }); err != nil || p != want {
		t.Errorf("get after a failure = %p, %v; want a fresh prepare", p, err)
	}
}
