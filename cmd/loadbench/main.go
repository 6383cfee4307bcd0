// Command loadbench is gatewatch's loopback load harness: in one run it
// builds gatewatch, starts it with a dead upstream, exports its pages with
// `gatewatch render`, starts Debian's nginx with the include `gatewatch
// nginx` generates, and drives wrk against seven targets with the same
// connections, threads and duration:
//
//	(a) gatewatch's 502 page on its own listener, for a browser's request
//	(b) nginx serving the byte-identical page `gatewatch render` exported,
//	    with the status kept, as its fallback location does (which also
//	    fills in the reference by SSI)
//	(c) gatewatch's status API
//	(d) gatewatch behind nginx as deployed: nginx fails to reach a dead
//	    upstream and its error_page hands the request to gatewatch, on a
//	    new connection each time
//	(e) (d) as the README recommends under heavy traffic: an http-level
//	    `upstream { keepalive }` block, and the include generated from a
//	    config whose [nginx] pass names it, so nginx reuses its connections
//	    to the same gatewatch
//	(f) the ceiling for (a): a trivial net/http server (a plain
//	    http.Server{Handler: h}, no timeouts) that answers every request
//	    with the status, headers (Date aside, which net/http adds) and body
//	    gatewatch sends for (a)'s request, captured just before (f)'s run,
//	    and does no other work. It is loadbench itself, started again in
//	    its own process with the hidden flags -fixed-server ADDR
//	    -fixed-response FILE, so its RSS and CPU are sampled as gatewatch's
//	    are; the table shows them in gatewatch's columns, marked net/http.
//	(g) nginx's own stock 502 page for the same dead upstream (a server
//	    with no error_page): what the site shows without gatewatch
//
// It prints a markdown table of req/s, requests per CPU-second of the
// serving processes (steady when the machine is busy, where req/s is
// not), p50/p99 latency, the server's peak RSS and CPU, the connections to
// gatewatch left in TIME_WAIT, and the ratios, for BENCHMARKS.md. With
// -rounds N the targets run N times interleaved and each reports its
// median round.
//
// wrk is a closed loop: each connection sends again as soon as it is
// answered, so its latencies are about connections ÷ req/s whatever the
// server. Then, unless -latency-rate is 0, loadbench sends (a), (b) and
// (e) a fixed rate (5,000/s by default) on a schedule over the same
// number of connections, timing each request from its scheduled send so
// that a stall is counted rather than hidden, and prints a second table
// of p50/p99/max and the rate achieved.
//
// With -herd it instead sends a steady rate of page views (10,000/s for
// 30 s by default) through nginx against the down upstream and counts the
// checks that reach the origin: the "never amplify" figure.
//
// Everything listens on 127.0.0.1 and is stopped when loadbench ends.
//
//	go run ./cmd/loadbench [-duration 10s] [-connections 256] [-threads 2] [-latency-rate 5000] [-keepalive 256] [-rounds 1]
//	go run ./cmd/loadbench -herd [-rate 10000] [-herd-duration 30s]
//	go run ./cmd/loadbench -aged 8000000 [-rounds 3]
//
// With -aged N it instead compares two gatewatch processes on their own
// listeners, one fresh and one seeded with N event rows and a full
// error.log index (see aged.go), in interleaved rounds.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// options are loadbench's flags.
type options struct {
	duration    time.Duration
	warmup      time.Duration
	connections int
	threads     int
	timeout     time.Duration
	latencyRate int

	herd         bool
	rate         int
	herdDuration time.Duration
	herdWorkers  int
	herdVia      string

	aged      int           // -aged: event rows the aged instance is seeded with; 0 runs the table
	agedServe time.Duration // -aged-serve: load the aged instance serves before it is measured

	allocs    bool
	syscalls  bool
	idle      time.Duration
	gatewatch string // prebuilt binary; empty builds ./cmd/gatewatch
	wrk       string
	nginx     string
	keep      bool
	keepalive int
	rounds    int
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured run per target")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured run before each target (0 skips it)")
	fs.IntVar(&o.connections, "connections", 256, "wrk connections per target")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "wrk's per-request timeout")
	fs.IntVar(&o.latencyRate, "latency-rate", 5000, "requests per second for the fixed-rate latency of (a), (b) and (e) over -connections (0 skips it)")
	fs.BoolVar(&o.herd, "herd", false, "run the herd measurement instead of the table")
	fs.IntVar(&o.rate, "rate", 10000, "herd: page views per second")
	fs.DurationVar(&o.herdDuration, "herd-duration", 30*time.Second, "herd: how long to send page views")
	fs.IntVar(&o.herdWorkers, "herd-workers", 256, "herd: concurrent client connections")
	fs.StringVar(&o.herdVia, "herd-via", "nginx", "herd: send page views through nginx, or direct to gatewatch with the headers nginx would add")
	fs.IntVar(&o.aged, "aged", 0, "instead of the table, compare a fresh gatewatch with one seeded with this many event rows and a full error.log index (e.g. 8000000)")
	fs.DurationVar(&o.agedServe, "aged-serve", time.Minute, "-aged: how long the aged instance serves varied load (visitors, paths, connections) before it is measured")
	fs.DurationVar(&o.idle, "idle", 30*time.Second, "after the runs, leave gatewatch idle this long and report its RSS (0 skips it)")
	fs.BoolVar(&o.syscalls, "syscalls", true, "also count write system calls per response of (a), (b) and (f) with strace")
	fs.BoolVar(&o.allocs, "allocs", true, "also run the handler benchmark for allocations per request")
	fs.StringVar(&o.gatewatch, "gatewatch", "", "gatewatch binary to run (default: go build ./cmd/gatewatch)")
	fs.StringVar(&o.wrk, "wrk", "wrk", "wrk binary")
	fs.StringVar(&o.nginx, "nginx", "", "nginx binary (default: /usr/sbin/nginx, else nginx in PATH)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, logs, pages)")
	fs.IntVar(&o.keepalive, "keepalive", 256, "(e): idle connections per nginx worker in the upstream {} block (the README's recommendation)")
	fs.IntVar(&o.rounds, "rounds", 1, "measure every target this many times, interleaved, and report each target's median round")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.duration < time.Second || o.duration > time.Hour:
		return o, fmt.Errorf("-duration %s: want 1s to 1h", o.duration)
	case o.warmup < 0 || o.warmup > 10*time.Minute:
		return o, fmt.Errorf("-warmup %s: want 0 to 10m", o.warmup)
	case o.connections < 1 || o.connections > 10000:
		return o, fmt.Errorf("-connections %d: want 1 to 10000", o.connections)
	case o.threads < 1 || o.threads > o.connections:
		return o, fmt.Errorf("-threads %d: want 1 to -connections", o.threads)
	case o.latencyRate < 0 || o.latencyRate > 200000:
		return o, fmt.Errorf("-latency-rate %d: want 0 to 200000", o.latencyRate)
	case o.rate < 1 || o.rate > 200000:
		return o, fmt.Errorf("-rate %d: want 1 to 200000", o.rate)
	case o.herdDuration < time.Second || o.herdDuration > time.Hour:
		return o, fmt.Errorf("-herd-duration %s: want 1s to 1h", o.herdDuration)
	case o.herdWorkers < 1 || o.herdWorkers > 10000:
		return o, fmt.Errorf("-herd-workers %d: want 1 to 10000", o.herdWorkers)
	case o.keepalive < 1 || o.keepalive > 100000:
		return o, fmt.Errorf("-keepalive %d: want 1 to 100000", o.keepalive)
	case o.rounds < 1 || o.rounds > 20:
		return o, fmt.Errorf("-rounds %d: want 1 to 20", o.rounds)
	case o.agedServe < 0 || o.agedServe > 2*time.Hour:
		return o, fmt.Errorf("-aged-serve %s: want 0 to 2h", o.agedServe)
	case o.aged < 0 || o.aged > 100_000_000:
		return o, fmt.Errorf("-aged %d: want 0 to 100000000", o.aged)
	case o.herdVia != "nginx" && o.herdVia != "direct":
		return o, fmt.Errorf("-herd-via %q: want nginx or direct", o.herdVia)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// loadbench started again as target (f)'s server.
	if len(args) > 0 && (args[0] == fixedServerFlag || args[0] == "-"+fixedServerFlag) {
		return serveFixed(ctx, args, stderr)
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := func(format string, a ...any) { fmt.Fprintf(stderr, "loadbench: "+format+"\n", a...) }
	if !o.herd {
		if o.wrk, err = findWrk(o.wrk); err != nil {
			return err
		}
	}
	if o.aged > 0 {
		return runAged(ctx, o, stdout, log)
	}
	st, err := startStack(ctx, o, log)
	if err != nil {
		return err
	}
	defer st.close()

	if o.herd {
		res, err := runHerd(ctx, st, o, log)
		if err != nil {
			return err
		}
		writeHerd(stdout, describeMachine(ctx, st.nginxBin, o.wrk), res)
		return nil
	}
	// Rounds interleave the targets (a b … g, a b … g, …), so that a
	// machine that gets busier or quieter meanwhile weighs on all alike.
	// (d) goes last in each round: the connections it opens and closes
	// wait a minute in TIME_WAIT, which would be counted against (e).
	order := st.targets()
	slices.SortStableFunc(order, func(x, y target) int { return cmp.Compare(boolInt(x.key == "d"), boolInt(y.key == "d")) })
	byKey := map[string][]result{}
	for round := range o.rounds {
		if round > 0 {
			// The previous round's (d) sockets leave TIME_WAIT.
			if err := pause(ctx, 60*time.Second); err != nil {
				return err
			}
		}
		for _, t := range order {
			r, err := measure(ctx, st, t, o, log)
			if err != nil {
				return fmt.Errorf("%s: %w", t.key, err)
			}
			byKey[t.key] = append(byKey[t.key], r)
		}
	}
	var results []result
	for _, t := range st.targets() {
		results = append(results, medianRound(byKey[t.key]))
	}
	var rates []rateResult
	if o.latencyRate > 0 {
		for _, t := range st.targets() {
			if !fixedRateTargets[t.key] {
				continue
			}
			r, err := measureRate(ctx, st, t, o, log)
			if err != nil {
				return fmt.Errorf("%s at a fixed rate: %w", t.key, err)
			}
			rates = append(rates, r)
		}
	}
	var calls []syscallResult
	if o.syscalls {
		for _, t := range st.targets() {
			if !syscallTargets[t.key] {
				continue
			}
			r, err := countWrites(ctx, st, t, o, log)
			if err != nil {
				return fmt.Errorf("%s under strace: %w", t.key, err)
			}
			calls = append(calls, r)
		}
	}
	var allocs string
	if o.allocs {
		allocs = handlerAllocs(ctx, log)
	}
	// RSS after idle: what gatewatch gives back once the load is over
	// (it returns memory after a storm, cmd/gatewatch/memtrim.go).
	var idleKB int64
	if o.idle > 0 {
		log("gatewatch idle for %s, then its RSS", o.idle)
		if err := pause(ctx, o.idle); err != nil {
			return err
		}
		idleKB = vmRSS(st.gw.pid())
	}
	writeTable(stdout, describeMachine(ctx, st.nginxBin, o.wrk), o, results, rates, allocs)
	writeSyscalls(stdout, calls)
	if idleKB > 0 {
		fmt.Fprintf(stdout, "\ngatewatch RSS after %s idle, once every run above is over: %s.\n", o.idle, mb(idleKB))
	}
	return nil
}
