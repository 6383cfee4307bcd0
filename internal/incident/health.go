package incident

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// Pinger is what Health asks whether the database answers: Store.Ping.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health says whether the store can keep what it is given, for /readyz:
// the database answers its ping (for SQLite: the very file opened at
// start is still there and writable), and the latest batch of events
// written through Writer was stored. It logs each change between ready
// and not ready once, with the reason, however often it is asked.
type Health struct {
	store Pinger
	log   *slog.Logger

	mu       sync.Mutex
	writeErr error // the latest write's error; nil once one succeeds
	down     bool  // the state last logged
}

// NewHealth watches store, logging to log.
func NewHealth(store Pinger, log *slog.Logger) *Health {
	return &Health{store: store, log: log}
}

// Writer passes events to next and remembers whether they were stored.
func (h *Health) Writer(next EventWriter) EventWriter { return healthWriter{next: next, h: h} }

type healthWriter struct {
	next EventWriter
	h    *Health
}

func (w healthWriter) AddEvents(ctx context.Context, events []Event) error {
	err := w.next.AddEvents(ctx, events)
	// A write cut short by shutdown says nothing about the store.
	if !errors.Is(err, context.Canceled) {
		w.h.mu.Lock()
		w.h.writeErr = err
		w.h.mu.Unlock()
	}
	return err
}

// Check returns nil when the store is ready, or why it is not.
func (h *Health) Check(ctx context.Context) error {
	err := h.store.Ping(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil && h.writeErr != nil {
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
