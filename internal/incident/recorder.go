package incident

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// RecorderOptions tune a Recorder. Zero values take the defaults.
type RecorderOptions struct {
	QueueSize     int           // events waiting to be written; default 4096
	BatchSize     int           // events per write; default 256
	FlushInterval time.Duration // longest an event waits for a full batch; default 500ms
	WriteTimeout  time.Duration // bound on one batch write; default 5s
	LogEvery      time.Duration // at most one warning per interval; default 10s
	Logger        *slog.Logger  // default slog.Default()

	// RowsPerSecond is how many events per second are written with a row
	// of their own, first come first served, with a burst of one second's
	// worth; the events beyond it are marked CountOnly, so that a storm
	// neither fills the disk nor eats the CPU while every count stays
	// exact. 0 is no limit.
	RowsPerSecond int
}

// RecorderStats are a Recorder's counters since it was made, for metrics.
type RecorderStats struct {
	Recorded         int64         // accepted into the queue
	Written          int64         // stored
	CountOnly        int64         // stored without a row of their own (part of Written)
	Dropped          int64         // refused: queue full, or recorded after Close
	Failed           int64         // lost to store errors (each batch is tried once)
	Queued           int           // waiting in the queue now
	LastWriteLatency time.Duration // duration of the latest batch write
}

// ErrRecorderClosed is returned by Run on a Recorder that was closed or has
// been run already: one Recorder has one writer.
var ErrRecorderClosed = errors.New("incident: recorder closed or already run")

// Recorder takes events from the request path and writes them in batches
// from one goroutine. Record never waits: an outage page must not get slower
// because the store is slow or down, so when the queue is full an event is
// dropped and counted, and a batch the store refuses is dropped and counted
// rather than retried, which would grow memory without bound.
type Recorder struct {
	w     EventWriter
	opts  RecorderOptions
	log   *slog.Logger
	queue chan Event
	stop  chan struct{}
	// rows hands out RowsPerSecond; nil for no limit. Only the writer
	// (Run, then Close) takes from it, never Record.
	rows *rate.Limiter

	mu      sync.Mutex // guards running, and the hand-over of pending
	running bool
	runDone chan struct{}
	pending []Event // Run's unwritten batch, for Close to write
	closed  atomic.Bool

	recorded, written, countOnly, dropped, failed, latency atomic.Int64

	logMu       sync.Mutex // guards the fields below; the writer and Close may both log
	lastLog     time.Time
	unlogged    int64 // failed events not logged yet
	lastDropped int64 // Dropped when last logged
	failing     bool
}

// NewRecorder returns a Recorder writing to w. Start it with Run and stop
// it with Close.
func NewRecorder(w EventWriter, opts RecorderOptions) *Recorder {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 500 * time.Millisecond
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	if opts.LogEvery <= 0 {
		opts.LogEvery = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{
		w:       w,
		opts:    opts,
		log:     log,
		queue:   make(chan Event, opts.QueueSize),
		stop:    make(chan struct{}),
		runDone: make(chan struct{}),
	}
	if opts.RowsPerSecond > 0 {
		r.rows = rate.NewLimiter(rate.Limit(opts.RowsPerSecond), opts.RowsPerSecond)
	}
	return r
}

// heldPerRowBatch is how many events the writer holds, count-only ones
// included, per BatchSize events with rows: count-only events are cheap to
// store, so they ride along with the next batch of rows or the next flush
// instead of making batches of their own, up to this bound on memory.
const heldPerRowBatch = 16

// Record queues e for writing and reports whether it was accepted. It never
// blocks and does not allocate. A zero e.Time is set to now.
func (r *Recorder) Record(e Event) bool {
	if r.closed.Load() {
		r.dropped.Add(1)
		return false
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	select {
	case r.queue <- e:
		r.recorded.Add(1)
		return true
	default:
		r.dropped.Add(1)
		return false
	}
}

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{
		Recorded:         r.recorded.Load(),
		Written:          r.written.Load(),
		CountOnly:        r.countOnly.Load(),
		Dropped:          r.dropped.Load(),
		Failed:           r.failed.Load(),
		Queued:           len(r.queue),
		LastWriteLatency: time.Duration(r.latency.Load()),
	}
}

// Run writes queued events in batches, a batch when it holds BatchSize
// events with rows (or heldPerRowBatch times that, count-only ones
// included) or FlushInterval after the last write, until ctx is done or
// Close is called.
// What is left then is written by Close. A write in progress when ctx ends
// is allowed to finish, within WriteTimeout.
func (r *Recorder) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running || r.closed.Load() {
		r.mu.Unlock()
		return ErrRecorderClosed
	}
	r.running = true
	r.mu.Unlock()
	defer close(r.runDone)

	wctx := context.WithoutCancel(ctx)
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	batch := make([]Event, 0, r.opts.BatchSize)
	rows := 0 // in batch
	for {
		select {
		case e := <-r.queue:
			r.take(&e)
			batch = append(batch, e)
			if !e.CountOnly {
				rows++
			}
			if r.full(batch, rows) {
				r.write(wctx, batch)
				clear(batch) // let the strings go while the slice waits
				batch, rows = batch[:0], 0
			}
		case <-tick.C:
			if len(batch) > 0 {
				r.write(wctx, batch)
				clear(batch)
				batch, rows = batch[:0], 0
			}
			r.logDrops()
		case <-r.stop:
			r.handOver(batch)
			return nil
		case <-ctx.Done():
			r.handOver(batch)
			return nil
		}
	}
}

func (r *Recorder) handOver(batch []Event) {
	r.mu.Lock()
	r.pending = append(r.pending, batch...)
	r.mu.Unlock()
}

// Close stops Run and writes what is still queued, giving up when ctx is
// done; events it could not write are counted as dropped. Events recorded
// after Close are dropped.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	already := r.closed.Swap(true)
	running := r.running
	r.mu.Unlock()
	if already {
		return nil
	}
	close(r.stop)
	if running {
		select {
		case <-r.runDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	for batch = r.fill(batch); len(batch) > 0; batch = r.fill(batch[:0]) {
		if ctx.Err() != nil {
			n := int64(len(batch) + len(r.queue))
			r.dropped.Add(n)
			r.log.Warn("incident recorder: shutdown deadline reached, events not written", "events", n)
			return ctx.Err()
		}
		r.write(ctx, batch)
	}
	r.logDrops()
	return nil
}

// take prepares an event the writer took off the queue: the work that
// Record leaves out of the request path.
func (r *Recorder) take(e *Event) {
	e.fillVisitorHash()
	if !e.CountOnly && r.rows != nil && !r.rows.Allow() {
		e.CountOnly = true
	}
}

// full reports whether batch, holding rows events with rows, is to be
// written now.
func (r *Recorder) full(batch []Event, rows int) bool {
	return rows >= r.opts.BatchSize || len(batch) >= heldPerRowBatch*r.opts.BatchSize
}

// fill adds queued events to batch, without waiting, up to a full batch.
func (r *Recorder) fill(batch []Event) []Event {
	rows := 0
	for _, e := range batch {
		if !e.CountOnly {
			rows++
		}
	}
	for !r.full(batch, rows) {
		select {
		case e := <-r.queue:
			r.take(&e)
			batch = append(batch, e)
			if !e.CountOnly {
				rows++
			}
		default:
			return batch
		}
	}
	return batch
}

// write stores one batch, once.
func (r *Recorder) write(ctx context.Context, batch []Event) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	start := time.Now()
	err := r.w.AddEvents(ctx, batch)
	r.latency.Store(int64(time.Since(start)))
	n := int64(len(batch))
	if err != nil {
		r.failed.Add(n)
		r.logFailure(err, n)
		return
	}
	r.written.Add(n)
	var countOnly int64
	for _, e := range batch {
		if e.CountOnly {
			countOnly++
		}
	}
	r.countOnly.Add(countOnly)
	r.logMu.Lock()
	defer r.logMu.Unlock()
	if r.failing {
		r.failing = false
		r.log.Info("incident recorder: store writes work again", "failed_total", r.failed.Load())
	}
}

// logFailure warns about store errors at most once per LogEvery, so that a
// store that is down does not flood the log at the page rate.
func (r *Recorder) logFailure(err error, n int64) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.failing = true
	r.unlogged += n
	if time.Since(r.lastLog) < r.opts.LogEvery {
		return
	}
	r.lastLog = time.Now()
	r.log.Warn("incident recorder: store write failed, events dropped",
		"events", r.unlogged, "failed_total", r.failed.Load(), "err", err)
	r.unlogged = 0
}

// logDrops warns about a full queue, at most once per LogEvery.
func (r *Recorder) logDrops() {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	d := r.dropped.Load()
	if d == r.lastDropped || time.Since(r.lastLog) < r.opts.LogEvery {
		return
	}
	r.lastLog = time.Now()
	r.log.Warn("incident recorder: queue full, events dropped",
		"events", d-r.lastDropped, "dropped_total", d, "queue_size", r.opts.QueueSize)
	r.lastDropped = d
}
