package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// The aged measurement (-aged N) compares two gatewatch processes that
// differ only in their past: "fresh" starts with an empty data directory
// and error.log, "aged" with N million event rows in its SQLite database
// (the rows a month at the default row limit leaves) and its error.log
// index full (agedLogLines lines, 64 for each of the connection numbers
// the load names). Both get the same wrk load on their own listener, the
// request nginx's error_page sends (the include's headers, X-Nginx-Connection
// among them), in interleaved rounds, and the table reports requests per
// CPU-second of each process, the share of its CPU the garbage collector
// took (from GODEBUG=gctrace=1), and its RSS.

// agedLogLines fills the index gatewatch keeps (nginxlog.DefaultIndexSize)
// and then some.
const agedLogLines = 12000

// agedConn is the connection number the load's requests name: in the aged
// error.log, one with the 64 lines an index keeps per connection.
const agedConn = 42

// agedSeed inserts ? rows into the only incident, one every ? µs up to
// ? µs since the epoch, with random request ids as nginx makes them.
const agedSeed = `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?1)
INSERT INTO events (time, site, upstream, host, path, method, code, request_id, nginx_conn, upstream_addr,
	upstream_status, upstream_connect_time, upstream_response_time, locale, visitor_hash, browser, nginx_log,
	cause_source, cause_class, cause_detail, cause_evidence, incident_id)
SELECT ?3 - (?1 - i) * ?2, '` + siteName + `', 'app', '` + siteHost + `', '/p/' || (i % 50), 'GET', 502,
	lower(hex(randomblob(16))), i % 100000, '127.0.0.1:9', '502', '-', '-', 'de', 'v' || (i % 5000), 'Chrome', '',
	'', '', '', '', (SELECT max(id) FROM incidents)
FROM c`

// agedInstance is one of the two gatewatch processes.
type agedInstance struct {
	name     string
	proc     *process
	public   string
	admin    string
	errorLog string
	data     string
}

// agedResult is one instance's measured run.
type agedResult struct {
	name  string
	wrk   wrkResult
	gw    memTrace
	gcCPU time.Duration
}

func (r agedResult) perCPUSecond() float64 {
	if c := r.gw.cpu.Seconds(); c > 0 {
		return float64(r.wrk.requests) / c
	}
	return 0
}

func (r agedResult) gcShare() float64 {
	if r.gw.cpu <= 0 {
		return 0
	}
	return 100 * r.gcCPU.Seconds() / r.gw.cpu.Seconds()
}

func runAged(ctx context.Context, o options, stdout io.Writer, log func(string, ...any)) error {
	dir, err := os.MkdirTemp("", "gatewatch-aged-")
	if err != nil {
		return err
	}
	var insts []*agedInstance
	defer func() {
		for _, in := range insts {
			if in.proc != nil {
				in.proc.stop(15 * time.Second)
			}
		}
		if o.keep {
			log("work directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	bin := o.gatewatch
	if bin == "" {
		bin = filepath.Join(dir, "gatewatch")
		log("building gatewatch")
		if err := runCmd(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/gatewatch"); err != nil {
			return fmt.Errorf("build gatewatch (run loadbench from the repository root): %w", err)
		}
	}
	origin, err := newCountingOrigin()
	if err != nil {
		return err
	}
	defer origin.close()
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	dead := ports[4]
	var pw [12]byte
	rand.Read(pw[:])
	hash, err := outputIn(ctx, strings.NewReader(hex.EncodeToString(pw[:])+"\n"), bin, "hash-password")
	if err != nil {
		return fmt.Errorf("gatewatch hash-password: %w", err)
	}
	for i, name := range []string{"fresh", "aged"} {
		in := &agedInstance{name: name,
			public:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]),
			admin:    fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
			errorLog: filepath.Join(dir, name+"-error.log"),
			data:     filepath.Join(dir, name+"-data"),
		}
		insts = append(insts, in)
		cfg := fmt.Sprintf(gatewatchConfig, ports[2*i], filepath.Join(dir, "pages"), in.errorLog, origin.addr(), dead, strings.TrimSpace(string(hash)))
		cfgPath := filepath.Join(dir, name+".toml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(in.errorLog, nil, 0o644); err != nil {
			return err
		}
		if name == "aged" {
			start := time.Now()
			log("aged: seeding %d event rows", o.aged)
			if err := seedAged(ctx, in.data, o.aged); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			fi, _ := os.Stat(filepath.Join(in.data, "gatewatch.db"))
			log("aged: seeded in %s, database %s", time.Since(start).Round(time.Second), mb(fi.Size()/1024))
		}
		if in.proc, err = startTraced(name, filepath.Join(dir, name+".log"), bin, "serve", "--config", cfgPath,
			"--admin-listen", in.admin[len("http://"):], "--data", in.data); err != nil {
			return err
		}
		if err := waitHTTP(ctx, in.admin+"/healthz", 60*time.Second); err != nil {
			return fmt.Errorf("gatewatch %s: %w; log in %s", name, err, in.proc.logPath)
		}
	}
	if o.agedServe > 0 {
		if err := serveAged(ctx, insts[1], o, dir, dead, log); err != nil {
			return err
		}
	}
	// The follower reads lines added after it started.
	if err := fillErrorLog(insts[1].errorLog, agedLogLines, agedConn, (agedLogLines+63)/64); err != nil {
		return err
	}
	if err := pause(ctx, 2*time.Second); err != nil {
		return err
	}

	headers := append(slices.Clone(browserHeaders),
		[2]string{"X-Code", "502"}, [2]string{"X-Original-URI", "/cart"}, [2]string{"X-Original-Method", "GET"},
		[2]string{"X-Upstream-Addr", fmt.Sprintf("127.0.0.1:%d", dead)}, [2]string{"X-Upstream-Status", "502"},
		[2]string{"X-Real-IP", "192.0.2.7"}, [2]string{"X-Nginx-Connection", strconv.Itoa(agedConn)})
	script, err := writeWrkScript(dir, "aged", headers)
	if err != nil {
		return err
	}
	byName := map[string][]agedResult{}
	for round := range o.rounds {
		order := insts
		if round%2 == 1 {
			order = []*agedInstance{insts[1], insts[0]}
		}
		for _, in := range order {
			r, err := measureAged(ctx, in, o, script, headers, log)
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
			byName[in.name] = append(byName[in.name], r)
		}
	}
	var rs []agedResult
	for _, in := range insts {
		s := slices.Clone(byName[in.name])
		slices.SortFunc(s, func(a, b agedResult) int { return cmp.Compare(a.perCPUSecond(), b.perCPUSecond()) })
		rs = append(rs, s[len(s)/2])
	}
	fi, _ := os.Stat(filepath.Join(insts[1].data, "gatewatch.db"))
	writeAged(stdout, o, rs, fi.Size())
	if o.keep {
		// For profiling: the two instances stay up until interrupted.
		for _, in := range insts {
			log("%s: public %s, admin %s, pid %d", in.name, in.public, in.admin, in.proc.pid())
		}
		<-ctx.Done()
	}
	return nil
}

// measureAged warms in up and runs wrk against it while sampling its CPU,
// RSS and garbage collection.
func measureAged(ctx context.Context, in *agedInstance, o options, script string, headers [][2]string, log func(string, ...any)) (agedResult, error) {
	r := agedResult{name: in.name}
	url := in.public + "/cart"
	pre := result{target: target{url: url, headers: headers, wantCode: 502}}
	if err := preflight(ctx, &pre); err != nil {
		return r, err
	}
	if o.warmup > 0 {
		if _, err := runWrk(ctx, o, script, url, o.warmup); err != nil {
			return r, err
		}
		if err := pause(ctx, time.Second); err != nil {
			return r, err
		}
	}
	log("(%s) %d connections, %d threads, %s", in.name, o.connections, o.threads, o.duration)
	gcBefore, err := gcCPU(in.proc.logPath)
	if err != nil {
		return r, err
	}
	s := startSampler(ctx, in.proc.pid())
	r.wrk, err = runWrk(ctx, o, script, url, o.duration)
	r.gw = s.stop()
	if err != nil {
		return r, err
	}
	gcAfter, err := gcCPU(in.proc.logPath)
	if err != nil {
		return r, err
	}
	r.gcCPU = gcAfter - gcBefore
	if gone, perr := in.proc.exited(); gone {
		return r, fmt.Errorf("gatewatch %s exited during the run (%v); see %s", in.name, perr, in.proc.logPath)
	}
	return r, pause(ctx, 2*time.Second)
}

// agedServeScript varies, request by request, the visitor (X-Real-IP),
// the path and nginx's connection number, as real traffic does.
const agedServeScript = `
local n = 0
request = function()
  n = n + 1
  local p = "/p/" .. (n % 50)
  wrk.headers["X-Real-IP"] = "10." .. (n % 250) .. "." .. (math.floor(n / 250) % 250) .. ".1"
  wrk.headers["X-Nginx-Connection"] = tostring(n % 20000 + 1)
  wrk.headers["X-Original-URI"] = p
  return wrk.format(nil, p)
end
`

// serveAged ages in by use: o.agedServe of wrk load with varied visitors,
// paths and connections while nginx's lines for them are appended to its
// error.log, before it is measured.
func serveAged(ctx context.Context, in *agedInstance, o options, dir string, dead int, log func(string, ...any)) error {
	headers := append(slices.Clone(browserHeaders),
		[2]string{"X-Code", "502"}, [2]string{"X-Original-Method", "GET"},
		[2]string{"X-Upstream-Addr", fmt.Sprintf("127.0.0.1:%d", dead)}, [2]string{"X-Upstream-Status", "502"})
	var b strings.Builder
	for _, h := range headers {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", h[0], h[1])
	}
	b.WriteString(agedServeScript)
	script := filepath.Join(dir, "aged-serve.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, b.String())), 0o644); err != nil {
		return err
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		next := 0
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				done <- nil
				return
			case <-t.C:
				if err := fillErrorLog(in.errorLog, 100, next+1, 100); err != nil {
					done <- err
					return
				}
				next = (next + 100) % 20000
			}
		}
	}()
	log("aged: serving for %s", o.agedServe)
	r, err := runWrk(ctx, o, script, in.public+"/cart", o.agedServe)
	stop()
	if lerr := <-done; err == nil {
		err = lerr
	}
	if err != nil {
		return err
	}
	log("aged: served %s requests", thousands(r.requests))
	return pause(ctx, 5*time.Second)
}

// seedAged creates the store in dataDir with one incident and adds n
// event rows to it, one INSERT … SELECT, as if written at 1,000 rows a
// second up to now.
func seedAged(ctx context.Context, dataDir string, n int) error {
	s, err := incident.Open(ctx, "", dataDir)
	if err != nil {
		return err
	}
	err = s.AddEvents(ctx, []incident.Event{{Time: time.Now().Add(-time.Duration(n) * time.Millisecond), Site: siteName,
		Upstream: "app", Host: siteHost, Path: "/cart", Method: "GET", Code: 502, RequestID: "seed", Locale: "de",
		UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "502", UpstreamConnectTime: "-"}})
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "gatewatch.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, agedSeed, n, 1000, time.Now().UnixMicro()); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// fillErrorLog appends n lines of nginx's about refused connections, for
// conns connection numbers from first on in turn, at the current second.
func fillErrorLog(path string, n, first, conns int) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	now := time.Now().Format("2006/01/02 15:04:05")
	for i := range n {
		conn := first + i%conns
		fmt.Fprintf(w, `%s [error] 4242#4242: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 192.0.2.%d, server: %s, request: "GET /p/%d HTTP/1.1", upstream: "http://127.0.0.1:9/p/%d", host: "%s", referrer: "https://%s/"`+"\n",
			now, conn, i%250+1, siteHost, i%50, i%50, siteHost, siteHost)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startTraced is startProcess with GODEBUG=gctrace=1, so that the log
// has a line per garbage collection with the CPU it took.
func startTraced(name, logPath, bin string, args ...string) (*process, error) {
	return startProcessEnv([]string{"GODEBUG=gctrace=1"}, name, logPath, bin, args...)
}

// gcCPU sums the CPU of every collection in a gctrace log so far: the
// "A+B/C/D+E ms cpu" of each "gc N @…" line (stop-the-world, assist,
// background, idle, stop-the-world).
func gcCPU(logPath string) (time.Duration, error) {
	f, err := os.Open(logPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		total += gcLineCPU(sc.Text())
	}
	return time.Duration(total * float64(time.Millisecond)), sc.Err()
}

// gcLineCPU is the CPU milliseconds of one gctrace line, 0 for other lines.
func gcLineCPU(line string) float64 {
	if !strings.HasPrefix(line, "gc ") {
		return 0
	}
	_, rest, ok := strings.Cut(line, " ms clock, ")
	if !ok {
		return 0
	}
	cpu, _, ok := strings.Cut(rest, " ms cpu")
	if !ok {
		return 0
	}
	var ms float64
	for f := range strings.FieldsFuncSeq(cpu, func(r rune) bool { return r == '+' || r == '/' }) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0
		}
		ms += v
	}
	return ms
}

// writeAged prints the aged-vs-fresh table.
func writeAged(w io.Writer, o options, rs []agedResult, dbBytes int64) {
	fmt.Fprintf(w, "Aged vs fresh: %d connections, %d threads, %s per run, median of %d interleaved rounds; aged = %s event rows seeded (database %s), then %s of varied load served, and a full error.log index (%s lines)\n\n",
		o.connections, o.threads, o.duration, o.rounds, thousands(int64(o.aged)), mb(dbBytes/1024), o.agedServe, thousands(agedLogLines))
	fmt.Fprintln(w, "| instance | req/s | req per CPU-s | CPU | GC share of CPU | RSS start | RSS peak | RSS end |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %.0f%% | %.1f%% | %s | %s | %s |\n", r.name,
			thousands(int64(r.wrk.reqPerSec)), thousands(int64(r.perCPUSecond())), r.gw.cpuPercent(), r.gcShare(),
			mb(r.gw.startKB), mb(r.gw.peakKB), mb(r.gw.endKB))
	}
	if len(rs) == 2 {
		fmt.Fprintf(w, "\naged ÷ fresh per CPU-second: **%s** (goal ≥ 0.9×)\n", ratio(rs[1].perCPUSecond(), rs[0].perCPUSecond()))
	}
}
