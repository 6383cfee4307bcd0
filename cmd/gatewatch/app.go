package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/handlers/admin"
	"github.com/gatewatch/gatewatch/handlers/public"
	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/metrics"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/notify"
	"github.com/gatewatch/gatewatch/internal/probe"
	"github.com/gatewatch/gatewatch/locales"
)

// app is what lives as long as the process: the store, the recorder, the
// nginx log index and the metrics. What a config decides (sites, brands,
// upstreams, users) lives in a generation, replaced whole on SIGHUP.
type app struct {
	store    incident.Store
	index    *nginxlog.Index
	recorder *incident.Recorder
	salts    *incident.Salts
	reg      *prometheus.Registry
	metrics  *public.PromMetrics
	logger   *slog.Logger
	board    *announce.Board
	notifier *notify.Notifier
	ready    admin.Readiness
	draining atomic.Bool

	current  atomic.Pointer[generation]
	reloadMu sync.Mutex
}

// generation is one config's handlers and the monitor they read. A
// generation is built and validated whole before it serves anything, and
// retired exactly once, after the next one has taken its place.
type generation struct {
	cfg    *config.Config
	mon    *monitor.Monitor
	public http.Handler
	admin  http.Handler

	// checks runs mon; generations whose checks are configured the same
	// share one, so that it outlives the generation that started it.
	checks *monitorRun
	retire sync.Once
}

// monitorRun is one monitor's background checks: started at most once,
// stopped at most once, whichever generations share it.
type monitorRun struct {
	mon     *monitor.Monitor
	start   sync.Once
	stopped sync.Once
	cancel  context.CancelFunc
	done    chan struct{}
}

func newMonitorRun(mon *monitor.Monitor) *monitorRun {
	return &monitorRun{mon: mon, cancel: func() {}, done: make(chan struct{})}
}

// run starts the checks under ctx; a second call does nothing.
func (r *monitorRun) run(ctx context.Context) {
	r.start.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		r.cancel = cancel
		go func() {
			defer close(r.done)
			r.mon.Run(ctx)
		}()
	})
}

// stop ends the checks and waits for those in flight. A run never started
// is marked done, so that stop never waits for nothing.
func (r *monitorRun) stop() {
	r.stopped.Do(func() {
		r.start.Do(func() { close(r.done) })
		r.cancel()
	})
	<-r.done
}

// build makes the generation for cfg. prev, when set, lends its monitor
// if the checks are configured the same, so that a reload that only
// changes a brand does not forget what the monitor knows. Nothing built
// here runs until start; a generation that fails to build is dropped.
func (a *app) build(cfg *config.Config, prev *generation) (*generation, error) {
	catalog, err := locales.New(cfg.Server.DefaultLocale)
	if err != nil {
		return nil, err
	}
	assets, err := loadAssets(cfg)
	if err != nil {
		return nil, err
	}
	g := &generation{cfg: cfg}
	if prev != nil && reflect.DeepEqual(monitorOptions(prev.cfg), monitorOptions(cfg)) {
		g.checks = prev.checks
	} else {
		opts := monitorOptions(cfg)
		opts.Checker = probe.New(probe.Options{Timeout: cfg.Monitor.Timeout.Duration, SlowThreshold: cfg.Monitor.SlowThreshold.Duration})
		opts.Logger = a.logger
		opts.Salts = a.salts
		if cfg.Store.DSN != "" {
			// PostgreSQL, which instances share: each page counts the
			// visitors every instance answered.
			opts.Crowd = crowdStore{a.store}
		}
		mon, err := monitor.New(opts)
		if err != nil {
			return nil, err
		}
		g.checks = newMonitorRun(mon)
	}
	g.mon = g.checks.mon
	deps := public.Deps{Config: cfg, Catalog: catalog, Assets: assets, Status: g.mon, Events: a.recorder,
		Clock: realClock{}, Metrics: a.metrics, Logger: a.logger, Board: a.board}
	if cfg.Nginx.ErrorLog != "" {
		// Followed (serve.go): a page may read its own request's line.
		deps.Evidence = a.index
	}
	g.public, err = public.New(deps)
	if err != nil {
		return nil, err
	}
	if cfg.Server.AdminListen != "" {
		g.admin, err = admin.New(admin.Deps{Config: cfg, Catalog: catalog, Assets: assets,
			Store: a.store, Status: g.mon, Evidence: a.index, Gatherer: a.reg, Clock: realClock{}, Logger: a.logger, Notify: a.notifier, Ready: a.ready,
			Events: a.recorder})
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}

// monitorOptions is the part of cfg the monitor is made from, without the
// checker and logger, so that two configs can be compared.
func monitorOptions(cfg *config.Config) monitor.Options {
	return monitor.Options{
		Upstreams:     monitorUpstreams(cfg),
		Sites:         siteNames(cfg),
		Interval:      cfg.Monitor.Interval.Duration,
		DownInterval:  cfg.Monitor.DownInterval.Duration,
		MinInterval:   cfg.Monitor.MinInterval.Duration,
		Window:        cfg.Monitor.Window.Duration,
		DownThreshold: cfg.Monitor.DownThreshold,
	}
}

// start runs the generation's checks (a shared monitor already runs).
func (g *generation) start(ctx context.Context) { g.checks.run(ctx) }

// retireFor stops what g runs that next does not share; only the first
// call does anything.
func (g *generation) retireFor(next *generation) {
	g.retire.Do(func() {
		if next == nil || next.checks != g.checks {
			g.checks.stop()
		}
	})
}

func (a *app) servePublic(w http.ResponseWriter, r *http.Request) {
	a.current.Load().public.ServeHTTP(w, r)
}

func (a *app) serveAdmin(w http.ResponseWriter, r *http.Request) {
	g := a.current.Load()
	if g.admin == nil {
		http.Error(w, "admin listener disabled by the running config", http.StatusServiceUnavailable)
		return
	}
	g.admin.ServeHTTP(w, r)
}

// watchHangup subscribes to SIGHUP now, so that a signal arriving as soon
// as the listeners are up is not the default action (exit), and returns
// the loop that rereads the config on every one.
func (a *app) watchHangup(load func() (*config.Config, error)) func(context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return func(ctx context.Context) {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				a.reload(ctx, load)
			}
		}
	}
}

// reload is one transaction: read and validate the file, build the whole
// new generation, start it, swap it in between two requests, and retire
// the old one. A config with a problem, or a generation that cannot be
// built, is refused, with the file and line, and the running one stays.
// Reloads never overlap.
func (a *app) reload(ctx context.Context, load func() (*config.Config, error)) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	old := a.current.Load()
	cfg, err := load()
	if err != nil {
		a.logger.Error("config reload refused; still serving the previous config", "err", err)
		return
	}
	g, err := a.build(cfg, old)
	if err != nil {
		a.logger.Error("config reload refused; still serving the previous config", "err", err)
		return
	}
	for _, f := range restartOnly(old.cfg, cfg) {
		a.logger.Warn("config reload: this setting changes only on restart", "key", f)
	}
	logLogins(a.logger, cfg)
	g.start(ctx)
	a.current.Store(g)
	old.retireFor(g)
	a.logger.Info("config reloaded", "source", cfg.Source, "sites", len(cfg.Sites))
}

// restartOnly lists the settings that differ between two configs but are
// read only at start: listeners, storage and the nginx log.
func restartOnly(old, cur *config.Config) []string {
	var out []string
	for _, f := range []struct {
		key      string
		old, cur string
	}{
		{"server.listen", old.Server.Listen, cur.Server.Listen},
		{"server.admin_listen", old.Server.AdminListen, cur.Server.AdminListen},
		{"server.data_dir", old.Server.DataDir, cur.Server.DataDir},
		{"store.dsn", old.Store.DSN, cur.Store.DSN},
		{"store.retention", old.Store.Retention.String(), cur.Store.Retention.String()},
		{"store.event_rows_per_second", strconv.Itoa(old.Store.EventRowsPerSecond), strconv.Itoa(cur.Store.EventRowsPerSecond)},
		{"server.memory_limit", strconv.FormatInt(old.Server.MemoryLimit.Bytes, 10), strconv.FormatInt(cur.Server.MemoryLimit.Bytes, 10)},
		{"nginx.error_log", old.Nginx.ErrorLog, cur.Nginx.ErrorLog},
		{"monitor.quiet_period", old.Monitor.QuietPeriod.String(), cur.Monitor.QuietPeriod.String()},
		{"notify", fmt.Sprint(old.Notify), fmt.Sprint(cur.Notify)},
		{"site.status_page", fmt.Sprint(statusPages(old)), fmt.Sprint(statusPages(cur))},
	} {
		if f.old != f.cur {
			out = append(out, f.key)
		}
	}
	return out
}

func statusPages(cfg *config.Config) [][]config.StatusPage {
	out := make([][]config.StatusPage, len(cfg.Sites))
	for i, s := range cfg.Sites {
		out[i] = s.StatusPages
	}
	return out
}

// upstreamStates is the current monitor's view, for incident closing.
func (a *app) upstreamStates() []incident.UpstreamState {
	g := a.current.Load()
	var out []incident.UpstreamState
	for _, site := range siteNames(g.cfg) {
		for _, u := range g.mon.Status(site).Upstreams {
			out = append(out, incident.UpstreamState{Site: site, Upstream: u.Name, Up: u.Up, Since: u.Since})
		}
	}
	return out
}

// monitored is the current generation's sites and monitor, for metrics.
func (a *app) monitored() ([]string, metrics.Monitor) {
	g := a.current.Load()
	return siteNames(g.cfg), g.mon
}
