package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// quietCPU is the most CPU (of 100% per core) a run may see outside
// gatewatch, nginx and wrk before loadbench calls the machine busy.
const quietCPU = 40

// browserHeaders are what a current desktop browser sends for a page.
var browserHeaders = [][2]string{
	{"Host", siteHost},
	{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"},
	{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"},
	{"Accept-Encoding", "gzip, br"},
	{"Accept-Language", "de-DE,de;q=0.9"},
}

// fetchHeaders are what the page's script sends when it polls the status.
var fetchHeaders = [][2]string{
	{"Host", siteHost},
	{"User-Agent", browserHeaders[1][1]},
	{"Accept", "application/json"},
	{"Accept-Encoding", "gzip, br"},
	{"Accept-Language", "de-DE,de;q=0.9"},
}

// target is one row of the table.
type target struct {
	key, name string
	url       string
	headers   [][2]string
	wantCode  int
	// sameAs, when set, is a file the decoded body must equal.
	sameAs string
	// fixed marks (f): its server is the fixed-response process, sampled
	// in gatewatch's place, and it must answer with the response captured
	// in sameResponse.
	fixed        bool
	sameResponse string
	// lighter marks (i): like (f), but the server is fasthttpeval, the same
	// response from github.com/valyala/fasthttp instead of net/http.
	lighter bool
}

func (st *stack) targets() []target {
	return []target{
		{key: "a", name: "gatewatch 502 page, own listener", url: st.gwPublic + "/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway},
		{key: "b", name: "nginx, rendered 502 page", url: st.nginxBase + "/rendered/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway,
			sameAs: filepath.Join(st.dir, "pages", siteName, pageLang, "502.html")},
		{key: "c", name: "gatewatch status API", url: st.gwPublic + "/_gatewatch/api/v1/status?site=" + siteName + "&lang=" + pageLang,
			headers: fetchHeaders, wantCode: http.StatusOK},
		{key: "d", name: "nginx → gatewatch, as deployed", url: st.nginxBase + "/dead/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway},
		{key: "e", name: "nginx → gatewatch, keep-alive upstream", url: st.nginxKA + "/dead/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway},
		{key: "f", name: "net/http, fixed response (ceiling)", url: st.fixedBase + "/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway,
			fixed: true, sameResponse: st.fixedFile},
		{key: "g", name: "nginx's stock 502 page, no gatewatch", url: st.nginxStock + "/dead/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway},
		{key: "h", name: "nginx, (a)'s own bytes (gzip_static)", url: st.nginxBase + "/same/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway},
		{key: "i", name: "fasthttp, fixed response (a lighter server)", url: st.fastBase + "/cart",
			headers: browserHeaders, wantCode: http.StatusBadGateway,
			fixed: true, lighter: true, sameResponse: st.fixedFile},
	}
}

// result is one measured target.
type result struct {
	target
	wrk wrkResult
	// gw is gatewatch's process tree, or for (f) the fixed-response
	// server's, which takes gatewatch's columns.
	gw, nginx   memTrace
	encoding    string // Content-Encoding of the checked response
	replyBytes  int    // its body size on the wire
	identicalTo string // the file the decoded body was found equal to
	// otherCPU is the share of the machine's CPU not charged to gatewatch,
	// nginx or wrk during the run: the kernel's network softirqs, loadbench
	// itself, and any other process. About 10-20% on a quiet machine.
	otherCPU float64
	// timeWait is the TCP connections to or from gatewatch's port in
	// TIME_WAIT as the run ends: each is a connection opened for one
	// request and closed.
	timeWait int
}

// servingCPU is the CPU time of the processes that serve t: gatewatch
// (or the fixed-response server) for its own listener, nginx for its
// pages, both for nginx in front of gatewatch.
func (r result) servingCPU() time.Duration {
	switch r.key {
	case "b", "g", "h":
		return r.nginx.cpu
	case "d", "e":
		return r.gw.cpu + r.nginx.cpu
	}
	return r.gw.cpu
}

// perCPUSecond is requests served per CPU-second of the serving
// processes: steady when the machine is busy, where req/s is not.
func (r result) perCPUSecond() float64 {
	if c := r.servingCPU().Seconds(); c > 0 {
		return float64(r.wrk.requests) / c
	}
	return 0
}

// medianRound is the round of rs with the median requests per
// CPU-second.
func medianRound(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int { return cmp.Compare(a.perCPUSecond(), b.perCPUSecond()) })
	return s[len(s)/2]
}

// measure checks the target answers as expected, warms it up, then runs
// wrk while sampling gatewatch's and nginx's memory and CPU.
func measure(ctx context.Context, st *stack, t target, o options, log func(string, ...any)) (result, error) {
	r := result{target: t}
	if t.fixed {
		if err := st.startFixed(ctx); err != nil {
			return r, err
		}
	}
	if t.lighter {
		if err := st.startFast(ctx); err != nil {
			return r, err
		}
	}
	if err := preflight(ctx, &r); err != nil {
		return r, err
	}
	script, err := writeWrkScript(st.dir, "target-"+t.key, t.headers)
	if err != nil {
		return r, err
	}
	if o.warmup > 0 {
		log("(%s) %s: warming up for %s", t.key, t.name, o.warmup)
		if _, err := runWrk(ctx, o, script, t.url, o.warmup); err != nil {
			return r, err
		}
		if err := pause(ctx, time.Second); err != nil {
			return r, err
		}
	}
	log("(%s) %s: %d connections, %d threads, %s", t.key, t.name, o.connections, o.threads, o.duration)
	server := st.gw
	if t.fixed {
		server = st.fixed
	}
	if t.lighter {
		server = st.fast
	}
	busy := machineBusy()
	gw := startSampler(ctx, server.pid())
	ng := startSampler(ctx, st.nginx.pid())
	r.wrk, err = runWrk(ctx, o, script, t.url, o.duration)
	r.gw, r.nginx = gw.stop(), ng.stop()
	r.timeWait = timeWaitOn(st.gwPort)
	if err != nil {
		return r, err
	}
	other := machineBusy() - busy - r.gw.cpu - r.nginx.cpu - r.wrk.cpu
	r.otherCPU = max(0, 100*other.Seconds()/r.gw.wall.Seconds())
	if r.otherCPU > quietCPU {
		log("(%s) warning: %.0f%% CPU went to other processes or the kernel during the run; is the machine quiet?", t.key, r.otherCPU)
	}
	for _, p := range []*process{st.gw, st.nginx, server} {
		if gone, perr := p.exited(); gone {
			return r, fmt.Errorf("%s exited during the run (%v); see %s", p.name, perr, p.logPath)
		}
	}
	if r.wrk.requests == 0 {
		return r, fmt.Errorf("no request completed:\n%s", r.wrk.stdout)
	}
	// Let sockets in TIME_WAIT and the recorder's queue settle before the
	// next target.
	return r, pause(ctx, 2*time.Second)
}

// fixedRateTargets are the targets whose latency is also measured at a
// fixed rate: gatewatch's page, nginx's, and gatewatch behind nginx with
// keep-alive.
var fixedRateTargets = map[string]bool{"a": true, "b": true, "e": true}

// rateResult is one target's latency at a fixed rate.
type rateResult struct {
	target
	rate      int
	gen       genResult
	gw, nginx memTrace
	// client is loadbench's own CPU time (the generator, mostly) and
	// otherCPU the share of the machine's CPU that went to none of the
	// three, as for wrk's runs.
	client   time.Duration
	otherCPU float64
}

// sustained reports whether every request of the schedule was sent and
// answered with the expected code.
func (r rateResult) sustained() bool {
	return r.gen.missed == 0 && r.gen.errors == 0 && r.gen.codes[r.wantCode] == r.gen.sent && r.gen.sent > 0
}

// measureRate sends o.latencyRate requests a second to the target for
// o.duration (after o.warmup on the same connections) from
// o.connections workers with the open-loop generator, timing each from
// its scheduled send.
func measureRate(ctx context.Context, st *stack, t target, o options, log func(string, ...any)) (rateResult, error) {
	r := rateResult{target: t, rate: o.latencyRate}
	log("(%s) %s: %d req/s for %s (after %s warm-up) over %d connections", t.key, t.name, o.latencyRate, o.duration, o.warmup, o.connections)
	g := genOptions{url: t.url, headers: t.headers, rate: o.latencyRate, duration: o.duration, warmup: o.warmup, workers: o.connections}
	// CPU and memory are sampled over the measured part of the schedule.
	type samples struct {
		gw, nginx  *sampler
		self, busy time.Duration
	}
	measuring := make(chan samples, 1)
	warm := time.AfterFunc(o.warmup, func() {
		measuring <- samples{startSampler(ctx, st.gw.pid()), startSampler(ctx, st.nginx.pid()), selfCPU(), machineBusy()}
	})
	r.gen = generate(ctx, g)
	if !warm.Stop() {
		s := <-measuring
		r.gw, r.nginx = s.gw.stop(), s.nginx.stop()
		r.client = selfCPU() - s.self
		other := machineBusy() - s.busy - r.gw.cpu - r.nginx.cpu - r.client
		r.otherCPU = max(0, 100*other.Seconds()/r.gw.wall.Seconds())
		if r.otherCPU > quietCPU {
			log("(%s) warning: %.0f%% CPU went to other processes or the kernel during the run; is the machine quiet?", t.key, r.otherCPU)
		}
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	for _, p := range []*process{st.gw, st.nginx} {
		if gone, perr := p.exited(); gone {
			return r, fmt.Errorf("%s exited during the run (%v); see %s", p.name, perr, p.logPath)
		}
	}
	if r.gen.sent == 0 {
		return r, fmt.Errorf("no request completed (%d not sent, first error: %s)", r.gen.missed, r.gen.firstErr)
	}
	return r, pause(ctx, 2*time.Second)
}

// fetch sends one GET with headers ("Host" sets the request's Host) and
// returns the response as sent: no transparent decompression.
func fetch(ctx context.Context, url string, headers [][2]string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	for _, h := range headers {
		if h[0] == "Host" {
			req.Host = h[1]
			continue
		}
		req.Header.Set(h[0], h[1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, body, nil
}

// preflight sends the target's request once and checks the status code,
// for (b) that the page is the rendered file, byte for byte, and for (f)
// that the answer is the captured one.
func preflight(ctx context.Context, r *result) error {
	status, header, body, err := fetch(ctx, r.url, r.headers)
	if err != nil {
		return err
	}
	if status != r.wantCode {
		return fmt.Errorf("GET %s answered %d; want %d", r.url, status, r.wantCode)
	}
	r.encoding = header.Get("Content-Encoding")
	r.replyBytes = len(body)
	if r.sameResponse != "" {
		fr, err := readFixed(r.sameResponse)
		if err != nil {
			return err
		}
		if diff := fr.sameResponse(status, header, body); diff != "" {
			return fmt.Errorf("GET %s is not the captured response: %s", r.url, diff)
		}
		r.identicalTo = r.sameResponse
		return nil
	}
	if r.sameAs == "" {
		return nil
	}
	if r.encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	want, err := os.ReadFile(r.sameAs)
	if err != nil {
		return err
	}
	if !bytes.Equal(body, want) {
		return fmt.Errorf("GET %s is not the rendered %s", r.url, r.sameAs)
	}
	r.identicalTo = r.sameAs
	return nil
}

// selfCPU is loadbench's own user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
