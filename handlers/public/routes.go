package public

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
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
	Observe(site string, v monitor.Visit) (upstream string)
	Fresh(ctx context.Context, site, upstream string, since time.Time) monitor.UpstreamView
	VisitorKey(ip, userAgent string) [16]byte
}

// Recorder takes the event of one error response. It must not block: a
// full queue drops the event (and counts it) rather than slow a page.
type Recorder interface {
	Record(incident.Event) bool
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

// allMethods are the methods a failed request may have had.
var allMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

func otherMethods(allowed []string) []string {
	var out []string
	for _, m := range allMethods {
		if !slices.Contains(allowed, m) {
			out = append(out, m)
		}
	}
	return out
}

// publicDeps is everything the public handlers share.
type publicDeps struct {
	cfg     *config.Config
	catalog *locales.Catalog
	assets  *static.Set
	logos   map[string]string // site name -> logo URL
	status  StatusSource
	events  Recorder
	trust   trust.Proxies
	clock   Clock
	metrics Metrics
	logger  *slog.Logger
	board   AnnouncementSource

	pages     pageCache
	announces announceCache
	verdicts  verdictCache
	formats   formatCache
	statuses  statusCache
	prefixes  latest[statusKey, string] // poll URL prefixes
	lengths   lengthHeaders
	// langHeaders are the Content-Language values, and pageCSP the HTML
	// page's policy per site, built once.
	langHeaders map[string][]string
	pageCSP     map[string][]string
}

func (d *publicDeps) pagesServed(site string, code int, locale string, f format) {
	d.metrics.PageServed(site, code, locale, f.String())
}

// NewPublic returns the public listener's handler: the error pages nginx
// sends visitors to, and the /_gatewatch/ endpoints their browsers call.
func NewPublic(cfg *config.Config, catalog *locales.Catalog, assets *static.Set, status StatusSource,
	events Recorder, clock Clock, metrics Metrics, logger *slog.Logger, board AnnouncementSource) http.Handler {
	d := &publicDeps{
		cfg: cfg, catalog: catalog, assets: assets, status: status, events: events, clock: clock, metrics: metrics, logger: logger,
		board:       board,
		trust:       trust.New(cfg.Server.TrustedProxies),
		logos:       map[string]string{},
		langHeaders: map[string][]string{},
		pageCSP:     map[string][]string{},
	}
	for _, l := range catalog.Languages() {
		d.langHeaders[l.Code] = []string{l.Code}
	}
	for _, s := range cfg.Sites {
		d.logos[s.Name] = assets.URL(LogoAsset(s.Name, cfg.LogoPath(&s)))
		d.pageCSP[s.Name] = []string{pageCSP(&s)}
	}
	errorPage := handleErrorPage(d)

	r := mux.NewRouter()
	gw := r.PathPrefix("/_gatewatch/").Subrouter()
	notAllowed := withCode(http.StatusMethodNotAllowed, errorPage)
	for _, rt := range []struct {
		path    string
		h       http.Handler
		methods []string
	}{
		{"/static/{name}", httpx.Static(assets), []string{http.MethodGet, http.MethodHead}},
		{"/api/v1/status", handleStatus(d), []string{http.MethodGet, http.MethodHead}},
		{"/clear-site-data", handleClearSiteData(d), []string{http.MethodPost}},
		{"/error/{code}", handleErrorRoute(errorPage), allMethods},
	} {
		gw.Handle(rt.path, rt.h).Methods(rt.methods...)
		// mux lets a later catch-all win over a method mismatch, so the
		// other methods get their 405 explicitly.
		gw.Handle(rt.path, notAllowed).Methods(otherMethods(rt.methods)...)
	}
	// Methods upper-cases the slice it is given in place: each route gets
	// its own copy, so that building a router (on SIGHUP) never writes
	// what a running one reads.
	gw.PathPrefix("/").Handler(withCode(http.StatusNotFound, errorPage)).Methods(slices.Clone(allMethods)...)

	// Every other path is an error page: nginx proxies the failed request
	// here as it was, whatever its method.
	r.PathPrefix("/").Handler(errorPage).Methods(slices.Clone(allMethods)...)
	r.MethodNotAllowedHandler = notAllowed
	r.NotFoundHandler = withCode(http.StatusNotFound, errorPage)
	return httpx.Recoverer(logger, fastPath(r, errorPage))
}

// fastPath sends every request outside /_gatewatch/ straight to the
// error page, as the router's catch-all would, without the router's
// per-request matching and context: that path is the one an outage
// floods.
func fastPath(r *mux.Router, errorPage http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, "/_gatewatch/") && slices.Contains(allMethods, req.Method) {
			errorPage.ServeHTTP(w, req)
			return
		}
		r.ServeHTTP(w, req)
	})
}
