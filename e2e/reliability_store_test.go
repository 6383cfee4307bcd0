//go:build e2e

package e2e

// The store failing under a running gatewatch (SQLite read-only,
// PostgreSQL hung or stopped), and SIGTERM while requests and events are
// in flight.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/pgtest"
)

// markers sends n page requests with X-Request-IDs prefix-0…, one at a
// time, and returns the IDs.
func markers(t *testing.T, base, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		req, _ := http.NewRequest(http.MethodGet, base+"/cart", nil)
		req.Host = "shop.test"
		req.Header.Set("X-Request-ID", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("marker %s: %v", id, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("marker %s: status %d", id, resp.StatusCode)
		}
		ids = append(ids, id)
	}
	return ids
}

// speed measures the page rate on gatewatch's own listener for d.
func speed(base string, d time.Duration) loadStats {
	return runLoad(loadOptions{url: base + "/cart", host: "shop.test", headers: browserHeaders,
		conns: 8, d: d, want: gatewatchPage(http.StatusBadGateway)})
}

// The recorder's reports of failed writes and of recovery.
var (
	writeFailedRE = regexp.MustCompile(`incident recorder: store write failed, rows dropped, counts kept for the next write"? rows=(\d+) counts_pending=\d+ failed_total=(\d+)`)
	recoveredRE   = regexp.MustCompile(`incident recorder: store writes work again"? failed_total=(\d+)`)
)

// openStore opens the store gatewatch writes to, from the test.
func openStore(t *testing.T, dsn, dataDir string) incident.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := incident.Open(ctx, dsn, dataDir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stored reports whether the store holds the event with request ID id.
func stored(s incident.Store, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := s.Event(ctx, id)
	if errors.Is(err, incident.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// storeFault is one way of breaking the store under a running gatewatch.
type storeFault struct {
	name           string
	inject, repair func()
	// lasts is how long the fault goes on after the pages measured during
	// it: long enough for a write to fail (a hung store fails a write only
	// at the recorder's 5 s timeout).
	lasts time.Duration
}

// faultPhases runs f: pages at full speed with the store up, then with the
// store broken, then the repair. It checks that pages keep their speed
// and answers, that the recorder counts the events it could not write,
// and that events are stored again after the repair.
func faultPhases(t *testing.T, gw *gatewatch, s incident.Store, f storeFault) {
	t.Helper()
	d := soakOr(2*time.Second, 20*time.Second)
	base := speed(gw.public, d)
	// The fault begins with the queue empty, so that what happens to
	// events is the fault's doing, not a full queue's.
	if !poll(time.Minute, func() bool { return metrics(t, gw)["gatewatch_events_queued"] == 0 }) {
		t.Fatalf("%s: the recorder's queue did not drain within a minute: %s", f.name, eventCounters(metrics(t, gw)))
	}
	m0 := metrics(t, gw)
	logFrom := len(gw.out.String())

	f.inject()
	during := markers(t, gw.public, f.name+"-during", 5)
	slow := speed(gw.public, d)
	t.Logf("%s: pages with the store up: %s", f.name, base)
	t.Logf("%s: pages with the store down: %s", f.name, slow)
	if slow.errors() > 0 || slow.wrong > 0 {
		t.Errorf("%s: pages while the store is down: %s", f.name, slow)
	}
	if slow.rate() < 0.5*base.rate() {
		t.Errorf("%s: pages slowed down while the store was down: %.0f/s against %.0f/s", f.name, slow.rate(), base.rate())
	}
	// Elapsed time is the point: the fault lasts this long.
	time.Sleep(f.lasts)
	storeNotReady(t, gw, f.name, logFrom, 3)
	m1 := metrics(t, gw)
	failed := m1["gatewatch_events_failed_total"] - m0["gatewatch_events_failed_total"]
	dropped := m1["gatewatch_events_dropped_total"] - m0["gatewatch_events_dropped_total"]
	t.Logf("%s: during the fault: %.0f events failed (store errors), %.0f dropped (queue full), %.0f queued", f.name, failed, dropped, m1["gatewatch_events_queued"])
	// A failed write of counts alone loses nothing (they go into the next
	// write), so it shows as a write error, not as failed events.
	if writeErrors := m1["gatewatch_store_write_errors_total"] - m0["gatewatch_store_write_errors_total"]; failed == 0 && writeErrors == 0 {
		t.Errorf("%s: no failed writes counted while the store was down: %s", f.name, eventCounters(m1))
	}
	if m := writeFailedRE.FindStringSubmatch(gw.out.String()[logFrom:]); m != nil {
		t.Logf("%s: gatewatch logged: store write failed, rows dropped (rows=%s failed_total=%s)", f.name, m[1], m[2])
	}

	f.repair()
	// Recovery: the recorder says so, and a new event is stored. Markers
	// are sent until one is, since the queue may still hold events from
	// the fault, and a full queue drops new ones.
	sent := 0
	if !poll(60*time.Second, func() bool {
		id := markers(t, gw.public, fmt.Sprintf("%s-after-%d", f.name, sent), 1)[0]
		sent++
		// One flush (500 ms) and some is the marker's chance; then the next.
		return poll(time.Second, func() bool {
			ok, _ := stored(s, id)
			return ok && recoveredRE.MatchString(gw.out.String()[logFrom:])
		})
	}) {
		t.Fatalf("%s: no event stored within a minute of the repair\n%s", f.name, tail(gw.out.String()[logFrom:], 2048))
	}
	t.Logf("%s: gatewatch logged store writes working again; an event was stored %d markers after the repair", f.name, sent)
	waitReadyz(t, gw, f.name+" repaired", http.StatusOK, 20*time.Second)
	// The log line comes through a pipe, maybe just after the answer.
	if !poll(5*time.Second, func() bool { return strings.Contains(gw.out.String()[logFrom:], "store ready again") }) {
		t.Errorf("%s: the log does not say the store is ready again", f.name)
	}
	// Events sent during the fault are dropped, or, when the store only
	// hung and they waited in the queue, written late.
	kept := 0
	for _, id := range during {
		if ok, _ := stored(s, id); ok {
			kept++
		}
	}
	t.Logf("%s: %d of %d events sent during the fault were written late; now %s", f.name, kept, len(during), eventCounters(metrics(t, gw)))
}

// TestReliabilitySQLiteReadOnly: the SQLite file becomes unwritable under
// a running gatewatch; pages keep their speed, events are dropped and
// counted, and writes resume when the file is writable again.
//
// chmod cannot do this: gatewatch keeps the file open, permissions are
// checked at open, and root ignores them anyway. The immutable attribute
// (chattr +i) is checked on every write, through open descriptors too, on
// ext4, xfs and btrfs: writes to the database and its WAL fail with EPERM
// as on a file system gone read-only. The -shm index stays writable: it
// is memory-mapped, and a write fault there would be a SIGBUS, which no
// read-only file system produces. A read-only remount cannot do it either:
// it fails with EBUSY while a file is open for writing.
func TestReliabilitySQLiteReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chattr +i needs root (CAP_LINUX_IMMUTABLE); `make test` runs as root in CI")
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Fatal("chattr not found: apt-get install e2fsprogs")
	}
	data := t.TempDir()
	gw := startGatewatchIn(t, writeConfig(t, "", gatewatchPort(t), freePort(t)), data)
	s := openStore(t, "", data)
	files := []string{filepath.Join(data, "gatewatch.db"), filepath.Join(data, "gatewatch.db-wal")}
	immutable := func(on bool) {
		flag := "-i"
		if on {
			flag = "+i"
		}
		if out, err := exec.Command(chattr, append([]string{flag}, files...)...).CombinedOutput(); err != nil {
			t.Fatalf("chattr %s: %v\n%s(the test needs TMPDIR on ext4, xfs or btrfs)", flag, err, out)
		}
	}
	t.Cleanup(func() { exec.Command(chattr, append([]string{"-i"}, files...)...).Run() })
	faultPhases(t, gw, s, storeFault{name: "sqlite-read-only", lasts: time.Second,
		inject: func() { immutable(true) }, repair: func() { immutable(false) }})
}

// TestReliabilityPostgresStopped: PostgreSQL first hangs (SIGSTOP: a slow
// store), then stops (pg_ctl stop: an unreachable one) under a running
// gatewatch; pages keep their speed, events are dropped and counted, and
// writes resume each time it is back.
func TestReliabilityPostgresStopped(t *testing.T) {
	c := pgtest.StartLocal(t)
	dsn := c.NewDatabase(t)
	gw := startGatewatchIn(t, writeConfig(t, fmt.Sprintf("[store]\ndsn = %q\n", dsn), gatewatchPort(t), freePort(t)), t.TempDir())
	s := openStore(t, dsn, "")

	var pids []int
	signal := func(sig syscall.Signal) {
		for _, p := range pids {
			syscall.Kill(p, sig)
		}
	}
	t.Cleanup(func() { signal(syscall.SIGCONT) })
	faultPhases(t, gw, s, storeFault{name: "postgres-hung", lasts: 6 * time.Second,
		inject: func() {
			pids = postgresPIDs(t, dsn)
			signal(syscall.SIGSTOP)
		},
		repair: func() { signal(syscall.SIGCONT) }})
	faultPhases(t, gw, s, storeFault{name: "postgres-stopped", lasts: time.Second,
		inject: func() { c.Stop(t) }, repair: func() { c.StartAgain(t) }})
}

// postgresPIDs finds the postmaster listening on the DSN's port, from its
// command line, and its children.
func postgresPIDs(t *testing.T, dsn string) []int {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	entries, _ := os.ReadDir("/proc")
	var master int
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil {
			args := strings.Split(string(b), "\x00")
			if i := slices.Index(args, "-p"); i >= 0 && i+1 < len(args) && args[i+1] == port && strings.HasSuffix(args[0], "postgres") {
				master = pid
			}
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(b), ')'); i > 0 {
				if f := strings.Fields(string(b[i+1:])); len(f) > 1 {
					parent[pid], _ = strconv.Atoi(f[1])
				}
			}
		}
	}
	if master == 0 {
		t.Fatalf("no postgres process with -p %s", port)
	}
	pids := []int{master}
	for pid, pp := range parent {
		if pp == master {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestReliabilitySIGTERMDrains: SIGTERM while clients keep sending pages,
// slow clients have yet to read theirs and events are still queued: every
// request gatewatch took is answered in full, it exits cleanly, and every
// answered request's event is in the store.
//
// Requests still arriving when SIGTERM comes are another matter: net/http's
// Shutdown closes the listener at once and drops a request whose headers
// finish arriving after it began (server.go: "if c.server.shuttingDown()
// { return }"), so a client mid-request sees its connection closed
// without an answer (nginx then serves the fallback page). Such requests,
// and those refused once the listener is closed, are not failures here;
// an answer cut short or wrong is.
func TestReliabilitySIGTERMDrains(t *testing.T) {
	slowN := soakOr(20, 200)
	conns := soakOr(16, 32)
	data := t.TempDir()
	// Every event keeps its row here, so that each answered request can be
	// looked up by its ID (by default, past 1,000 a second, events are only
	// counted; internal/incident's contract tests cover those counts).
	gw := startGatewatchIn(t, writeConfig(t, "[store]\nevent_rows_per_second = 0\n", gatewatchPort(t), freePort(t)), data)
	addr := strings.TrimPrefix(gw.public, "http://")

	// Slow readers: a tiny receive buffer, the whole request sent, the
	// answer left unread until after the signal, then read a little at a
	// time.
	type answer struct {
		id   string
		code int
		err  error
	}
	answers := make(chan answer, slowN)
	var slowIDs []string
	readNow := make(chan struct{})
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		return serr
	}}
	for i := range slowN {
		id := fmt.Sprintf("slow-%d", i)
		slowIDs = append(slowIDs, id)
		c, err := dialer.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(c, "GET /cart HTTP/1.1\r\nHost: shop.test\r\nX-Request-ID: "+id+
			"\r\nX-Code: 503\r\nAccept: text/html\r\nAccept-Language: de\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		go func() {
			<-readNow
			resp, err := http.ReadResponse(bufio.NewReaderSize(&slowReader{c}, 512), nil)
			if err != nil {
				answers <- answer{id, 0, err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			if err == nil && int64(len(b)) != resp.ContentLength {
				err = fmt.Errorf("body %d bytes of %d", len(b), resp.ContentLength)
			}
			answers <- answer{id, resp.StatusCode, err}
		}()
	}

	// Clients that keep asking across the signal; their events, queued
	// when it comes (the recorder writes every 500 ms), must be flushed.
	// Each pauses 10 ms between requests, so that the queue never fills
	// and every answered request's event is owed to the store.
	stop := make(chan struct{})
	loadDone := make(chan loadStats, 1)
	go func() {
		loadDone <- runLoad(loadOptions{url: gw.public + "/cart", host: "shop.test", headers: browserHeaders,
			conns: conns, d: time.Minute, stop: stop, pace: 10 * time.Millisecond, idPrefix: "load", want: gatewatchPage(http.StatusBadGateway)})
	}()
	// Elapsed time is the point: the load runs this long before SIGTERM.
	time.Sleep(soakOr(time.Second, 10*time.Second))
	rss := rssKB(gw.cmd.Process.Pid)
	gw.cmd.Process.Signal(syscall.SIGTERM)
	signalled := time.Now()
	close(readNow)

	exited := make(chan error, 1)
	go func() { exited <- gw.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("gatewatch exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("gatewatch did not exit within 20 s of SIGTERM")
	}
	gw.once.Do(func() {}) // it has exited: nothing left for the cleanup's stop
	took := time.Since(signalled)
	close(stop)
	st := <-loadDone
	for range slowN {
		a := <-answers
		if a.err != nil || a.code != http.StatusServiceUnavailable {
			t.Errorf("slow reader %s across shutdown: status %d, %v; want the whole 503 page", a.id, a.code, a.err)
		}
	}
	t.Logf("gatewatch exited %s after SIGTERM (RSS %.1f MB at the signal); load across it: %s", took.Round(time.Millisecond), mbOf(rss), st)
	if st.truncated > 0 || st.wrong > 0 {
		t.Errorf("answers cut short or wrong across shutdown: %s", st)
	}
	if log := gw.out.String(); strings.Contains(log, "events not written") || strings.Contains(log, "dropped") {
		t.Errorf("gatewatch dropped events:\n%s", tail(log, 2048))
	}
	// Every answered request's event is in the store, among them those
	// answered in the last 500 ms before the signal and during shutdown.
	s := openStore(t, "", data)
	var missing []string
	all := slices.Concat(slowIDs, st.ids)
	for _, id := range all {
		if ok, err := stored(s, id); !ok {
			missing = append(missing, fmt.Sprintf("%s (%v)", id, err))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d events missing after shutdown, e.g. %s", len(missing), len(all), missing[0])
	}
}

// slowReader reads at most 256 bytes every 20 ms.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond) // the slow client's pace: elapsed time is the point
	return s.r.Read(p[:min(len(p), 256)])
}
