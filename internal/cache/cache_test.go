package cache_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/cache"
)

type key struct {
	site *int
	a, b string
	code int
}

// TestFillOnce: a burst of callers that all miss one key, as a fresh
// outage brings, fills it once and all get the one value; a fill costs a
// page render and megabytes of compressor state, so a burst that filled
// per caller would show as a memory spike.
func TestFillOnce(t *testing.T) {
	c := cache.New[key, *int](8)
	var calls atomic.Int32
	release := make(chan struct{})
	want := new(int)
	fill := func() (*int, error) {
		calls.Add(1)
		<-release
		return want, nil
	}
	k := key{a: "de", code: 502}
	var started, wg sync.WaitGroup
	got := make([]*int, 64)
	for i := range got {
		started.Add(1)
		wg.Go(func() {
			started.Done()
			v, err := c.Fill(k, fill)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	started.Wait()
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("filled %d times for 64 concurrent misses; want 1", n)
	}
	for i, v := range got {
		if v != want {
			t.Fatalf("caller %d got %p; want the filled value %p", i, v, want)
		}
	}
}

// TestFillRetriesAfterError: a failed fill is not kept.
func TestFillRetriesAfterError(t *testing.T) {
	c := cache.New[key, *int](8)
	k := key{a: "en", code: 503}
	if v, err := c.Fill(k, func() (*int, error) { return new(int), errors.New("boom") }); err == nil || v != nil {
		t.Fatalf("Fill = %v, %v from a failing fill; want nil and the error", v, err)
	}
	if _, ok := c.Get(k); ok {
		t.Fatal("a failed fill was kept")
	}
	want := new(int)
	if v, err := c.Fill(k, func() (*int, error) { return want, nil }); err != nil || v != want {
		t.Errorf("Fill after a failure = %p, %v; want a fresh fill", v, err)
	}
}

// TestBounded: past its size, new keys replace the least recently used;
// the cache does not grow, a new key is kept, and a key in use stays.
func TestBounded(t *testing.T) {
	const size = 16
	c := cache.New[key, int](size)
	hot := key{a: "hot"}
	c.Add(hot, -1)
	for i := range size + 100 {
		c.Add(key{code: i}, i)
		c.Get(hot) // used all along
	}
	if n := c.Len(); n != size {
		t.Errorf("cache holds %d entries after %d keys; want %d", n, size+101, size)
	}
	if _, ok := c.Get(hot); !ok {
		t.Error("the key in use was dropped for keys used once")
	}
	if v, ok := c.Get(key{code: size + 99}); !ok || v != size+99 {
		t.Errorf("the newest key = %d, %v; want %d, true", v, ok, size+99)
	}
	if _, ok := c.Get(key{code: 0}); ok {
		t.Error("the oldest key unused since is still held")
	}
}

// TestFillKeysApart: keys whose fields would print alike are two keys to
// the single flight, and so are two pointers to equal values: while one
// key's fill runs, the other's caller gets its own value, not a share of
// the running fill.
func TestFillKeysApart(t *testing.T) {
	s1, s2 := new(int), new(int)
	for _, pair := range [][2]key{
		{{a: "a b", b: "c"}, {a: "a", b: "b c"}},
		{{site: s1}, {site: s2}},
	} {
		c := cache.New[key, string](8)
		running, release := make(chan struct{}), make(chan struct{})
		done := make(chan string)
		go func() {
			v, _ := c.Fill(pair[0], func() (string, error) {
				close(running)
				<-release
				return "first", nil
			})
			done <- v
		}()
		<-running
		second := make(chan string)
		go func() {
			v, _ := c.Fill(pair[1], func() (string, error) { return "second", nil })
			second <- v
		}()
		select {
		case got := <-second:
			if got != "second" {
				t.Errorf("Fill(%+v) while %+v fills = %q; want its own value, second", pair[1], pair[0], got)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Fill(%+v) waited on the fill of %+v", pair[1], pair[0])
		}
		close(release)
		if first := <-done; first != "first" {
			t.Errorf("%+v: the running fill returned %q; want first", pair[0], first)
		}
	}
}
