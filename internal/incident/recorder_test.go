package incident_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// fakeWriter records the batches it is given. With a gate, each call waits
// for a value on it (or for its context); with failing set, it refuses.
type fakeWriter struct {
	gate    chan struct{}
	failing atomic.Bool
	calls   atomic.Int64

	mu      sync.Mutex
	batches [][]incident.Event // the rows of each batch that had rows
	counted map[string]int64   // requests per site/upstream
	codes   map[int]int64
	seconds int64 // the sum of the per-second counts
}

func (f *fakeWriter) WriteBatch(ctx context.Context, b *incident.Batch) error {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.failing.Load() {
		return errors.New("store is down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(b.Rows) > 0 {
		f.batches = append(f.batches, append([]incident.Event(nil), b.Rows...))
	}
	if f.counted == nil {
		f.counted, f.codes = map[string]int64{}, map[int]int64{}
	}
	for _, c := range b.Counts {
		f.counted[c.Site+"/"+c.Upstream] += c.Requests
		for code, n := range c.Codes {
			f.codes[code] += n
		}
	}
	for _, sc := range b.Seconds {
		f.seconds += sc.N
	}
	return nil
}

// total is how many events the batches counted.
func (f *fakeWriter) total() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int64
	for _, c := range f.counted {
		n += c
	}
	return n
}

func (f *fakeWriter) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, b := range f.batches {
		out = append(out, len(b))
	}
	return out
}

func (f *fakeWriter) requestIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.batches {
		for _, e := range b {
			out = append(out, e.RequestID)
		}
	}
	return out
}

// lockedBuffer is a log sink the writer goroutine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// waitFor polls cond; a recorder's progress is asynchronous by design.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startRecorder(t *testing.T, w incident.EventWriter, opts incident.RecorderOptions) *incident.Recorder {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	r := incident.NewRecorder(w, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
		_ = r.Close(context.Background())
	})
	return r
}

func recordN(t *testing.T, r *incident.Recorder, prefix string, n int) {
	t.Helper()
	for i := range n {
		if !r.Record(ev("shop", "app", 0, fmt.Sprintf("%s%d", prefix, i))) {
			t.Fatalf("Record(%s%d) = false; want true", prefix, i)
		}
	}
}

func TestRecorderWritesFullBatches(t *testing.T) {
	w := &fakeWriter{}
	r := startRecorder(t, w, incident.RecorderOptions{BatchSize: 10, FlushInterval: time.Hour})
	recordN(t, r, "r", 25)
	waitFor(t, "two full batches", func() bool { return r.Stats().Rows == 20 })
	if got := w.sizes(); !reflect.DeepEqual(got, []int{10, 10}) {
		t.Fatalf("batch sizes before Close = %v; want [10 10]", got)
	}
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if got := w.sizes(); !reflect.DeepEqual(got, []int{10, 10, 5}) {
		t.Errorf("batch sizes after Close = %v; want [10 10 5]", got)
	}
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("r%d", i))
	}
	if got := w.requestIDs(); !reflect.DeepEqual(got, want) {
		t.Errorf("written request IDs = %q; want %q", got, want)
	}
	st := r.Stats()
	if st.Recorded != 25 || st.Written != 25 || st.Rows != 25 || st.Dropped != 0 || st.Failed != 0 || st.Queued != 0 {
		t.Errorf("Stats() = %+v; want 25 recorded and written, nothing dropped, failed or queued", st)
	}
	if st.LastWriteLatency <= 0 {
		t.Errorf("Stats().LastWriteLatency = %v; want > 0", st.LastWriteLatency)
	}
}

func TestRecorderFlushesPartialBatchAfterInterval(t *testing.T) {
	w := &fakeWriter{}
	r := startRecorder(t, w, incident.RecorderOptions{BatchSize: 100, FlushInterval: 20 * time.Millisecond})
	recordN(t, r, "f", 3)
	waitFor(t, "a partial batch", func() bool { return r.Stats().Written == 3 })
	if got := w.sizes(); !reflect.DeepEqual(got, []int{3}) {
		t.Errorf("batch sizes = %v; want [3]", got)
	}
}

// TestRecorderFloodKeepsCountsExact floods a recorder whose store is stuck
// far beyond its row queue: every event is still counted exactly, per
// incident, per code and per second; rows beyond three quarters of the
// queue are shed (counted only), and the queue never overflows.
func TestRecorderFloodKeepsCountsExact(t *testing.T) {
	w := &fakeWriter{gate: make(chan struct{})}
	r := startRecorder(t, w, incident.RecorderOptions{QueueSize: 8, BatchSize: 1, FlushInterval: time.Millisecond})
	recordN(t, r, "first", 1)
	waitFor(t, "the writer to be stuck in the store", func() bool { return w.calls.Load() == 1 })

	const flood = 20000
	var wg sync.WaitGroup
	slowest := make([]time.Duration, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range flood / 4 {
				e := ev("shop", []string{"app", "api"}[i%2], time.Duration(i%3)*time.Second, fmt.Sprintf("g%d-%d", g, i))
				e.Code = 502 + i%2
				e.VisitorKey[0], e.VisitorKey[1] = byte(g), byte(i%7)
				start := time.Now()
				if !r.Record(e) {
					t.Errorf("Record() = false with a full queue; want the event counted")
					return
				}
				slowest[g] = max(slowest[g], time.Since(start))
			}
		})
	}
	wg.Wait()
	// Every Record returned while the writer is still stuck in the
	// store: none waited for it (one that did would hang here until the
	// test's timeout). How long each took is logged, not judged: a shared
	// machine under -race stretches microseconds into tens of ms.
	t.Logf("slowest Record() with a full queue: %v", slices.Max(slowest))
	// Three quarters of the queue (6 of 8) take rows; past that, rows
	// are shed, not queued, so that the queue never overflows.
	st := r.Stats()
	if st.Recorded != flood+1 || st.Queued != 6 || st.Shed != flood-6 || st.Dropped != 0 {
		t.Errorf("Stats() = %+v; want %d recorded, 6 queued, %d shed, none dropped", st, flood+1, flood-6)
	}

	close(w.gate) // the store answers again
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	st = r.Stats()
	if st.Written != flood+1 || st.Rows != 1+6 || st.Failed != 0 || st.Pending != 0 {
		t.Errorf("after the store recovered, Stats() = %+v; want %d written, 7 rows", st, flood+1)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if want := map[string]int64{"shop/app": flood/2 + 1, "shop/api": flood / 2}; !reflect.DeepEqual(w.counted, want) {
		t.Errorf("requests per incident = %v; want %v", w.counted, want)
	}
	if want := map[int]int64{502: flood/2 + 1, 503: flood / 2}; !reflect.DeepEqual(w.codes, want) {
		t.Errorf("requests per code = %v; want %v", w.codes, want)
	}
	if w.seconds != flood+1 {
		t.Errorf("per-second counts sum to %d; want %d", w.seconds, flood+1)
	}
}

// TestRecorderStoreErrorsKeepCounts: rows of a batch the store refuses are
// lost and counted (once per batch, no retry), their counts are written
// with the next batch that succeeds.
func TestRecorderStoreErrorsKeepCounts(t *testing.T) {
	w := &fakeWriter{}
	w.failing.Store(true)
	var logs lockedBuffer
	r := startRecorder(t, w, incident.RecorderOptions{
		BatchSize: 5, FlushInterval: time.Hour, LogEvery: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	for round := range 3 {
		recordN(t, r, fmt.Sprintf("x%d-", round), 5)
		waitFor(t, "a failed batch", func() bool { return r.Stats().Failed == int64(5*(round+1)) })
	}
	if got := w.calls.Load(); got != 3 {
		t.Errorf("store calls for 3 failed batches = %d; want 3 (no retry of rows)", got)
	}
	if got := logs.count("store write failed"); got != 1 {
		t.Errorf("failure warnings = %d; want 1 per LogEvery", got)
	}
	if st := r.Stats(); st.Pending != 15 || st.Written != 0 || st.WriteErrors != 3 {
		t.Errorf("Stats() = %+v; want 15 counts pending after 3 write errors", st)
	}

	w.failing.Store(false)
	recordN(t, r, "ok", 5)
	waitFor(t, "a write after recovery", func() bool { return r.Stats().Rows == 5 })
	if st := r.Stats(); st.Failed != 15 || st.Dropped != 0 || st.Written != 20 || st.Pending != 0 {
		t.Errorf("Stats() = %+v; want 15 rows failed, 20 counted in the store", st)
	}
	if got := w.total(); got != 20 {
		t.Errorf("store counted %d events; want all 20", got)
	}
	if got := logs.count("store writes work again"); got != 1 {
		t.Errorf("recovery messages = %d; want 1", got)
	}
}

func TestRecorderShutdown(t *testing.T) {
	t.Run("Close without Run writes the queue", func(t *testing.T) {
		w := &fakeWriter{}
		r := incident.NewRecorder(w, incident.RecorderOptions{BatchSize: 4})
		recordN(t, r, "q", 7)
		if err := r.Close(ctxT(t)); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if got := w.sizes(); !reflect.DeepEqual(got, []int{4, 3}) {
			t.Errorf("batch sizes = %v; want [4 3]", got)
		}
	})
	t.Run("Close after Run's context ended writes what Run held", func(t *testing.T) {
		w := &fakeWriter{}
		r := incident.NewRecorder(w, incident.RecorderOptions{BatchSize: 100, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		recordN(t, r, "h", 5)
		waitFor(t, "Run to take the events", func() bool { return r.Stats().Queued == 0 })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v", err)
		}
		if err := r.Close(ctxT(t)); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if st := r.Stats(); st.Written != 5 {
			t.Errorf("Stats().Written = %d; want 5", st.Written)
		}
	})
	t.Run("Close past its deadline counts the rest as dropped", func(t *testing.T) {
		w := &fakeWriter{}
		r := incident.NewRecorder(w, incident.RecorderOptions{})
		recordN(t, r, "d", 3)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := r.Close(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Close(canceled) = %v; want context.Canceled", err)
		}
		if st := r.Stats(); st.Written != 0 || st.Dropped != 3 || st.Failed != 3 {
			t.Errorf("Stats() = %+v; want 0 written, 3 rows dropped, 3 counts failed", st)
		}
	})
	t.Run("after Close", func(t *testing.T) {
		r := incident.NewRecorder(&fakeWriter{}, incident.RecorderOptions{})
		if err := r.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if r.Record(ev("shop", "app", 0, "late")) {
			t.Errorf("Record() after Close = true; want false")
		}
		if st := r.Stats(); st.Dropped != 1 {
			t.Errorf("Stats().Dropped = %d; want 1", st.Dropped)
		}
		if err := r.Run(context.Background()); !errors.Is(err, incident.ErrRecorderClosed) {
			t.Errorf("Run() after Close = %v; want ErrRecorderClosed", err)
		}
		if err := r.Close(ctxT(t)); err != nil {
			t.Errorf("second Close() = %v; want nil", err)
		}
	})
}

func TestRecordSetsMissingTime(t *testing.T) {
	w := &fakeWriter{}
	r := incident.NewRecorder(w, incident.RecorderOptions{})
	before := time.Now()
	r.Record(incident.Event{RequestID: "t"})
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if got := w.batches[0][0].Time; got.Before(before) || got.After(time.Now()) {
		t.Errorf("Time of an event recorded without one = %v; want the time of Record", got)
	}
}

// rowsAndCountOnly counts the written events with and without rows.
func (f *fakeWriter) rowsAndCountOnly() (rows, countOnly int, first []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var total int64
	for _, n := range f.counted {
		total += n
	}
	for _, b := range f.batches {
		for _, e := range b {
			if e.CountOnly {
				panic("a count-only event reached the store as a row")
			}
			rows++
			first = append(first, e.RequestID)
		}
	}
	return rows, int(total) - rows, first
}

func TestRecorderRowsPerSecond(t *testing.T) {
	const rate, total = 10, 1000
	w := &fakeWriter{}
	start := time.Now()
	r := startRecorder(t, w, incident.RecorderOptions{RowsPerSecond: rate, BatchSize: 10, FlushInterval: time.Hour})
	recordN(t, r, "s", total)
	waitFor(t, "Run to take the events", func() bool { return r.Stats().Queued == 0 })
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	elapsed := time.Since(start)

	rows, countOnly, rowIDs := w.rowsAndCountOnly()
	// The burst, one second's worth, is there from the start; beyond it
	// only what the rate earned while the test ran, however slow the
	// machine was.
	maxRows := rate + int(rate*elapsed.Seconds()) + 1
	if rows < rate || rows > maxRows {
		t.Errorf("events written with rows = %d after %v; want %d to %d", rows, elapsed, rate, maxRows)
	}
	if rows+countOnly != total {
		t.Errorf("events written = %d with rows + %d count-only; want %d in all", rows, countOnly, total)
	}
	// First come, first served.
	for i := range rate {
		if want := fmt.Sprintf("s%d", i); rowIDs[i] != want {
			t.Errorf("row %d is %q; want %q", i, rowIDs[i], want)
		}
	}
	st := r.Stats()
	if st.CountOnly != int64(countOnly) || st.Written != total || st.Recorded != total || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("Stats() = %+v; want %d count-only of %d recorded and written, none dropped or failed", st, countOnly, total)
	}
	// Count-only events cost no write of their own: one write per
	// BatchSize events would be 100 writes.
	if calls, most := w.calls.Load(), int64(rows/10+2); calls > most {
		t.Errorf("store writes = %d for %d rows and %d count-only events; want at most %d", calls, rows, countOnly, most)
	}
}

func TestRecorderNoRowLimit(t *testing.T) {
	w := &fakeWriter{}
	r := startRecorder(t, w, incident.RecorderOptions{FlushInterval: time.Hour})
	recordN(t, r, "n", 1000)
	waitFor(t, "Run to take the events", func() bool { return r.Stats().Queued == 0 })
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if rows, countOnly, _ := w.rowsAndCountOnly(); rows != 1000 || countOnly != 0 {
		t.Errorf("with RowsPerSecond 0: %d rows, %d count-only; want 1000, 0", rows, countOnly)
	}
	if st := r.Stats(); st.CountOnly != 0 {
		t.Errorf("Stats().CountOnly = %d; want 0", st.CountOnly)
	}
}

func TestRecorderFillsVisitorHashFromKey(t *testing.T) {
	w := &fakeWriter{}
	r := startRecorder(t, w, incident.RecorderOptions{FlushInterval: time.Hour})
	key := [16]byte{0: 0x0f, 1: 0xa0, 15: 0xff}
	keyOnly := incident.Event{RequestID: "key", VisitorKey: key}
	both := incident.Event{RequestID: "both", VisitorKey: key, VisitorHash: "given"}
	neither := incident.Event{RequestID: "neither"}
	for _, e := range []incident.Event{keyOnly, both, neither} {
		r.Record(e)
	}
	waitFor(t, "Run to take the events", func() bool { return r.Stats().Queued == 0 })
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[string]string{"key": "0fa0" + strings.Repeat("0", 26) + "ff", "both": "given", "neither": ""}
	for _, e := range w.batches[0] {
		if e.VisitorHash != want[e.RequestID] {
			t.Errorf("VisitorHash of %q = %q; want %q", e.RequestID, e.VisitorHash, want[e.RequestID])
		}
	}
}
