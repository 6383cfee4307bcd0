package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// Upstream is one configured upstream of a site, as the configuration
// names it. Check is the URL probed (http, https or tcp://host:port); Addrs
// are the addresses nginx may report for it in $upstream_addr (ip:port,
// [ipv6]:port or unix:/path). An upstream without Check is probed only at a
// reported address that is listed in Addrs, with a TCP connect.
type Upstream struct {
	Site  string
	Name  string
	Check string
	Addrs []string
}

// Checker runs one check; *probe.Prober satisfies it. It must honour ctx:
// Run waits for checks in flight before it returns.
type Checker interface {
	Check(ctx context.Context, t probe.Target) probe.Result
}

// Options configures a Monitor. Zero durations and thresholds take the
// defaults noted.
type Options struct {
	Upstreams []Upstream
	// Sites names sites that have no upstream, so that their visitors are
	// still counted; sites with upstreams need not be listed.
	Sites   []string
	Checker Checker
	Clock   Clock // default the wall clock
	// Interval between background checks of an upstream that is up
	// (default 30s).
	Interval time.Duration
	// DownInterval between checks of an upstream that is down, so recovery
	// shows quickly (default 5s). It doubles with each further failure up
	// to MaxDownInterval, so that a long outage is not polled hard.
	DownInterval time.Duration
	// MaxDownInterval caps that backoff (default Interval).
	MaxDownInterval time.Duration
	// MinInterval is the least time between the starts of two checks of the
	// same upstream, however many pages ask (default 2s).
	MinInterval time.Duration
	// Window is how far back affected visitors count (default 5m).
	Window time.Duration
	// DownThreshold is the number of distinct affected visitors in Window
	// that makes a site down for everyone even when its check passes
	// (default 20).
	DownThreshold int
	// RecoveryPeriod is how long a site stays "recovering" after its origin
	// comes back (default 2m).
	RecoveryPeriod time.Duration
	Logger         *slog.Logger // default discards
	// Salts gives the visitor-hash salt of each day, shared through the
	// store; nil keeps a random one per process and day.
	Salts SaltSource
	// Crowd shares the affected visitors among the instances sharing a
	// store, so that each counts everyone's (Affected), not only those
	// it answered; nil counts this instance's alone. It needs Salts, so
	// that a visitor has one hash on every instance.
	Crowd Crowd
	// CrowdEvery is how often the crowd is synced (default 2s).
	CrowdEvery time.Duration
}

// Defaults for zero Options fields.
const (
	DefaultInterval       = 30 * time.Second
	DefaultDownInterval   = 5 * time.Second
	DefaultMinInterval    = 2 * time.Second
	DefaultWindow         = 5 * time.Minute
	DefaultDownThreshold  = 20
	DefaultRecoveryPeriod = 2 * time.Minute
	DefaultCrowdEvery     = 2 * time.Second
)

// Monitor holds the status of every configured upstream. It is safe for
// concurrent use; create it with New and start its checks with Run.
type Monitor struct {
	opts    Options
	clock   Clock
	log     *slog.Logger
	epoch   time.Time        // origin of mono: monotonic on the wall clock
	sites   map[string]*site // read-only after New
	names   []string
	ups     []*upstream
	flight  singleflight.Group
	run     atomic.Pointer[runState]
	runMu   sync.Mutex // serializes Run's start and stop
	salt    atomic.Pointer[salt]
	saltMu  sync.Mutex
	counter counters
}

// site is one site's upstreams, address index and visitors.
type site struct {
	name     string
	ups      []*upstream
	byIP     map[netip.AddrPort]*upstream // configured ip:port addrs
	byName   map[string]*upstream         // configured unix:/path and host:port addrs, lower case
	visitors visitorWindow
	pubMu    sync.Mutex // serializes publish
	snap     atomic.Pointer[siteSnap]
}

// upstream is the live state of one configured upstream.
type upstream struct {
	cfg       Upstream
	site      *site
	key       string                       // singleflight key
	fixed     bool                         // the target is the configured check URL
	target    atomic.Pointer[probe.Target] // nil until there is something we may probe
	lastStart atomic.Int64                 // mono time of the last start, 0 for never
	inflight  atomic.Bool
	wanted    atomic.Bool   // a contradicted result asks for a check when the gate opens
	kick      chan struct{} // wakes the background loop; capacity 1
	visitors  visitorWindow // distinct visitors with errors on this upstream
	mu        sync.Mutex
	st        upState       // guarded by mu
	done      chan struct{} // closed and replaced when a check completes; guarded by mu
}

// upState is the result history of an upstream.
type upState struct {
	last     probe.Result
	has      bool
	up       bool
	since    time.Time
	checks   int
	failures int       // consecutive failed checks
	next     time.Time // when the next background check is due
	done     time.Time // when the last check completed
	started  time.Time // when the last completed check started
	// recovered is when the upstream last went from down to up: within
	// RecoveryPeriod of it, it counts as having failed recently.
	recovered time.Time
}

// runState is one Run's lifetime: on-demand probes borrow its context and
// are waited for when it ends.
type runState struct {
	ctx     context.Context
	mu      sync.RWMutex
	stopped bool
	wg      sync.WaitGroup
}

// New validates opts and returns a Monitor with every site in state
// unknown. It does not start any check; Run does.
func New(opts Options) (*Monitor, error) {
	if opts.Checker == nil {
		return nil, errors.New("monitor: Options.Checker is required")
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.Interval, DefaultInterval)
	def(&opts.DownInterval, DefaultDownInterval)
	def(&opts.MaxDownInterval, opts.Interval)
	def(&opts.MinInterval, DefaultMinInterval)
	def(&opts.Window, DefaultWindow)
	def(&opts.RecoveryPeriod, DefaultRecoveryPeriod)
	def(&opts.CrowdEvery, DefaultCrowdEvery)
	if opts.DownThreshold <= 0 {
		opts.DownThreshold = DefaultDownThreshold
	}
	m := &Monitor{opts: opts, clock: opts.Clock, log: opts.Logger, sites: map[string]*site{}}
	m.epoch = m.clock.Now()
	m.counter.failures = map[probe.Class]uint64{}
	siteOf := func(name string) *site {
		s := m.sites[name]
		if s == nil {
			s = &site{name: name, byIP: map[netip.AddrPort]*upstream{}, byName: map[string]*upstream{}}
			s.visitors.init(opts.Crowd != nil)
			m.sites[name] = s
			m.names = append(m.names, name)
		}
		return s
	}
	for _, name := range opts.Sites {
		if name == "" {
			return nil, errors.New("monitor: empty site name")
		}
		siteOf(name)
	}
	for i, cfg := range opts.Upstreams {
		if cfg.Site == "" || cfg.Name == "" {
			return nil, fmt.Errorf("monitor: upstream %d needs a site and a name", i)
		}
		s := siteOf(cfg.Site)
		for _, u := range s.ups {
			if u.cfg.Name == cfg.Name {
				return nil, fmt.Errorf("monitor: site %q has two upstreams named %q", cfg.Site, cfg.Name)
			}
		}
		u := &upstream{cfg: cfg, site: s, key: cfg.Site + "\x00" + cfg.Name, kick: make(chan struct{}, 1), done: make(chan struct{})}
		u.visitors.init(opts.Crowd != nil)
		if cfg.Check != "" {
			t := probe.Target{URL: cfg.Check}
			if err := t.Validate(); err != nil {
				return nil, fmt.Errorf("monitor: site %q upstream %q: %w", cfg.Site, cfg.Name, err)
			}
			u.fixed = true
			u.target.Store(&t)
		}
		for _, a := range cfg.Addrs {
			if err := s.index(a, u); err != nil {
				return nil, fmt.Errorf("monitor: site %q upstream %q: %w", cfg.Site, cfg.Name, err)
			}
		}
		s.ups = append(s.ups, u)
		m.ups = append(m.ups, u)
	}
	for _, s := range m.sites {
		s.snap.Store(&siteSnap{origin: HopUnknown})
		m.publish(s, m.clock.Now())
	}
	return m, nil
}

// index adds a configured address of u to the site's lookup tables.
func (s *site) index(addr string, u *upstream) error {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if other := s.byIP[ap]; other != nil {
			return fmt.Errorf("addr %q is also listed for upstream %q", addr, other.cfg.Name)
		}
		s.byIP[ap] = u
		return nil
	}
	key := strings.ToLower(addr)
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return fmt.Errorf("addr %q has no socket path", addr)
		}
		key = addr // paths are case-sensitive
	} else if host, port, err := net.SplitHostPort(addr); err != nil || host == "" || port == "" {
		return fmt.Errorf("addr %q is not ip:port, host:port or unix:/path", addr)
	}
	if other := s.byName[key]; other != nil {
		return fmt.Errorf("addr %q is also listed for upstream %q", addr, other.cfg.Name)
	}
	s.byName[key] = u
	return nil
}

// Sites returns the names of the sites the monitor knows, in configuration
// order.
func (m *Monitor) Sites() []string {
	return append([]string(nil), m.names...)
}

// mono converts t to nanoseconds since the monitor was created, on the
// monotonic clock when t carries one, so wall-clock jumps do not open or
// shut the gate. It is never 0 for t after the epoch, so 0 can mean never.
func (m *Monitor) mono(t time.Time) int64 {
	return int64(t.Sub(m.epoch)) + 1
}

// Run checks every upstream in the background until ctx is done, then waits
// for checks in flight and returns nil. On-demand checks asked for by
// Observe run only while Run does. Run returns an error if it is already
// running.
func (m *Monitor) Run(ctx context.Context) error {
	m.runMu.Lock()
	if m.run.Load() != nil {
		m.runMu.Unlock()
		return errors.New("monitor: already running")
	}
	rs := &runState{ctx: ctx}
	m.run.Store(rs)
	m.runMu.Unlock()

	var loops sync.WaitGroup
	for _, u := range m.ups {
		loops.Go(func() { m.loop(ctx, u) })
	}
	loops.Go(func() { m.pruneLoop(ctx) })
	if m.opts.Crowd != nil {
		loops.Go(func() { m.crowdLoop(ctx) })
	}
	<-ctx.Done()
	loops.Wait()

	m.runMu.Lock()
	rs.mu.Lock()
	rs.stopped = true
	rs.mu.Unlock()
	m.run.Store(nil)
	m.runMu.Unlock()
	rs.wg.Wait()
	return nil
}

// pruneLoop expires visitors that fell out of the window even when nobody
// new arrives, so Affected decays on its own.
func (m *Monitor) pruneLoop(ctx context.Context) {
	every := m.opts.Window / pruneSteps
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.clock.After(every):
		}
		now := m.mono(m.clock.Now())
		for _, s := range m.sites {
			s.visitors.prune(now, int64(m.opts.Window))
			for _, u := range s.ups {
				u.visitors.prune(now, int64(m.opts.Window))
			}
		}
	}
}
