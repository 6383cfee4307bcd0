package incident_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

type fakePruner struct {
	mu      sync.Mutex
	befores []time.Time
	fail    bool
}

func (p *fakePruner) Prune(_ context.Context, before time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.befores = append(p.befores, before)
	if p.fail {
		return 0, errors.New("store is down")
	}
	return 1, nil
}

func (p *fakePruner) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.befores)
}

func TestRunRetention(t *testing.T) {
	for _, fail := range []bool{false, true} {
		p := &fakePruner{fail: fail}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		start := time.Now()
		go func() {
			incident.RunRetention(ctx, p, 10*time.Millisecond, time.Hour, slog.New(slog.NewTextHandler(t.Output(), nil)))
			close(done)
		}()
		// A failing prune is retried at the next tick, not given up.
		waitFor(t, "three prunes", func() bool { return p.calls() >= 3 })
		cancel()
		<-done
		p.mu.Lock()
		first := p.befores[0]
		p.mu.Unlock()
		if want := start.Add(-time.Hour); first.Before(want.Add(-time.Second)) || first.After(want.Add(time.Second)) {
			t.Errorf("fail=%v: first Prune(before) = %v; want about %v (now - keep)", fail, first, want)
		}
	}
}

func TestRetentionPrunesRealStore(t *testing.T) {
	s := openStore(t, "", t.TempDir())
	now := time.Now().UTC().Truncate(time.Microsecond)
	old := ev("shop", "app", 0, "old")
	old.Time = now.Add(-40 * 24 * time.Hour)
	recent := ev("blog", "app", 0, "recent")
	recent.Time = now.Add(-time.Hour)
	mustAdd(t, s, old, recent)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { incident.RunRetention(ctx, s, time.Hour, 0, nil); close(done) }()
	waitFor(t, "the old event to be pruned", func() bool {
		_, err := s.Event(context.Background(), "old")
		return errors.Is(err, incident.ErrNotFound)
	})
	cancel()
	<-done
	if _, err := s.Event(context.Background(), "recent"); err != nil {
		t.Errorf("Event(%q) after retention with the default 30 days = %v; want it kept", "recent", err)
	}
}
