package public

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

// TestPageCacheBounded: past maxPrepared variants, new ones replace old
// ones; the cache does not grow, and a new variant is still kept.
func TestPageCacheBounded(t *testing.T) {
	var c pageCache
	var calls int
	prepare := func() (*prepared, error) { calls++; return &prepared{}, nil }
	for i := range maxPrepared + 100 {
		if _, err := c.get(variantKey{lang: "en", code: i}, prepare); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.m); n != maxPrepared {
		t.Errorf("cache holds %d pages after %d variants; want %d", n, maxPrepared+100, maxPrepared)
	}
	k := variantKey{lang: "de", code: 502}
	c.get(k, prepare)
	before := calls
	c.get(k, prepare)
	if calls != before {
		t.Error("a variant added to the full cache was prepared again on its next request")
	}
}
