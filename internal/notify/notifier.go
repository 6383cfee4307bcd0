package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// Options configure a Notifier.
type Options struct {
	Targets []Target
	// Attempts per message and target (default 5).
	Attempts int
	// Backoff is the wait before retry n (1, 2, …); default 1s·2^(n-1),
	// at most a minute.
	Backoff func(n int) time.Duration
	// QueueSize bounds each target's queue (default 100): past it,
	// messages are dropped and counted.
	QueueSize int
	// AdminURL is the admin's public URL; messages link incidents there.
	AdminURL string
	// Timeline, when set, gets a "notified" or "notify_failed" entry for
	// each message and target.
	Timeline interface {
		AddTimeline(ctx context.Context, e incident.TimelineEntry) error
	}
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Notifier sends messages to targets, each from its own bounded queue.
type Notifier struct {
	opts    Options
	workers []*worker
	counts  *prometheus.CounterVec
}

type worker struct {
	t     Target
	queue chan Message

	mu    sync.Mutex
	stats TargetStats
}

// TargetStats is what the dashboard shows of one target.
type TargetStats struct {
	Name      string
	Sent      int64
	Failed    int64
	Dropped   int64
	LastError string
	LastErrAt time.Time
}

// New returns a notifier for opts. Its metric is
// gatewatch_notifications_total{target, event, result} with result sent,
// failed or dropped.
func New(opts Options) (*Notifier, error) {
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Backoff == nil {
		opts.Backoff = func(n int) time.Duration { return min(time.Minute, time.Second<<(n-1)) }
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{opts: opts, counts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatewatch_notifications_total",
		Help: "Incident notifications by target, event and result (sent, failed after every attempt, dropped from a full queue).",
	}, []string{"target", "event", "result"})}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(n.counts); err != nil {
			return nil, err
		}
	}
	for _, t := range opts.Targets {
		n.workers = append(n.workers, &worker{t: t, queue: make(chan Message, opts.QueueSize), stats: TargetStats{Name: t.Name()}})
	}
	return n, nil
}

// Enqueue hands m to every target's queue without waiting; a full queue
// drops it for that target, counted.
func (n *Notifier) Enqueue(m Message) {
	for _, w := range n.workers {
		select {
		case w.queue <- m:
		default:
			n.counts.WithLabelValues(w.t.Name(), m.Event, "dropped").Inc()
			w.mu.Lock()
			w.stats.Dropped++
			w.mu.Unlock()
			n.opts.Logger.Warn("notify: queue full, message dropped", "target", w.t.Name(), "event", m.Event, "incident", m.Incident.ID)
		}
	}
}

// Stats returns each target's counts, in config order.
func (n *Notifier) Stats() []TargetStats {
	out := make([]TargetStats, len(n.workers))
	for i, w := range n.workers {
		w.mu.Lock()
		out[i] = w.stats
		w.mu.Unlock()
	}
	return out
}

// Run sends queued messages until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range n.workers {
		wg.Go(func() { n.work(ctx, w) })
	}
	wg.Wait()
}

func (n *Notifier) work(ctx context.Context, w *worker) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-w.queue:
			n.deliver(ctx, w, m)
		}
	}
}

// attemptTimeout bounds one Send when the target has no own timeout.
const attemptTimeout = 30 * time.Second

func (n *Notifier) deliver(ctx context.Context, w *worker, m Message) {
	var err error
	for attempt := 1; attempt <= n.opts.Attempts; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err = w.t.Send(actx, m)
		cancel()
		var perm *PermanentError
		if err == nil || errors.As(err, &perm) || attempt == n.opts.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(n.opts.Backoff(attempt)):
		}
	}
	result, kind, detail := "sent", incident.KindNotified, m.Event+" → "+w.t.Name()
	w.mu.Lock()
	if err == nil {
		w.stats.Sent++
	} else {
		result, kind, detail = "failed", incident.KindNotifyFailed, detail+": "+err.Error()
		w.stats.Failed++
		w.stats.LastError, w.stats.LastErrAt = err.Error(), n.opts.Now()
	}
	w.mu.Unlock()
	n.counts.WithLabelValues(w.t.Name(), m.Event, result).Inc()
	if err != nil {
		n.opts.Logger.Warn("notify: message failed", "target", w.t.Name(), "event", m.Event, "incident", m.Incident.ID, "err", err)
	}
	if n.opts.Timeline != nil {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if terr := n.opts.Timeline.AddTimeline(tctx, incident.TimelineEntry{IncidentID: m.Incident.ID, At: n.opts.Now(),
			Kind: kind, Detail: detail}); terr != nil {
			n.opts.Logger.Warn("notify: timeline entry not stored", "incident", m.Incident.ID, "err", terr)
		}
	}
}

// Pump claims the store's pending notices every interval and enqueues
// their messages, until ctx ends. With no targets it still claims them,
// so that adding a target later does not replay old incidents.
func (n *Notifier) Pump(ctx context.Context, store incident.Notices, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			notices, err := store.ClaimNotices(cctx, 50)
			cancel()
			if err != nil {
				if !failing && ctx.Err() == nil {
					n.opts.Logger.Warn("notify: cannot claim notices", "err", err)
				}
				failing = true
				break
			}
			failing = false
			for _, no := range notices {
				if m, ok := MessageFor(no, n.opts.AdminURL); ok {
					n.Enqueue(m)
				}
			}
			if len(notices) < 50 {
				break
			}
		}
	}
}
