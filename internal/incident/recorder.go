package incident

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// RecorderOptions tune a Recorder. Zero values take the defaults.
type RecorderOptions struct {
	QueueSize     int           // rows waiting to be written; default 4096
	BatchSize     int           // rows per write; default 256
	FlushInterval time.Duration // longest a count or row waits for a write; default 500ms
	WriteTimeout  time.Duration // bound on one batch write; default 5s
	LogEvery      time.Duration // at most one warning per interval; default 10s
	Logger        *slog.Logger  // default slog.Default()

	// RowsPerSecond is how many events per second are written with a row
	// of their own, first come first served within each second; the
	// events beyond it are counted only (CountOnly), so that a storm
	// neither fills the disk nor eats the CPU while every count stays
	// exact. 0 is no limit.
	RowsPerSecond int
}

// RecorderStats are a Recorder's counters since it was made, for metrics
// and the admin dashboard.
type RecorderStats struct {
	Recorded  int64 // counted: every event Record accepted
	Written   int64 // counted in the store
	CountOnly int64 // counted in the store without a row of their own (part of Written)
	Rows      int64 // rows stored
	// Shed are events counted without a row because the row queue was
	// three quarters full: the writer is behind, and the rest of the
	// queue is kept for bursts (part of CountOnly once written).
	Shed int64
	// Dropped are events that lost their row because the row queue was
	// full (they are still counted), plus events recorded after Close
	// (not counted).
	Dropped int64
	// Failed are rows lost to store errors (each batch of rows is tried
	// once; counts are kept and retried), plus counts still unwritten when
	// Close gave up.
	Failed int64
	// WriteErrors are batch writes that failed (a batch of counts alone
	// loses nothing: its counts go into the next write).
	WriteErrors      int64
	Queued           int           // rows waiting in the queue now
	Pending          int64         // events counted in memory, not yet in the store
	LastWriteLatency time.Duration // duration of the latest batch write
}

// ErrRecorderClosed is returned by Run on a Recorder that was closed or has
// been run already: one Recorder has one writer.
var ErrRecorderClosed = errors.New("incident: recorder closed or already run")

// Recorder takes events from the request path and writes them in batches
// from one goroutine. Record never waits: it counts the event in an
// in-memory tally (a few map updates under a short lock), which the
// writer swaps out and stores every FlushInterval, so incident and
// per-second counts are exact whatever the rate. Only events that keep a
// row of their own go through the bounded row queue; when it is full the
// row is dropped and counted, the count stays. A batch the store refuses
// loses its rows (retrying them would grow memory without bound), but its
// counts go back into the tally for the next write.
type Recorder struct {
	w     EventWriter
	opts  RecorderOptions
	log   *slog.Logger
	queue chan Event
	stop  chan struct{}

	mu      sync.Mutex // guards the tally, the row budget, running and the hand-over of pending
	t       *tally
	rowSec  int64 // the second (of the clock) rowN counts rows of
	rowN    int
	running bool
	runDone chan struct{}
	pending []Event // Run's unwritten rows, for Close to write
	closed  atomic.Bool

	shedAt int // queue length from which rows are shed

	recorded, written, rowsWritten, dropped, shed, failed, writeErrors, pendingN, latency atomic.Int64

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
	return &Recorder{
		w:       w,
		opts:    opts,
		log:     log,
		queue:   make(chan Event, opts.QueueSize),
		stop:    make(chan struct{}),
		runDone: make(chan struct{}),
		t:       newTally(),
		shedAt:  max(1, opts.QueueSize*3/4),
	}
}

// Record counts e and queues its row, and reports whether e was counted
// (false only after Close). It never blocks and does not allocate once the
// tally's maps have grown. A zero e.Time is set to now.
func (r *Recorder) Record(e Event) bool {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.mu.Lock()
	// Checked under the lock that Close takes to set it, so that no count
	// lands in a tally after Close has swapped out the last one.
	if r.closed.Load() {
		r.mu.Unlock()
		r.dropped.Add(1)
		return false
	}
	r.t.add(&e)
	if !e.CountOnly && r.opts.RowsPerSecond > 0 {
		// Seconds of the clock, not of the events: a caller's times
		// need not be in order.
		if sec := time.Now().Unix(); sec != r.rowSec {
			r.rowSec, r.rowN = sec, 0
		}
		if r.rowN >= r.opts.RowsPerSecond {
			e.CountOnly = true
		} else {
			r.rowN++
		}
	}
	r.mu.Unlock()
	r.recorded.Add(1)
	r.pendingN.Add(1)
	if e.CountOnly {
		return true
	}
	if len(r.queue) >= r.shedAt {
		// The writer is behind (a saturated CPU starves one goroutine
		// among a thousand connections): keep the queue's last quarter
		// for bursts and count this one only, as past RowsPerSecond.
		r.shed.Add(1)
		return true
	}
	select {
	case r.queue <- e:
	default:
		r.dropped.Add(1)
	}
	return true
}

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	written := r.written.Load()
	return RecorderStats{
		Recorded:         r.recorded.Load(),
		Written:          written,
		CountOnly:        max(0, written-r.rowsWritten.Load()),
		Rows:             r.rowsWritten.Load(),
		Dropped:          r.dropped.Load(),
		Shed:             r.shed.Load(),
		Failed:           r.failed.Load(),
		WriteErrors:      r.writeErrors.Load(),
		Queued:           len(r.queue),
		Pending:          r.pendingN.Load(),
		LastWriteLatency: time.Duration(r.latency.Load()),
	}
}

// Run writes batches, one when BatchSize rows are waiting or
// FlushInterval after the last write, each with the counts of everything
// recorded since the last, until ctx is done or Close is called. What is
// left then is written by Close. A write in progress when ctx ends is
// allowed to finish, within WriteTimeout.
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
	rows := make([]Event, 0, r.opts.BatchSize)
	for {
		select {
		case e := <-r.queue:
			e.FillVisitorHash()
			rows = append(rows, e)
			if len(rows) >= r.opts.BatchSize {
				r.write(wctx, rows)
				clear(rows) // let the strings go while the slice waits
				rows = rows[:0]
			}
		case <-tick.C:
			r.write(wctx, rows)
			clear(rows)
			rows = rows[:0]
			r.logDrops()
		case <-r.stop:
			r.handOver(rows)
			return nil
		case <-ctx.Done():
			r.handOver(rows)
			return nil
		}
	}
}

func (r *Recorder) handOver(rows []Event) {
	r.mu.Lock()
	r.pending = append(r.pending, rows...)
	r.mu.Unlock()
}

// Close stops Run and writes the counts and the rows still queued, giving
// up when ctx is done; rows it could not write are counted as dropped, and
// counts as failed. Events recorded after Close are dropped.
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
	rows := r.pending
	r.pending = nil
	r.mu.Unlock()
	for {
		rows = r.fill(rows)
		if ctx.Err() != nil {
			n := int64(len(rows) + len(r.queue))
			r.dropped.Add(n)
			r.failed.Add(r.pendingN.Load())
			r.log.Warn("incident recorder: shutdown deadline reached, events not written",
				"rows", n, "counts", r.pendingN.Load())
			return ctx.Err()
		}
		r.write(ctx, rows)
		if len(rows) == 0 {
			break
		}
		rows = rows[:0]
	}
	if n := r.pendingN.Load(); n > 0 {
		// The last write failed: its counts are lost with the process.
		r.failed.Add(n)
	}
	r.logDrops()
	return nil
}

// fill adds queued rows to rows, without waiting, up to a full batch.
func (r *Recorder) fill(rows []Event) []Event {
	for len(rows) < r.opts.BatchSize {
		select {
		case e := <-r.queue:
			e.FillVisitorHash()
			rows = append(rows, e)
		default:
			return rows
		}
	}
	return rows
}

// write stores rows with the counts recorded since the last write, once.
func (r *Recorder) write(ctx context.Context, rows []Event) {
	r.mu.Lock()
	t := r.t
	if t.events > 0 {
		r.t = newTally()
	} else {
		t = &tally{} // not the live one, which Record may add to meanwhile
	}
	r.mu.Unlock()
	if t.events == 0 && len(rows) == 0 {
		return
	}
	counted := t.events
	b := t.batch()
	b.Rows = rows
	ctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	start := time.Now()
	err := r.w.WriteBatch(ctx, &b)
	r.latency.Store(int64(time.Since(start)))
	if err != nil {
		r.writeErrors.Add(1)
		if counted > 0 {
			// t is live again once merged: not read after this.
			r.mu.Lock()
			t.merge(r.t)
			r.t = t
			r.mu.Unlock()
		}
		r.failed.Add(int64(len(rows)))
		r.logFailure(err, int64(len(rows)), counted)
		return
	}
	r.written.Add(counted)
	r.pendingN.Add(-counted)
	r.rowsWritten.Add(int64(len(rows)))
	r.logMu.Lock()
	defer r.logMu.Unlock()
	if r.failing {
		r.failing = false
		r.log.Info("incident recorder: store writes work again", "failed_total", r.failed.Load())
	}
}

// logFailure warns about store errors at most once per LogEvery, so that a
// store that is down does not flood the log at the page rate.
func (r *Recorder) logFailure(err error, rows, counts int64) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.failing = true
	r.unlogged += rows
	if time.Since(r.lastLog) < r.opts.LogEvery {
		return
	}
	r.lastLog = time.Now()
	r.log.Warn("incident recorder: store write failed, rows dropped, counts kept for the next write",
		"rows", r.unlogged, "counts_pending", counts, "failed_total", r.failed.Load(), "err", err)
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
	r.log.Warn("incident recorder: row queue full, rows dropped (still counted)",
		"rows", d-r.lastDropped, "dropped_total", d, "queue_size", r.opts.QueueSize)
	r.lastDropped = d
}
