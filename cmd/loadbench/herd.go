package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/internal/config"
)

// herdResult is what the herd run measured.
type herdResult struct {
	rate     int
	duration time.Duration
	via      string
	gen      genResult
	// probes are the origin's accepts while page views were being sent.
	probes []time.Time
	// monitor is the config's monitor section, for the intervals.
	monitor config.Monitor
	// metrics are gatewatch's own probe counters over the run, by name,
	// when /metrics exposes any.
	metrics     map[string]float64
	metricsNote string // why metrics could not be read
	gw          memTrace
}

// runHerd sends o.rate page views a second for o.herdDuration through
// nginx to the down upstream, and counts the checks that reach its origin.
func runHerd(ctx context.Context, st *stack, o options, log func(string, ...any)) (herdResult, error) {
	res := herdResult{rate: o.rate, duration: o.herdDuration, via: o.herdVia}
	cfg, err := config.Load(filepath.Join(st.dir, "gatewatch.toml"))
	if err != nil {
		return res, err
	}
	res.monitor = cfg.Monitor
	probe := target{url: st.nginxBase + "/dead/cart", headers: browserHeaders, wantCode: http.StatusBadGateway}
	if o.herdVia == "direct" {
		dead := fmt.Sprintf("127.0.0.1:%d", st.deadPort)
		probe.url = st.gwPublic + "/cart"
		probe.headers = append(slices.Clone(browserHeaders),
			[2]string{"X-Code", "502"}, [2]string{"X-Original-URI", "/cart"}, [2]string{"X-Original-Method", "GET"},
			[2]string{"X-Upstream-Addr", dead}, [2]string{"X-Upstream-Status", "502"}, [2]string{"X-Real-IP", "192.0.2.7"})
	}
	if err := preflight(ctx, &result{target: probe}); err != nil {
		return res, err
	}
	// /metrics is optional here: it may need credentials, or have no
	// probe counters; the origin counts regardless.
	before, err := probeMetrics(ctx, st)
	if err != nil {
		res.metricsNote = err.Error()
	}
	log("herd: %d page views/s for %s via %s (%s), %d connections", o.rate, o.herdDuration, o.herdVia, probe.url, o.herdWorkers)
	s := startSampler(ctx, st.gw.pid())
	start := time.Now()
	res.gen = generate(ctx, genOptions{url: probe.url, headers: probe.headers, rate: o.rate,
		duration: o.herdDuration, workers: o.herdWorkers})
	res.gw = s.stop()
	res.probes = st.origin.between(start, start.Add(res.gen.elapsed))
	res.metrics = map[string]float64{}
	if after, err := probeMetrics(ctx, st); err == nil && res.metricsNote == "" {
		for k, v := range after {
			res.metrics[k] = v - before[k]
		}
	} else if err != nil {
		res.metricsNote = err.Error()
	}
	return res, nil
}

// probeMetrics reads the counters on gatewatch's /metrics whose names
// speak of probes or checks; none is fine, the origin counts anyway.
func probeMetrics(ctx context.Context, st *stack) (map[string]float64, error) {
	admin := st.gwAdmin
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(adminUser, st.adminPass)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: %s", admin, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "gatewatch_") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		base, _, _ := strings.Cut(name, "{")
		if !strings.HasSuffix(base, "_total") || !strings.Contains(base, "probe") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}

// genOptions shape an open-loop load: requests start on a schedule, not
// when the previous one ends, as page views from many visitors do.
type genOptions struct {
	url      string
	headers  [][2]string
	rate     int
	duration time.Duration
	// warmup is sent on the same schedule and connections before duration
	// but left out of the result.
	warmup  time.Duration
	workers int
}

// genResult is what the generator saw over the measured duration.
type genResult struct {
	scheduled, sent, missed int64 // missed: no worker free within a second
	codes                   map[int]int64
	errors                  int64
	firstErr                string
	// latencies run from each request's scheduled send time to the end of
	// its response, so that waiting for a free worker counts.
	latencies []time.Duration // sorted
	// sendLags run from the scheduled time to when a worker began the
	// request: the generator's own delay (timer, CPU), plus any wait for
	// a free worker.
	sendLags []time.Duration // sorted
	elapsed  time.Duration   // from the first measured send to the last answer
}

func (g genResult) percentile(p float64) time.Duration { return percentile(g.latencies, p) }

// percentile of sorted durations; 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// generate sends o.rate requests a second for o.warmup+o.duration, each
// worker on its own keep-alive connection, and reports on the requests
// scheduled after the warm-up. A request that finds every worker busy
// waits at most a second's worth of schedule, then counts as missed, so
// the generator stops on time however slow the server is.
func generate(ctx context.Context, o genOptions) genResult {
	res := genResult{codes: map[int]int64{}}
	req, err := newRequest(o.url, o.headers)
	if err != nil {
		res.firstErr = err.Error()
		return res
	}
	tokens := make(chan time.Time, o.rate)
	start := time.Now()
	measureFrom := start.Add(o.warmup)

	var (
		mu   sync.Mutex
		sent atomic.Int64
		wg   sync.WaitGroup
		// per worker: no lock
		lat  = make([][]time.Duration, o.workers)
		lags = make([][]time.Duration, o.workers)
	)
	for i := range o.workers {
		wg.Go(func() {
			// One connection per worker, so that the load is spread over
			// o.workers connections as over that many visitors.
			conn := &rawConn{r: req}
			defer conn.close()
			for due := range tokens {
				if ctx.Err() != nil {
					continue
				}
				began := time.Now()
				code, err := conn.get()
				if due.Before(measureFrom) {
					continue
				}
				sent.Add(1)
				mu.Lock()
				if err != nil {
					res.errors++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
				} else {
					res.codes[code]++
				}
				mu.Unlock()
				lat[i] = append(lat[i], time.Since(due))
				lags[i] = append(lags[i], began.Sub(due))
			}
		})
	}

	// The dispatcher sleeps until the next request is due (a millisecond
	// at most, to notice cancellation) rather than ticking every
	// millisecond, so that requests leave close to their scheduled time;
	// the send lags in the result show how close. (A blocking nanosleep
	// is no better: the goroutine keeps its P while in the syscall, and
	// the workers it has just woken wait for it.)
	total := int64((o.warmup + o.duration).Seconds() * float64(o.rate))
	var scheduled int64
	for scheduled < total && ctx.Err() == nil {
		now := time.Since(start)
		// Request k is due at k/rate: release every one due by now.
		due := min(total, int64(now.Seconds()*float64(o.rate))+1)
		for ; scheduled < due; scheduled++ {
			at := start.Add(time.Duration(float64(scheduled) / float64(o.rate) * float64(time.Second)))
			measured := !at.Before(measureFrom)
			if measured {
				res.scheduled++
			}
			select {
			case tokens <- at:
			default:
				if measured {
					res.missed++
				}
			}
		}
		if scheduled < total {
			next := time.Duration(float64(scheduled) / float64(o.rate) * float64(time.Second))
			if d := min(next-time.Since(start), time.Millisecond); d > 0 {
				time.Sleep(d)
			}
		}
	}
	close(tokens)
	wg.Wait()
	res.elapsed = time.Since(measureFrom)
	res.sent = sent.Load()
	for i := range lat {
		res.latencies = append(res.latencies, lat[i]...)
		res.sendLags = append(res.sendLags, lags[i]...)
	}
	slices.Sort(res.latencies)
	slices.Sort(res.sendLags)
	return res
}
