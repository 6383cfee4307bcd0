package public

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/cache"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident/record"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/trust"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

// StatusSource is the monitor as the public handler needs it: the cached
// state of the upstream a request failed on, a note that a visitor met an
// error (which names that upstream), and a short wait for a fresh check
// when the cache is older than the failure.
type StatusSource interface {
	Upstream(site, upstream string) monitor.UpstreamView
	Observe(site string, v monitor.Visit) (upstream string, visitor [16]byte)
	Fresh(ctx context.Context, site, upstream string, since time.Time) monitor.UpstreamView
	VisitorKey(ip, userAgent string) [16]byte
}

// Recorder takes the event of one error response. It must not block: a
// full queue drops the event (and counts it) rather than slow a page.
type Recorder interface {
	Record(record.Event) bool
}

// Clock tells the time, so that tests can fix it.
type Clock interface {
	Now() time.Time
}

// Metrics counts what the public listener serves; the admin listener
// publishes it.
type Metrics interface {
	PageServed(site string, code int, locale, format string)
}

// publicDeps is everything the public handlers share.
type publicDeps struct {
	cfg      *config.Config
	catalog  *locales.Catalog
	assets   *static.Set
	logos    map[string]string // site name -> logo URL
	status   StatusSource
	events   Recorder
	trust    trust.Proxies
	clock    Clock
	metrics  Metrics
	logger   *slog.Logger
	board    AnnouncementSource
	evidence Evidence // nil without nginx.error_log

	// What the handlers derive from configuration and live state, each
	// kept in one bounded cache (internal/cache).
	pages     *cache.Cache[variantKey, *prepared]
	announces *cache.Cache[announceKey, *announceHTML]
	verdicts  *cache.Cache[verdictKey, *verdictHTML]
	formats   *cache.Cache[string, format]         // by Accept header
	statuses  *cache.Cache[statusKey, *statusBody] // encoded status responses
	prefixes  *cache.Cache[statusKey, string]      // poll URL prefixes
	lengths   *cache.Cache[int, []string]          // Content-Length values
	framer    *framer                              // gzip pages compressed whole, per value lengths
	// langHeaders are the Content-Language values, and pageCSP the HTML
	// page's policy per site, built once.
	langHeaders map[string][]string
	pageCSP     map[string][]string
}

func (d *publicDeps) pagesServed(site string, code int, locale string, f format) {
	d.metrics.PageServed(site, code, locale, f.String())
}

// Deps is everything the public listener needs. Every field is
// required: New returns an error naming each that is nil, so a forgotten
// one fails at start, not on the first request.
type Deps struct {
	Config  *config.Config
	Catalog *locales.Catalog
	Assets  *static.Set // the page's CSS, script and images, the sites' logos
	Status  StatusSource
	Events  Recorder
	Clock   Clock
	Metrics Metrics
	Logger  *slog.Logger
	Board   AnnouncementSource
	// Evidence, optional, is nginx's error.log as gatewatch follows it
	// (nginx.error_log): a failure whose variables say only "bad answer"
	// is the visitor's own when nginx's line says the answer's header was
	// too big for its buffer (their cookies). Nil: variables alone.
	Evidence Evidence
}

// Evidence finds nginx's error.log lines by connection number and time,
// without allocating; *nginxlog.Index is one.
type Evidence interface {
	RequestKey(method, path string) uint64
	EachNear(conn int64, at time.Time, window time.Duration, fn func(nginxlog.Line) bool)
}

func (d Deps) check() error {
	var errs []error
	for _, f := range []struct {
		name string
		nil  bool
	}{
		{"Config", d.Config == nil}, {"Catalog", d.Catalog == nil}, {"Assets", d.Assets == nil},
		{"Status", d.Status == nil}, {"Events", d.Events == nil}, {"Clock", d.Clock == nil},
		{"Metrics", d.Metrics == nil}, {"Logger", d.Logger == nil}, {"Board", d.Board == nil},
	} {
		if f.nil {
			errs = append(errs, errors.New("public: Deps."+f.name+" is nil"))
		}
	}
	return errors.Join(errs...)
}

// Handler is the public listener's handler: the error pages nginx sends
// visitors to, and the /_gatewatch/ endpoints their browsers call (see
// routes.go).
type Handler struct {
	h http.Handler
}

// ServeHTTP serves one request of the public listener.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.h.ServeHTTP(w, r) }

// New returns the public listener's handler, built from d once: caches,
// per-site headers and the router.
func New(in Deps) (*Handler, error) {
	d, err := newPublicDeps(in)
	if err != nil {
		return nil, err
	}
	// The security headers go on every response, the error page's too:
	// SecurityHeaders allocates nothing (see httpx/security.go).
	return &Handler{h: httpx.Recoverer(d.logger, d.Error, httpx.SecurityHeaders(d.routes()))}, nil
}

func newPublicDeps(in Deps) (*publicDeps, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	cfg, catalog, assets := in.Config, in.Catalog, in.Assets
	d := &publicDeps{
		cfg: cfg, catalog: catalog, assets: assets, status: in.Status, events: in.Events, clock: in.Clock,
		metrics: in.Metrics, logger: in.Logger, board: in.Board, evidence: in.Evidence,
		trust:       trust.New(cfg.Server.TrustedProxies),
		logos:       map[string]string{},
		langHeaders: map[string][]string{},
		pageCSP:     map[string][]string{},
		pages:       cache.New[variantKey, *prepared](maxPrepared),
		announces:   cache.New[announceKey, *announceHTML](maxSections),
		verdicts:    cache.New[verdictKey, *verdictHTML](maxSections),
		formats:     cache.New[string, format](maxFormatCache),
		statuses:    cache.New[statusKey, *statusBody](maxSections),
		prefixes:    cache.New[statusKey, string](maxSections),
		lengths:     cache.New[int, []string](maxCachedLengths),
		framer:      newFramer(),
	}
	for _, l := range catalog.Languages() {
		d.langHeaders[l.Code] = []string{l.Code}
	}
	for _, s := range cfg.Sites {
		d.logos[s.Name] = assets.URL(LogoAsset(s.Name, cfg.LogoPath(&s)))
		d.pageCSP[s.Name] = []string{pageCSP(&s)}
	}
	return d, nil
}
