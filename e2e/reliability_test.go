//go:build e2e

package e2e

// Reliability: gatewatch under load through nginx (this file), against
// hostile clients (reliability_hostile_test.go), with its store failing
// and while it shuts down (reliability_store_test.go). Each test has a
// short form for `make test` and a long form for `make soak`
// (GATEWATCH_SOAK=1).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// soakEnv turns on the long forms.
const soakEnv = "GATEWATCH_SOAK"

// gatewatch's server limits (cmd/gatewatch/serve.go), which the hostile
// client tests prove it enforces.
const (
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
)

// soakOr returns long under `make soak`, short otherwise.
func soakOr[T any](short, long T) T {
	if os.Getenv(soakEnv) == "1" {
		return long
	}
	return short
}

// metricsUser is the admin user the tests read /metrics as.
const metricsUser, metricsPassword = "e2e-metrics", "reliability"

// writeConfig writes e2eConfig for gatewatch on gwPort with a dead
// upstream, after extra top-level tables (which TOML wants before
// [[site]]), and with an admin user for /metrics.
func writeConfig(t *testing.T, extra string, gwPort, dead int) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(metricsPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := extra + shopConfig(gwPort, dead) +
		fmt.Sprintf("\n[[admin.user]]\nname = %q\npassword_hash = %q\n", metricsUser, hash)
	p := filepath.Join(t.TempDir(), "gatewatch.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// metrics reads gatewatch's counters and gauges without labels from its
// admin listener's /metrics.
func metrics(t *testing.T, gw *gatewatch) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gw.admin+"/metrics", nil)
	req.SetBasicAuth(metricsUser, metricsPassword)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "gatewatch_") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// eventCounters formats the recorder's counters for the log.
func eventCounters(m map[string]float64) string {
	return fmt.Sprintf("recorded %.0f, written %.0f, dropped (queue full) %.0f, failed (store errors) %.0f, queued %.0f",
		m["gatewatch_events_recorded_total"], m["gatewatch_events_written_total"], m["gatewatch_events_dropped_total"],
		m["gatewatch_events_failed_total"], m["gatewatch_events_queued"])
}

// startGatewatchIn is startGatewatch with the data directory chosen by
// the test, which looks at the store afterwards.
func startGatewatchIn(tb testing.TB, configPath, dataDir string) *gatewatch {
	tb.Helper()
	return startGatewatchArgs(tb, "serve", "--config", configPath, "--admin-listen", "127.0.0.1:0", "--data", dataDir)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// rssKB is a process's resident set from /proc/PID/status.
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// rssTrace samples a process's RSS every 250 ms until stopped.
type rssTrace struct {
	pid     int
	stopped chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples []int64 // kB; guarded by mu
}

func traceRSS(pid int) *rssTrace {
	r := &rssTrace{pid: pid, stopped: make(chan struct{}), done: make(chan struct{}), samples: []int64{rssKB(pid)}}
	go func() {
		defer close(r.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.stopped:
				return
			case <-tick.C:
				kb := rssKB(pid)
				r.mu.Lock()
				r.samples = append(r.samples, kb)
				r.mu.Unlock()
			}
		}
	}()
	return r
}

// stop ends sampling and returns the samples.
func (r *rssTrace) stop() []int64 {
	close(r.stopped)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}

// loadOptions describe a closed-loop load: conns clients, each sending its
// next request when the last one is answered, for d.
type loadOptions struct {
	url, host string
	headers   map[string]string
	conns     int
	d         time.Duration
	// count, when set, stops the load after that many requests.
	count int
	// stop, when closed, stops the load early.
	stop <-chan struct{}
	// pace, when set, is a pause after each answer: a bounded rate.
	pace time.Duration
	// idPrefix, when set, gives every request an X-Request-ID under it.
	idPrefix string
	// want checks one answer; an error counts as a wrong answer.
	want func(*http.Response, int) error
}

// loadStats is what the clients saw.
type loadStats struct {
	requests int64
	// refused: no connection; lost: no answer on a connection; truncated:
	// an answer cut short; wrong: an answer that want refused.
	refused, lost, truncated, wrong int64
	firstErr, firstWrong            string
	latencies                       []time.Duration // sorted
	ids                             []string        // X-Request-IDs answered as wanted
	elapsed                         time.Duration
}

// errors counts the requests that got no whole answer.
func (s loadStats) errors() int64 { return s.refused + s.lost + s.truncated }

func (s loadStats) rate() float64 { return float64(s.requests) / s.elapsed.Seconds() }

func (s loadStats) pct(p float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	return s.latencies[int(float64(len(s.latencies)-1)*p/100)]
}

func (s loadStats) String() string {
	out := fmt.Sprintf("%d requests in %s (%.0f/s), p50 %s, p99 %s, max %s; socket errors: %d refused, %d lost, %d truncated; %d wrong answers",
		s.requests, s.elapsed.Round(time.Millisecond), s.rate(), s.pct(50).Round(time.Microsecond),
		s.pct(99).Round(time.Microsecond), s.pct(100).Round(time.Microsecond), s.refused, s.lost, s.truncated, s.wrong)
	if s.firstErr != "" {
		out += "; first error: " + s.firstErr
	}
	if s.firstWrong != "" {
		out += "; first wrong answer: " + s.firstWrong
	}
	return out
}

// runLoad drives the load and returns when every client has stopped: at
// most d plus one request timeout.
func runLoad(o loadOptions) loadStats {
	tr := &http.Transport{
		MaxIdleConns: o.conns, MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns,
		DisableCompression: true, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu    sync.Mutex
		st    loadStats
		lats  = make([][]time.Duration, o.conns)
		next  atomic.Int64 // request number, for count and idPrefix
		wg    sync.WaitGroup
		start = time.Now()
		end   = start.Add(o.d)
	)
	stopped := func() bool {
		select {
		case <-o.stop:
			return true
		default:
			return false
		}
	}
	for i := range o.conns {
		wg.Go(func() {
			for time.Now().Before(end) && !stopped() {
				n := next.Add(1) - 1
				if o.count > 0 && n >= int64(o.count) {
					return
				}
				req, _ := http.NewRequest(http.MethodGet, o.url, nil)
				req.Host = o.host
				for k, v := range o.headers {
					req.Header.Set(k, v)
				}
				id := ""
				if o.idPrefix != "" {
					id = fmt.Sprintf("%s-%d", o.idPrefix, n)
					req.Header.Set("X-Request-ID", id)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				truncated := false
				var size int64
				if err == nil {
					size, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					truncated = err != nil
				}
				lats[i] = append(lats[i], time.Since(t0))
				var wrong error
				if err == nil && o.want != nil {
					wrong = o.want(resp, int(size))
				}
				mu.Lock()
				st.requests++
				switch {
				case truncated:
					st.truncated++
				case errors.Is(err, syscall.ECONNREFUSED):
					st.refused++
				case err != nil:
					st.lost++
				case wrong != nil:
					st.wrong++
					if st.firstWrong == "" {
						st.firstWrong = wrong.Error()
					}
				case id != "":
					st.ids = append(st.ids, id)
				}
				if err != nil && st.firstErr == "" {
					st.firstErr = err.Error()
				}
				mu.Unlock()
				if err != nil {
					// A client that cannot connect must not spin.
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(o.pace) // the load's pace (0: full speed)
			}
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	for _, l := range lats {
		st.latencies = append(st.latencies, l...)
	}
	slices.Sort(st.latencies)
	return st
}

// gatewatchPage accepts gatewatch's own answer with code: nginx's built-in
// error page has the same code but no Content-Language.
func gatewatchPage(code int) func(*http.Response, int) error {
	return func(resp *http.Response, size int) error {
		switch {
		case resp.StatusCode != code:
			return fmt.Errorf("status %d; want %d", resp.StatusCode, code)
		case resp.Header.Get("Content-Language") == "":
			return fmt.Errorf("status %d without Content-Language: not gatewatch's page", resp.StatusCode)
		case size == 0:
			return errors.New("empty body")
		}
		return nil
	}
}

// loadNginxConf is nginx sized for a thousand clients (the harness's
// nginx has 256 worker connections) around the generated include.
var loadNginxConf = template.Must(template.New("conf").Parse(`
{{if .Root}}user root;{{end}}
worker_processes 2;
worker_rlimit_nofile 16384;
daemon off;
master_process on;
pid {{.Prefix}}/nginx.pid;
error_log {{.Prefix}}/error.log error;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path {{.Prefix}}/body;
    proxy_temp_path {{.Prefix}}/proxy;
    fastcgi_temp_path {{.Prefix}}/fastcgi;
    uwsgi_temp_path {{.Prefix}}/uwsgi;
    scgi_temp_path {{.Prefix}}/scgi;
    server {
        listen 127.0.0.1:{{.Port}} backlog=4096;
        server_name shop.test;
        location /dead/ { proxy_pass http://127.0.0.1:{{.DeadPort}}; }
        include {{.Prefix}}/gatewatch.conf;
    }
}
`))

// startLoadNginx runs nginx with loadNginxConf until the test ends and
// returns its base URL.
func startLoadNginx(t *testing.T, include string, dead int) string {
	t.Helper()
	bin := nginxPath(t)
	prefix := t.TempDir()
	if err := os.WriteFile(filepath.Join(prefix, "gatewatch.conf"), []byte(include), 0o644); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	port := startDaemon(t, bin, func(port int) []string {
		var conf strings.Builder
		if err := loadNginxConf.Execute(&conf, map[string]any{"Root": os.Geteuid() == 0, "Prefix": prefix, "Port": port, "DeadPort": dead}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{"-p", prefix, "-c", confPath}
	})
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

var browserHeaders = map[string]string{
	"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"Accept-Encoding": "gzip, br",
	"Accept-Language": "de-DE,de;q=0.9",
	"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
}

// TestReliabilityLoadThroughNginx: many clients for a while through nginx
// to a dead upstream: no socket errors, every answer gatewatch's 502, and
// gatewatch's memory back near where it started.
func TestReliabilityLoadThroughNginx(t *testing.T) {
	conns := soakOr(200, 1000)
	d := soakOr(10*time.Second, 60*time.Second)
	dead := freePort(t)
	cfg := writeConfig(t, "", gatewatchPort(t), dead)
	include, err := runCLI(t, "nginx", "--config", cfg)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	gw := startGatewatchIn(t, cfg, t.TempDir())
	base := startLoadNginx(t, include, dead)
	pid := gw.cmd.Process.Pid

	trace := traceRSS(pid)
	st := runLoad(loadOptions{url: base + "/dead/cart", host: "shop.test", headers: browserHeaders,
		conns: conns, d: d, want: gatewatchPage(http.StatusBadGateway)})
	// The recorder drains (every answered request's event written) before
	// the last memory sample.
	eventually(t, 30*time.Second, "the recorder drains", func() bool {
		m := metrics(t, gw)
		return m["gatewatch_events_queued"] == 0 && m["gatewatch_events_written_total"] == m["gatewatch_events_recorded_total"]
	})
	samples := trace.stop()
	start, end := samples[0], samples[len(samples)-1]
	peak := slices.Max(samples)
	t.Logf("%d connections for %s through nginx: %s", conns, d, st)
	t.Logf("gatewatch RSS: start %.1f MB, peak %.1f MB, end %.1f MB", mbOf(start), mbOf(peak), mbOf(end))
	t.Logf("gatewatch events: %s", eventCounters(metrics(t, gw)))

	if st.errors() > 0 {
		t.Errorf("%d socket errors; first: %s", st.errors(), st.firstErr)
	}
	if st.wrong > 0 {
		t.Errorf("%d of %d answers were not gatewatch's 502; first: %s", st.wrong, st.requests, st.firstWrong)
	}
	if st.requests < int64(conns) {
		t.Errorf("only %d requests answered", st.requests)
	}
	if end > start+32<<10 {
		t.Errorf("RSS grew from %.1f MB to %.1f MB (more than 32 MB)", mbOf(start), mbOf(end))
	}
	// Under steady load memory levels off: the last tenth of the run is
	// no higher than the second quarter, give or take 16 MB.
	if n := len(samples); n > 40 {
		q2 := slices.Max(samples[n/4 : n/2])
		last := slices.Max(samples[n*9/10:])
		if last > q2+16<<10 {
			t.Errorf("RSS kept growing under load: %.1f MB in the second quarter, %.1f MB at the end", mbOf(q2), mbOf(last))
		}
	}
	if strings.Contains(gw.out.String(), "panic") {
		t.Error("gatewatch logged a panic")
	}
}

func mbOf(kb int64) float64 { return float64(kb) / 1024 }
