// Package cache is gatewatch's one in-memory cache: bounded, least
// recently used first out (hashicorp/golang-lru), with fills that run
// once for all the callers that miss one key together
// (x/sync/singleflight), as every visitor of a fresh outage does.
//
// The public listener keeps everything it derives from configuration and
// live state in caches of this kind: prepared pages, rendered verdict and
// announcement sections, encoded status responses, negotiated formats.
// A key space a client can grow (Accept headers, query variants) is held
// to the bound, so a client cycling through keys costs fills, never
// memory.
package cache

import (
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Cache maps keys to values, holding at most the size it was made with.
// It is safe for concurrent use; the zero value is not usable, see New.
type Cache[K comparable, V any] struct {
	lru   *lru.Cache[K, V]
	fills singleflight.Group
}

// New returns a cache that holds at most size entries; size must be
// positive.
func New[K comparable, V any](size int) *Cache[K, V] {
	l, err := lru.New[K, V](size)
	if err != nil {
		panic(fmt.Sprintf("cache.New(%d): %v", size, err)) // a programming error: sizes are constants
	}
	return &Cache[K, V]{lru: l}
}

// Get returns the key's value and whether it was there.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	return c.lru.Get(k)
}

// Add sets the key's value, making room by dropping the least recently
// used entry when the cache is full.
func (c *Cache[K, V]) Add(k K, v V) {
	c.lru.Add(k, v)
}

// Fill returns the key's value, running fill on a miss. Callers that miss
// the same key while a fill runs wait for it and share its result, so a
// burst of misses fills once. A failed fill is not kept: the next miss
// tries again.
func (c *Cache[K, V]) Fill(k K, fill func() (V, error)) (V, error) {
	if v, ok := c.lru.Get(k); ok {
		return v, nil
	}
	// %#v tells keys apart that plain formatting would not (quoted
	// strings, a pointer's address); it is built on misses only.
	v, err, _ := c.fills.Do(fmt.Sprintf("%#v", k), func() (any, error) {
		// A fill that finished between the Get above and Do.
		if v, ok := c.lru.Get(k); ok {
			return v, nil
		}
		v, err := fill()
		if err != nil {
			return v, err
		}
		c.lru.Add(k, v)
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	got, _ := v.(V) // a nil interface value stays the zero V
	return got, nil
}

// Len is the number of entries held.
func (c *Cache[K, V]) Len() int {
	return c.lru.Len()
}
