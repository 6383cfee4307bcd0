package incident

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// UpstreamState is what closing needs to know of one upstream from the
// monitor: whether its latest check passed, and since when.
type UpstreamState struct {
	Site, Upstream string
	Up             bool
	Since          time.Time // when Up last changed; zero before the first check
}

// Closer is what [Closing] needs of a [Store].
type Closer interface {
	RecordRecovery(ctx context.Context, site, upstream string, at time.Time) error
	CloseIncidents(ctx context.Context, site, upstream string, at time.Time) (int64, error)
}

// ClosingOptions configure a [Closing].
type ClosingOptions struct {
	// States returns the monitor's view of every upstream now; it is
	// called once per tick (a config reload may change the set).
	States func() []UpstreamState
	// QuietPeriod is how long an upstream must pass its checks before its
	// incident closes (monitor.quiet_period): a flapping origin stays one
	// incident.
	QuietPeriod time.Duration
	// Every is how often the states are looked at; default
	// min(30s, QuietPeriod/4).
	Every time.Duration
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Closing closes the incidents of upstreams that have been up for the
// quiet period, and notes each recovery in the incident's timeline. A
// store error is logged and counted; the same close (or recovery) is
// tried again at the next tick, since the upstream is still up then.
type Closing struct {
	store  Closer
	opts   ClosingOptions
	errors atomic.Int64
	// unnoted holds the recoveries whose note failed, by site and
	// upstream, so that the next tick writes them even when it falls
	// after the window in which recoveries are noted. Only Tick uses it.
	unnoted map[[2]string]time.Time
}

// NewClosing closes incidents in store as opts say.
func NewClosing(store Closer, opts ClosingOptions) *Closing {
	if opts.Every <= 0 {
		opts.Every = min(30*time.Second, opts.QuietPeriod/4)
	}
	if opts.Every <= 0 {
		opts.Every = time.Second // a QuietPeriod under 4ns: keep the ticker valid
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Closing{store: store, opts: opts, unnoted: map[[2]string]time.Time{}}
}

// Errors counts the store writes (closes and recoveries) that failed.
func (c *Closing) Errors() int64 { return c.errors.Load() }

// Run calls Tick every Every until ctx ends.
func (c *Closing) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.Tick(ctx)
	}
}

// Tick looks at every upstream once: one that came back within the last
// QuietPeriod+Every gets its recovery noted (the store writes the same
// recovery once), and one up for QuietPeriod gets its incident closed as
// of the end of the quiet period. Tick is not safe for concurrent use.
func (c *Closing) Tick(ctx context.Context) {
	quiet, every := c.opts.QuietPeriod, c.opts.Every
	for _, u := range c.opts.States() {
		key := [2]string{u.Site, u.Upstream}
		if !u.Up || u.Since.IsZero() {
			delete(c.unnoted, key)
			continue
		}
		up := c.opts.Now().Sub(u.Since)
		if since, retry := c.unnoted[key]; up < quiet+every || (retry && since.Equal(u.Since)) {
			// The timeline's "recovered"; written once per recovery.
			if err := c.store.RecordRecovery(ctx, u.Site, u.Upstream, u.Since); err != nil {
				if ctx.Err() == nil {
					c.unnoted[key] = u.Since
					c.failed("incident closing: record recovery failed; retrying next tick", u, err)
				}
			} else {
				delete(c.unnoted, key)
			}
		}
		if up >= quiet {
			if _, err := c.store.CloseIncidents(ctx, u.Site, u.Upstream, u.Since.Add(quiet)); err != nil && ctx.Err() == nil {
				c.failed("incident closing: close failed; retrying next tick", u, err)
			}
		}
	}
}

func (c *Closing) failed(msg string, u UpstreamState, err error) {
	c.errors.Add(1)
	c.opts.Logger.Warn(msg, "site", u.Site, "upstream", u.Upstream, "err", err)
}
