package incident

import (
	"context"
	"log/slog"
	"time"
)

// DefaultRetention is how long events and incidents are kept by default.
const DefaultRetention = 30 * 24 * time.Hour

// Pruner deletes old events and incidents; Store is one.
type Pruner interface {
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// RunRetention prunes what is older than keep (default DefaultRetention)
// now and then every every (default one hour), until ctx is done. Errors
// are logged and retried at the next tick: a store that is down now may be
// back by then.
func RunRetention(ctx context.Context, s Pruner, every, keep time.Duration, logger *slog.Logger) {
	if every <= 0 {
		every = time.Hour
	}
	if keep <= 0 {
		keep = DefaultRetention
	}
	if logger == nil {
		logger = slog.Default()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := s.Prune(ctx, time.Now().Add(-keep))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			logger.Warn("incident retention: prune failed", "err", err)
		case n > 0:
			logger.Info("incident retention: pruned", "rows", n, "keep", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
