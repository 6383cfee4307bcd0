package incident

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Pinger is what Health asks whether the database answers: Store.Ping.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health says whether the store can keep what it is given, for /readyz:
// the database answers its ping (for SQLite: the very file opened at
// start is still there and writable), and the latest batch of events
// written through Writer, if it was written less than WriteFailureMemory
// ago, was stored. It logs each change between ready and not ready once,
// with the reason, however often it is asked.
type Health struct {
	store Pinger
	log   *slog.Logger
	now   func() time.Time

	mu       sync.Mutex
	writeErr error     // the latest write's error; nil once one succeeds
	failedAt time.Time // when it failed
	down     bool      // the state last logged
}

// WriteFailureMemory is how long a failed write keeps the store unready
// when no write has come since: an instance taken out of rotation gets
// no visitors, so no write would ever prove the store repaired. After
// it, ping and file checks decide until the next write.
const WriteFailureMemory = 30 * time.Second

// NewHealth watches store, logging to log; now is the clock.
func NewHealth(store Pinger, log *slog.Logger, now func() time.Time) *Health {
	return &Health{store: store, log: log, now: now}
}

// Writer passes events to next and remembers whether they were stored.
func (h *Health) Writer(next EventWriter) EventWriter { return healthWriter{next: next, h: h} }

type healthWriter struct {
	next EventWriter
	h    *Health
}

func (w healthWriter) WriteBatch(ctx context.Context, b *Batch) error {
	err := w.next.WriteBatch(ctx, b)
	// A write cut short by shutdown says nothing about the store.
	if !errors.Is(err, context.Canceled) {
		w.h.mu.Lock()
		w.h.writeErr, w.h.failedAt = err, w.h.now()
		w.h.mu.Unlock()
	}
	return err
}

// Check returns nil when the store is ready, or why it is not.
func (h *Health) Check(ctx context.Context) error {
	err := h.store.Ping(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil && h.writeErr != nil && h.now().Sub(h.failedAt) < WriteFailureMemory {
		err = errors.Join(errors.New("incident: the latest write of events failed"), h.writeErr)
	}
	if down := err != nil; down != h.down {
		if down {
			h.log.Error("store not ready", "err", err)
		} else {
			h.log.Info("store ready again")
		}
		h.down = down
	}
	return err
}
