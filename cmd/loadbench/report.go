package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets from the issue.
const (
	targetRatio  = 0.8                   // (a) req/s over (b) req/s
	targetP99    = 10 * time.Millisecond // at 256 connections
	targetRSSKB  = 64 << 10              // gatewatch under load
	p99Conns     = 256                   // the connection count the p99 target is stated for
	allocsTarget = "0 allocs/op"         // pre-rendered, pre-compressed page
	benchName    = "BenchmarkErrorPageBrowser"
)

// machine describes where the figures were taken.
type machine struct {
	cpus                       int
	cpuModel, memory, kernel   string
	goVersion, nginx, wrk, git string
	when                       time.Time
}

func describeMachine(ctx context.Context, nginxBin, wrkBin string) machine {
	m := machine{cpus: runtime.NumCPU(), goVersion: runtime.Version(), when: time.Now().UTC()}
	m.cpuModel = firstField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseInt(strings.TrimSuffix(firstField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	m.nginx = firstLine(combined(ctx, nginxBin, "-v"))
	m.nginx = strings.TrimPrefix(m.nginx, "nginx version: ")
	m.wrk = firstLine(combined(ctx, wrkBin, "-v"))
	if i := strings.Index(m.wrk, " Copyright"); i > 0 {
		m.wrk = m.wrk[:i]
	}
	rev := strings.TrimSpace(combined(ctx, "git", "rev-parse", "--short=12", "HEAD"))
	if rev != "" && !strings.Contains(rev, " ") {
		m.git = rev
		if st := strings.TrimSpace(combined(ctx, "git", "status", "--porcelain", "--untracked-files=no")); st != "" {
			m.git += " (with uncommitted changes)"
		}
	}
	return m
}

// firstField returns the value of the first "key: value" line of a /proc
// file.
func firstField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func combined(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}

func (m machine) write(w io.Writer) {
	fmt.Fprintf(w, "Machine: %d × %s, %s RAM, Linux %s; %s; nginx %s; %s; loopback only, load generator on the same cores.\n",
		m.cpus, m.cpuModel, m.memory, m.kernel, m.goVersion, m.nginx, m.wrk)
	if m.git != "" {
		fmt.Fprintf(w, "Measured at commit %s on %s.\n", m.git, m.when.Format("2006-01-02 15:04 MST"))
	}
}

// handlerAllocs runs the public handler's browser benchmark for its
// allocations per request, or says why it could not.
func handlerAllocs(ctx context.Context, log func(string, ...any)) string {
	log("handler benchmark: go test -run '^$' -bench '^%s$' -benchmem ./handlers/public", benchName)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^"+benchName+"$", "-benchmem", "-benchtime", "2s", "./handlers/public")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var line string
	for l := range strings.SplitSeq(out.String(), "\n") {
		if strings.HasPrefix(l, benchName) && strings.Contains(l, "allocs/op") {
			line = l
		}
	}
	if err != nil || line == "" {
		return fmt.Sprintf("not measured (%v): %s", err, firstLine(out.String()))
	}
	var parts []string
	for _, unit := range []string{"allocs/op", "B/op", "ns/op"} {
		if m := regexp.MustCompile(`([\d.]+) ` + regexp.QuoteMeta(unit)).FindStringSubmatch(line); m != nil {
			parts = append(parts, m[1]+" "+unit)
		}
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// thousands formats n as 12,345.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func check(ok bool) string {
	if ok {
		return "reached"
	}
	return "**not reached**"
}

// writeTable prints the side-by-side table, the ratios and the targets
// as markdown.
func writeTable(w io.Writer, m machine, o options, rs []result, rates []rateResult, allocs string) {
	by := map[string]result{}
	for _, r := range rs {
		by[r.key] = r
	}
	fmt.Fprintf(w, "### gatewatch and nginx side by side\n\n")
	m.write(w)
	fmt.Fprintf(w, "Command: `go run ./cmd/loadbench -duration %s -connections %d -threads %d -latency-rate %d -keepalive %d -rounds %d` (wrk, %s warm-up per target; with several rounds, interleaved, each target's median round by requests per CPU-second).\n\n",
		o.duration, o.connections, o.threads, o.latencyRate, o.keepalive, o.rounds, o.warmup)
	fmt.Fprintln(w, "| | target | req/s | req per CPU-second | p50 | p99 | max | gatewatch RSS start → peak → end | nginx RSS peak | CPU gatewatch / nginx / wrk | reply | TIME_WAIT to gatewatch | socket errors |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	fixedRow := false
	for _, r := range rs {
		enc := r.encoding
		if enc == "" {
			enc = "identity"
		}
		// (f)'s server takes gatewatch's columns, and says so.
		server := ""
		if r.fixed {
			server, fixedRow = "net/http: ", true
		}
		if r.lighter {
			server = "fasthttp: "
		}
		fmt.Fprintf(w, "| (%s) | %s | %s | %s | %s | %s | %s | %s%s → %s → %s | %s | %s%.0f%% / %.0f%% / %.0f%% | %d B %s, %d | %s | %d |\n",
			r.key, r.name, thousands(int64(r.wrk.reqPerSec)), thousands(int64(r.perCPUSecond())), ms(r.wrk.p50), ms(r.wrk.p99), ms(r.wrk.max),
			server, mb(r.gw.startKB), mb(r.gw.peakKB), mb(r.gw.endKB), mb(r.nginx.peakKB),
			server, r.gw.cpuPercent(), r.nginx.cpuPercent(), 100*r.wrk.cpu.Seconds()/r.gw.wall.Seconds(), r.replyBytes, enc, r.wantCode,
			thousands(int64(r.timeWait)), r.wrk.socketErrors())
	}
	if fixedRow {
		fmt.Fprintln(w, "\nIn row (f) the gatewatch columns (\"net/http:\") are the fixed-response server's own process, sampled the same way; gatewatch and nginx sit idle meanwhile. "+
			"It is a plain `http.Server{Handler: h}` (no timeouts, Go's default GC and memory limit) on gatewatch's one-write listener (internal/coalesce), writing (a)'s captured status, headers and body from a map built once; row (i) is the same response from github.com/valyala/fasthttp (cmd/loadbench/fasthttpeval), to see what a lighter server allows.")
	}
	fmt.Fprintln(w)
	a, b, d, e, f, g, h, i := by["a"], by["b"], by["d"], by["e"], by["f"], by["g"], by["h"], by["i"]
	fmt.Fprintln(w, "| per CPU-second of the serving processes | ratio | goal |")
	fmt.Fprintln(w, "|---|---:|---:|")
	fmt.Fprintf(w, "| (a) / (h): own listener vs nginx gzip_static of the same bytes | %s | ≥ %.1f× |\n", ratio(a.perCPUSecond(), h.perCPUSecond()), targetRatio)
	fmt.Fprintf(w, "| (a) / (b): own listener vs nginx's fallback page (not compressed) | %s | |\n", ratio(a.perCPUSecond(), b.perCPUSecond()))
	fmt.Fprintf(w, "| (d) / (g): behind nginx vs nginx's stock page | %s | |\n", ratio(d.perCPUSecond(), g.perCPUSecond()))
	fmt.Fprintf(w, "| (e) / (g): behind nginx with keep-alive vs nginx's stock page | %s | ≥ 0.5× |\n", ratio(e.perCPUSecond(), g.perCPUSecond()))
	fmt.Fprintf(w, "| (a) / (f): gatewatch vs a net/http server doing nothing | %s | |\n", ratio(a.perCPUSecond(), f.perCPUSecond()))
	fmt.Fprintf(w, "| (f) / (h): net/http doing nothing vs nginx, the same bytes | %s | |\n", ratio(f.perCPUSecond(), h.perCPUSecond()))
	fmt.Fprintf(w, "| (i) / (h): fasthttp doing nothing vs nginx, the same bytes | %s | |\n\n", ratio(i.perCPUSecond(), h.perCPUSecond()))
	fmt.Fprintln(w, "| gatewatch / reference | req/s | p50 | p99 | RSS peak |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| (a) / (b): own listener vs nginx's static page | %s | %s | %s | %s |\n",
		ratio(a.wrk.reqPerSec, b.wrk.reqPerSec), ratio(float64(a.wrk.p50), float64(b.wrk.p50)),
		ratio(float64(a.wrk.p99), float64(b.wrk.p99)), ratio(float64(a.gw.peakKB), float64(b.nginx.peakKB)))
	fmt.Fprintf(w, "| (d) / (b): behind nginx vs nginx's static page | %s | %s | %s | %s |\n",
		ratio(d.wrk.reqPerSec, b.wrk.reqPerSec), ratio(float64(d.wrk.p50), float64(b.wrk.p50)),
		ratio(float64(d.wrk.p99), float64(b.wrk.p99)), ratio(float64(d.gw.peakKB+d.nginx.peakKB), float64(b.nginx.peakKB)))
	fmt.Fprintf(w, "| (e) / (b): behind nginx with keep-alive vs nginx's static page | %s | %s | %s | %s |\n",
		ratio(e.wrk.reqPerSec, b.wrk.reqPerSec), ratio(float64(e.wrk.p50), float64(b.wrk.p50)),
		ratio(float64(e.wrk.p99), float64(b.wrk.p99)), ratio(float64(e.gw.peakKB+e.nginx.peakKB), float64(b.nginx.peakKB)))
	fmt.Fprintf(w, "| (e) / (g): behind nginx with keep-alive vs nginx's stock page | %s | %s | %s | %s |\n",
		ratio(e.wrk.reqPerSec, g.wrk.reqPerSec), ratio(float64(e.wrk.p50), float64(g.wrk.p50)),
		ratio(float64(e.wrk.p99), float64(g.wrk.p99)), ratio(float64(e.gw.peakKB+e.nginx.peakKB), float64(g.nginx.peakKB)))
	if fixedRow {
		fmt.Fprintf(w, "| (a) / (f): gatewatch vs a net/http server doing nothing | %s | %s | %s | %s |\n",
			ratio(a.wrk.reqPerSec, f.wrk.reqPerSec), ratio(float64(a.wrk.p50), float64(f.wrk.p50)),
			ratio(float64(a.wrk.p99), float64(f.wrk.p99)), ratio(float64(a.gw.peakKB), float64(f.gw.peakKB)))
	}
	fmt.Fprintln(w)
	if len(rates) > 0 {
		writeRates(w, o, rates)
	}

	fmt.Fprintln(w, "Targets:")
	rr := 0.0
	if h.perCPUSecond() > 0 {
		rr = a.perCPUSecond() / h.perCPUSecond()
	}
	fmt.Fprintf(w, "- (a) ≥ %.1f× (h) per CPU-second: %.2f× — %s\n", targetRatio, rr, check(rr >= targetRatio))
	er := 0.0
	if g.perCPUSecond() > 0 {
		er = e.perCPUSecond() / g.perCPUSecond()
	}
	fmt.Fprintf(w, "- (e) ≥ 0.5× (g) per CPU-second: %.2f× — %s\n", er, check(er >= 0.5))
	if fixedRow {
		fmt.Fprintf(w, "- net/http ceiling: (f) %s req/s; (a) is %s of it\n", thousands(int64(f.wrk.reqPerSec)), ratio(a.wrk.reqPerSec, f.wrk.reqPerSec))
	}
	var p99s []string
	p99ok := true
	for _, k := range []string{"a", "c", "d", "e"} {
		r := by[k]
		p99s = append(p99s, fmt.Sprintf("(%s) %s", k, ms(r.wrk.p99)))
		p99ok = p99ok && r.wrk.p99 <= targetP99
	}
	note := ""
	if o.connections != p99Conns {
		note = fmt.Sprintf(" (measured at %d connections, not %d)", o.connections, p99Conns)
	}
	fixed := ""
	for _, r := range rates {
		if r.key != "a" {
			continue
		}
		p := r.gen.percentile(99)
		fixed = fmt.Sprintf("; open loop at a fixed %s req/s (from each request's scheduled send): (a) %s — %s",
			thousands(int64(r.rate)), ms(p), check(p <= targetP99 && r.sustained()))
		if !r.sustained() {
			fixed += " (the rate was not sustained)"
		}
	}
	fmt.Fprintf(w, "- p99 ≤ %s at %d connections%s: closed loop (wrk, each connection sends again as soon as answered): %s — %s%s\n",
		ms(targetP99), p99Conns, note, strings.Join(p99s, ", "), check(p99ok), fixed)
	var peak int64
	for _, r := range rs {
		if !r.fixed {
			peak = max(peak, r.gw.peakKB)
		}
	}
	fmt.Fprintf(w, "- gatewatch RSS ≤ 64 MB under load: peak %s — %s\n", mb(peak), check(peak <= targetRSSKB))
	if allocs != "" {
		fmt.Fprintf(w, "- zero allocations per pre-rendered page (`go test -bench '^%s$' -benchmem ./handlers/public`): %s — %s\n",
			benchName, allocs, check(strings.HasPrefix(allocs, allocsTarget)))
	}
	var errs []string
	for _, r := range rs {
		if n := r.wrk.socketErrors(); n > 0 {
			errs = append(errs, fmt.Sprintf("(%s) connect %d, read %d, write %d, timeout %d", r.key, r.wrk.connect, r.wrk.read, r.wrk.write, r.wrk.timeout))
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "- socket errors: %s\n", strings.Join(errs, "; "))
	}
	var others []string
	for _, r := range rs {
		others = append(others, fmt.Sprintf("(%s) %.0f%%", r.key, r.otherCPU))
	}
	fixedCPU := ""
	if fixedRow {
		fixedCPU = " (for (f), the fixed-response server)"
	}
	fmt.Fprintf(w, "- CPU not charged to gatewatch%s, nginx or wrk (kernel softirqs, loadbench, other processes; of %d00%%): %s\n", fixedCPU, m.cpus, strings.Join(others, ", "))
	var checked []string
	if b.identicalTo != "" {
		checked = append(checked, "(b) was checked to serve the rendered file byte for byte (after gunzip)")
	}
	if f.identicalTo != "" {
		verb := "was checked to answer"
		if len(checked) > 0 {
			verb = "to answer"
		}
		// Date and X-Request-Id keep their length, so the same answer is
		// the same number of bytes.
		same := "the same"
		if math.Abs(a.wrk.bytesPerReply-f.wrk.bytesPerReply) >= 0.5 {
			same = "**not the same: gatewatch's page changed between (a)'s run and the capture**"
		}
		checked = append(checked, fmt.Sprintf("(f) %s with (a)'s status, headers and body as captured just before its run (Date aside; wrk read %.0f bytes a reply from (a), %.0f from (f): %s)",
			verb, a.wrk.bytesPerReply, f.wrk.bytesPerReply, same))
	}
	if len(checked) > 0 {
		fmt.Fprintf(w, "\n%s; every target's status code was checked before its run.\n", strings.Join(checked, ", and "))
	}
}

// writeRates prints the fixed-rate latencies as markdown.
func writeRates(w io.Writer, o options, rs []rateResult) {
	fmt.Fprintf(w, "#### Latency at a fixed rate\n\n")
	fmt.Fprintf(w, "wrk's closed loop sends again as soon as each answer arrives, so its p50 is about connections ÷ req/s (Little's law) whatever the server. "+
		"Here loadbench sends %s req/s on a schedule (open loop) over %d connections for %s after a %s warm-up and times each request from its scheduled send, "+
		"so a stall or a wait for a free connection counts; send lag is the part before the request left: the generator's own delay, or the wait for a free connection when all %d are busy.\n\n",
		thousands(int64(o.latencyRate)), o.connections, o.duration, o.warmup, o.connections)
	fmt.Fprintln(w, "| | target | rate asked | achieved | answers | p50 | p99 | max | send lag p50 / p99 | CPU gatewatch / nginx / client / other |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		g := r.gen
		fmt.Fprintf(w, "| (%s) | %s | %s/s | %s/s | %s | %s | %s | %s | %s / %s | %.0f%% / %.0f%% / %.0f%% / %.0f%% |\n",
			r.key, r.name, thousands(int64(r.rate)), thousands(int64(float64(g.sent)/g.elapsed.Seconds())), answers(g, r.wantCode),
			ms(g.percentile(50)), ms(g.percentile(99)), ms(g.percentile(100)),
			ms(percentile(g.sendLags, 50)), ms(percentile(g.sendLags, 99)), r.gw.cpuPercent(), r.nginx.cpuPercent(),
			100*r.client.Seconds()/r.gw.wall.Seconds(), r.otherCPU)
	}
	fmt.Fprintln(w)
}

// answers summarises a generator's status codes, errors and unsent
// requests: "all 502" when every request got want.
func answers(g genResult, want int) string {
	if g.errors == 0 && g.missed == 0 && len(g.codes) == 1 && g.codes[want] == g.sent {
		return fmt.Sprintf("all %d", want)
	}
	var parts []string
	keys := make([]int, 0, len(g.codes))
	for k := range g.codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s × %d", thousands(g.codes[k]), k))
	}
	if g.errors > 0 {
		parts = append(parts, fmt.Sprintf("%s errors (%s)", thousands(g.errors), g.firstErr))
	}
	if g.missed > 0 {
		parts = append(parts, fmt.Sprintf("%s not sent: no connection free", thousands(g.missed)))
	}
	return strings.Join(parts, ", ")
}

// writeHerd prints the herd figures as markdown.
func writeHerd(w io.Writer, m machine, h herdResult) {
	g := h.gen
	secs := g.elapsed.Seconds()
	fmt.Fprintf(w, "### Herd: %s page views/s for %s against a down upstream\n\n", thousands(int64(h.rate)), h.duration)
	m.write(w)
	fmt.Fprintf(w, "Command: `go run ./cmd/loadbench -herd -rate %d -herd-duration %s -herd-via %s`. ", h.rate, h.duration, h.via)
	if h.via == "direct" {
		fmt.Fprint(w, "Page views go straight to gatewatch's listener with the headers nginx's include adds (X-Code 502, X-Upstream-Addr of the dead port); ")
	} else {
		fmt.Fprint(w, "Page views go through nginx (the generated include) to gatewatch; ")
	}
	fmt.Fprint(w, "the upstream's port refuses connections and its check URL is a loopback origin that answers 503 and counts accepted connections. "+
		"Requests are sent on a schedule (open loop), whether or not earlier ones have been answered.\n\n")
	fmt.Fprintln(w, "| page views sent | achieved rate | answers | latency p50 / p99 (from schedule) | checks reaching the origin | checks/s | closest two checks | gatewatch RSS peak |")
	fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---:|")
	var codes []string
	keys := make([]int, 0, len(g.codes))
	for k := range g.codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		codes = append(codes, fmt.Sprintf("%s × %d", thousands(g.codes[k]), k))
	}
	if g.errors > 0 {
		codes = append(codes, fmt.Sprintf("%s errors (%s)", thousands(g.errors), g.firstErr))
	}
	if g.missed > 0 {
		codes = append(codes, fmt.Sprintf("%s not sent: no connection free", thousands(g.missed)))
	}
	closest := "–"
	var minGap time.Duration
	for i := 1; i < len(h.probes); i++ {
		if gap := h.probes[i].Sub(h.probes[i-1]); i == 1 || gap < minGap {
			minGap = gap
		}
	}
	if len(h.probes) > 1 {
		closest = minGap.Round(time.Millisecond).String()
	}
	fmt.Fprintf(w, "| %s | %s/s | %s | %s / %s | %d | %.2f | %s | %s |\n",
		thousands(g.sent), thousands(int64(float64(g.sent)/secs)), strings.Join(codes, ", "),
		ms(g.percentile(50)), ms(g.percentile(99)), len(h.probes), float64(len(h.probes))/secs, closest, mb(h.gw.peakKB))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Monitor settings (deployed defaults): interval %s, down_interval %s, min_interval %s. ",
		h.monitor.Interval.Duration, h.monitor.DownInterval.Duration, h.monitor.MinInterval.Duration)
	// An accept lands a little after the check started, later under load,
	// so gaps are judged with some slack for scheduling.
	const slack = 250 * time.Millisecond
	gate, down := h.monitor.MinInterval.Duration, h.monitor.DownInterval.Duration
	mostGate := mostWithin(h.probes, gate-slack)
	fmt.Fprintf(w, "Most checks within any min_interval (%s, less %s for scheduling): %d — at most one check per min_interval however many page views: %s. ",
		gate, slack, mostGate, check(mostGate <= 1))
	fmt.Fprintf(w, "Most checks within any down_interval (%s): %d.\n", down, mostWithin(h.probes, down-slack))
	if len(h.metrics) > 0 {
		var parts []string
		names := make([]string, 0, len(h.metrics))
		for k := range h.metrics {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if h.metrics[k] != 0 {
				parts = append(parts, fmt.Sprintf("`%s` +%g", k, h.metrics[k]))
			}
		}
		fmt.Fprintf(w, "gatewatch's /metrics over the run: %s.\n", strings.Join(parts, ", "))
	} else if h.metricsNote != "" {
		fmt.Fprintf(w, "gatewatch's /metrics could not be read (%s); the origin's accept count is the figure.\n", h.metricsNote)
	} else {
		fmt.Fprintln(w, "gatewatch's /metrics has no probe counters; the origin's accept count is the figure.")
	}
}

// mostWithin is the largest number of times that fall within less than d
// of each other.
func mostWithin(ts []time.Time, d time.Duration) int {
	most, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= d {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}
