package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatewatch/gatewatch/handlers/public"
	"github.com/gatewatch/gatewatch/internal/activation"
	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/coalesce"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/metrics"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/notify"
	"github.com/gatewatch/gatewatch/static"
)

// Server limits: an error page server meets its heaviest traffic when
// things are already on fire, so slow and oversized clients are cut off.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
	shutdownTimeout   = 10 * time.Second
)

// announceRefresh is how often the board rereads announcements from the
// store (so that one published on another instance shows here), and
// noticePoll how often the notifier claims incident events.
const (
	announceRefresh = time.Second
	noticePoll      = time.Second
	// saltRefresh is how often the visitor salts are reread: today's and
	// tomorrow's are held, so this only needs to beat midnight by a day.
	saltRefresh = 10 * time.Minute
)

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	path := fs.String("config", "", "config file (default: $GATEWATCH_CONFIG, else the embedded default)")
	listen := fs.String("listen", "", "public listen address (overrides server.listen)")
	adminListen := fs.String("admin-listen", "", "admin listen address (overrides server.admin_listen)")
	dataDir := fs.String("data", "", "data directory (overrides server.data_dir)")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	// load reads the file, the environment and the flags, in that order;
	// SIGHUP calls it again.
	load := func() (*config.Config, error) {
		cfg, err := loadConfig(*path, getenv)
		if err != nil {
			return nil, err
		}
		if *listen != "" {
			cfg.Server.Listen = *listen
		}
		if *adminListen != "" {
			cfg.Server.AdminListen = *adminListen
		}
		if *dataDir != "" {
			cfg.Server.DataDir = *dataDir
		}
		return cfg, cfg.Recheck("flags")
	}
	cfg, err := load()
	if err != nil {
		return configError(err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	logLogins(logger, cfg)
	// GOMEMLIMIT, read by the runtime at start, wins over the config.
	if n := cfg.Server.MemoryLimit.Bytes; n > 0 && getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(n))
	}

	if err := os.MkdirAll(cfg.Server.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	store, err := incident.Open(ctx, cfg.Store.DSN, cfg.Server.DataDir)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer store.Close()
	index := nginxlog.NewIndex(0)
	health := incident.NewHealth(store, logger, time.Now)
	recorder := incident.NewRecorder(incident.EvidenceWriter{Next: health.Writer(store), Index: index},
		incident.RecorderOptions{RowsPerSecond: cfg.Store.EventRowsPerSecond, Logger: logger})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	notifier, err := notify.New(notify.Options{Targets: notify.Targets(cfg.Notify), Attempts: cfg.Notify.Attempts,
		AdminURL: cfg.Server.AdminURL, Timeline: store, Registerer: reg, Logger: logger})
	if err != nil {
		return err
	}
	// The visitor-hash salt comes from the store, so that instances sharing
	// it, and this one after a restart, count a visitor once.
	salts := incident.NewSalts(store, time.Now, logger)
	if err := salts.Refresh(ctx); err != nil {
		return fmt.Errorf("visitor salt: %w", err)
	}
	app := &app{store: store, index: index, recorder: recorder, salts: salts, reg: reg, metrics: public.NewMetrics(reg), logger: logger,
		board: announce.NewBoard(store, time.Now, logger), notifier: notifier}
	app.ready = drainGate{draining: &app.draining, next: health}
	gen, err := app.build(cfg, nil)
	if err != nil {
		return err
	}
	app.current.Store(gen)
	closing := incident.NewClosing(store, incident.ClosingOptions{States: app.upstreamStates,
		QuietPeriod: cfg.Monitor.QuietPeriod.Duration, Logger: logger})
	reg.MustRegister(metrics.NewCollector(metrics.Sources{Current: app.monitored, Recorder: recorder, CloseErrors: closing.Errors}))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gen.start(ctx)
	var bg sync.WaitGroup
	recDone := make(chan struct{})
	go func() { recorder.Run(ctx); close(recDone) }()
	bg.Go(func() { incident.RunRetention(ctx, store, time.Hour, cfg.Store.Retention.Duration, logger) })
	bg.Go(func() { closing.Run(ctx) })
	bg.Go(func() { app.board.Run(ctx, announceRefresh) })
	bg.Go(func() { salts.Run(ctx, saltRefresh) })
	bg.Go(func() { trimAfterStorms(ctx, trimEvery, heapAllocated, debug.FreeOSMemory) })
	for _, sp := range announce.Pages(cfg, app.board, time.Now, logger) {
		bg.Go(func() { sp.Run(ctx) })
	}
	bg.Go(func() { app.notifier.Run(ctx) })
	bg.Go(func() { app.notifier.Pump(ctx, store, noticePoll) })
	if cfg.Nginx.ErrorLog != "" {
		f := &nginxlog.Follower{Path: cfg.Nginx.ErrorLog, Location: time.Local,
			OnError: func(err error) { logger.Warn("nginx error.log", "path", cfg.Nginx.ErrorLog, "err", err) }}
		bg.Go(func() { f.Run(ctx, index.Add) })
	}
	terminated := watchTerm()
	defer signal.Stop(terminated)
	reloads := app.watchHangup(load)
	bg.Go(func() { reloads(ctx) })

	// The public listener sends each page in one write (internal/coalesce):
	// its headers and gzip body pass net/http's 4 KB connection buffer.
	servers := []*namedServer{{name: "public", addr: cfg.Server.Listen, handler: http.HandlerFunc(app.servePublic), coalesce: true}}
	if cfg.Server.AdminListen != "" {
		servers = append(servers, &namedServer{name: "admin", addr: cfg.Server.AdminListen, handler: http.HandlerFunc(app.serveAdmin)})
	}
	if err := takeSockets(servers, getenv); err != nil {
		return err
	}
	for _, s := range servers {
		if err := s.listen(); err != nil {
			for _, o := range servers {
				o.close()
			}
			return err
		}
	}
	printBanner(stdout, cfg, servers)

	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func(s *namedServer) { errc <- s.serve(logger) }(s)
	}
	select {
	case <-ctx.Done():
	case <-terminated:
		app.drain(ctx, servers)
	case err = <-errc:
		logger.Error("listener failed", "err", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	// In-flight requests finish first (Shutdown waits for them), then the
	// background work stops and the events queued meanwhile are written.
	for _, s := range servers {
		if serr := s.srv.Shutdown(sctx); serr != nil {
			logger.Warn("shutdown", "listener", s.name, "err", serr)
		}
	}
	cancel()
	bg.Wait()
	app.current.Load().retireFor(nil)
	if cerr := recorder.Close(sctx); cerr != nil {
		logger.Warn("flush events", "err", cerr)
	}
	<-recDone
	return err
}

func siteNames(cfg *config.Config) []string {
	out := make([]string, len(cfg.Sites))
	for i, s := range cfg.Sites {
		out[i] = s.Name
	}
	return out
}

type namedServer struct {
	name    string
	addr    string
	handler http.Handler
	ln      net.Listener
	srv     *http.Server
	// coalesce sends a response net/http splits at its buffer in one
	// writev (internal/coalesce); for listeners whose handlers never stream.
	coalesce bool
}

// listen binds the server's address, unless a supervisor passed its
// socket already bound (takeSockets).
func (s *namedServer) listen() error {
	if s.ln == nil {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w", s.name, err)
		}
		s.ln = ln
	}
	if s.coalesce {
		s.ln = coalesce.Listener(s.ln)
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	return nil
}

// takeSockets gives each server the socket passed to gatewatch under its
// name (systemd socket activation: LISTEN_FDS, LISTEN_FDNAMES), which it
// serves instead of binding its configured address. A passed socket that
// no server takes is an error: the admin socket when server.admin_listen
// is empty.
func takeSockets(servers []*namedServer, getenv func(string) string) error {
	passed, err := activation.Listeners(getenv, os.Getpid())
	if err != nil {
		return err
	}
	for _, s := range servers {
		if ln := passed[s.name]; ln != nil {
			s.ln = ln
			delete(passed, s.name)
		}
	}
	if _, ok := passed["admin"]; ok {
		for _, ln := range passed {
			ln.Close()
		}
		for _, s := range servers {
			s.close()
		}
		return errors.New("socket activation: an admin socket was passed, but server.admin_listen is empty")
	}
	return nil
}

func (s *namedServer) close() {
	if s.ln != nil {
		s.ln.Close()
	}
}

func (s *namedServer) serve(logger *slog.Logger) error {
	s.srv.ErrorLog = slog.NewLogLogger(logger.Handler().WithAttrs([]slog.Attr{slog.String("listener", s.name)}), slog.LevelWarn)
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s listener: %w", s.name, err)
	}
	return nil
}

// logLogins says who can sign in when that is surprising: the demo user
// of the embedded default (only ever when no file was given), or nobody.
func logLogins(logger *slog.Logger, cfg *config.Config) {
	switch {
	case cfg.Source == config.DefaultSource && len(cfg.Admin.Users) > 0:
		logger.Warn("no config file: serving the embedded demo config, whose admin user signs in with the password \"gatewatch\"; give --config FILE for real use",
			"user", cfg.Admin.Users[0].Name)
	case cfg.Server.AdminListen != "" && len(cfg.Admin.Users) == 0 && cfg.Admin.AuthHeader == "":
		logger.Warn("no [[admin.user]] and no admin.auth_header: nobody can sign in to the admin pages", "source", cfg.Source)
	}
}

// printBanner tells a new user where to look: the URLs actually bound
// (":0" in tests becomes a real port) and how to log in.
func printBanner(w io.Writer, cfg *config.Config, servers []*namedServer) {
	for _, s := range servers {
		u := "http://" + s.ln.Addr().String() + "/"
		switch s.name {
		case "public":
			fmt.Fprintf(w, "gatewatch %s: error pages on %s (any path, e.g. %scart)\n", bannerVersion(), u, u)
		case "admin":
			fmt.Fprintf(w, "gatewatch %s: admin on %sadmin/ (health %shealthz)\n", bannerVersion(), u, u)
		}
	}
	if cfg.Source == config.DefaultSource && len(cfg.Admin.Users) > 0 {
		fmt.Fprintf(w, "log in as %q with password \"gatewatch\" (the embedded default's demo user; set your own with `gatewatch hash-password`)\n", cfg.Admin.Users[0].Name)
	}
}

func monitorUpstreams(cfg *config.Config) []monitor.Upstream {
	var out []monitor.Upstream
	for _, s := range cfg.Sites {
		for _, u := range s.Upstreams {
			out = append(out, monitor.Upstream{Site: s.Name, Name: u.Name, Check: u.Check, Addrs: u.Addrs})
		}
	}
	return out
}

// loadAssets builds the static set with every site's logo added.
func loadAssets(cfg *config.Config) (*static.Set, error) {
	var extra []static.File
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		p := cfg.LogoPath(s)
		if p == "" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("site %q logo: %w", s.Name, err)
		}
		extra = append(extra, static.File{Logical: public.LogoAsset(s.Name, p), Body: b})
	}
	return static.New(extra...)
}
