package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript sets the request headers and, when the run is done, prints
// one line of figures from wrk's own latency histogram. wrk counts every
// status above 399 as a "status" error, which for an error page is every
// response; socket errors are the other four.
const wrkScript = `-- written by loadbench
%s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LOADBENCH requests=%%d duration_us=%%d bytes=%%d p50_us=%%d p90_us=%%d p99_us=%%d max_us=%%d connect=%%d read=%%d write=%%d status=%%d timeout=%%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

// wrkResult is what one wrk run reports.
type wrkResult struct {
	requests, bytes          int64
	duration                 time.Duration
	p50, p90, p99, max       time.Duration
	connect, read, write     int64
	status, timeout          int64
	stdout                   string
	reqPerSec, bytesPerReply float64
	cpu                      time.Duration // wrk's own user and system time
}

func (r wrkResult) socketErrors() int64 { return r.connect + r.read + r.write + r.timeout }

// writeWrkScript writes the Lua script for headers into dir.
func writeWrkScript(dir, name string, headers [][2]string) (string, error) {
	var b strings.Builder
	for _, h := range headers {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", h[0], h[1])
	}
	path := filepath.Join(dir, name+".lua")
	return path, os.WriteFile(path, []byte(fmt.Sprintf(wrkScript, b.String())), 0o644)
}

// runWrk runs wrk against url for d and parses the script's line.
func runWrk(ctx context.Context, o options, script, url string, d time.Duration) (wrkResult, error) {
	var r wrkResult
	// wrk stops by itself after d; the context bounds a wrk that hangs.
	ctx, cancel := context.WithTimeout(ctx, d+o.timeout+30*time.Second)
	defer cancel()
	args := []string{
		"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections),
		"-d", fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second)),
		"--timeout", fmt.Sprintf("%ds", max(1, int(o.timeout/time.Second))),
		"-s", script, url,
	}
	cmd := exec.CommandContext(ctx, o.wrk, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("wrk %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	r.stdout = stdout.String()
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "LOADBENCH ")
		if !ok {
			continue
		}
		kv := map[string]int64{}
		for f := range strings.FieldsSeq(rest) {
			k, v, _ := strings.Cut(f, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk script line %q: %w", sc.Text(), err)
			}
			kv[k] = n
		}
		us := func(k string) time.Duration { return time.Duration(kv[k]) * time.Microsecond }
		r.requests, r.bytes, r.duration = kv["requests"], kv["bytes"], us("duration_us")
		r.p50, r.p90, r.p99, r.max = us("p50_us"), us("p90_us"), us("p99_us"), us("max_us")
		r.connect, r.read, r.write, r.status, r.timeout = kv["connect"], kv["read"], kv["write"], kv["status"], kv["timeout"]
		if r.duration > 0 {
			r.reqPerSec = float64(r.requests) / r.duration.Seconds()
		}
		if r.requests > 0 {
			r.bytesPerReply = float64(r.bytes) / float64(r.requests)
		}
		return r, nil
	}
	return r, fmt.Errorf("wrk printed no LOADBENCH line:\n%s%s", stdout.String(), stderr.String())
}
