package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/trust"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

// AdminStatus is the monitor as the admin pages need it: the cached status
// of a site with its upstreams' latest checks. It never waits on a probe.
type AdminStatus interface {
	Status(site string) monitor.SiteStatus
}

// EvidenceSource finds nginx's own error.log lines for a request by its
// connection number; *nginxlog.Index satisfies it. Pass an empty
// nginxlog.NewIndex(0) when no error_log is followed.
type EvidenceSource interface {
	LookupNear(conn int64, at time.Time, window time.Duration) []nginxlog.Entry
}

// AdminStore is the read side of incident.Store that the admin pages use.
type AdminStore interface {
	Event(ctx context.Context, requestID string) (incident.Event, error)
	Incident(ctx context.Context, id int64) (incident.Incident, error)
	Incidents(ctx context.Context, f incident.Filter) ([]incident.Incident, error)
	EventsForIncident(ctx context.Context, id int64, limit int) ([]incident.Event, error)
	Series(ctx context.Context, site string, since time.Time, bucket time.Duration) ([]incident.Bucket, error)
	Visitors(ctx context.Context, site string, since time.Time) (int64, error)
	Ping(ctx context.Context) error
	Timeline(ctx context.Context, id int64) ([]incident.TimelineEntry, error)
	Announcements(ctx context.Context, site string, endAfter time.Time, limit int) ([]incident.Announcement, error)
	AddAnnouncement(ctx context.Context, a incident.Announcement) (int64, error)
	EndAnnouncement(ctx context.Context, id int64, at time.Time) error
	SessionStore
}

// AdminDeps is everything the admin listener needs. It is a struct rather
// than a parameter list because there are ten dependencies and several share
// a type; every field is required, and NewAdminHandler returns an error
// naming any that is nil, so a forgotten one fails at start, not on the
// first request.
type AdminDeps struct {
	Config   *config.Config
	Catalog  *locales.Catalog
	Assets   *static.Set // serves gatewatch.css and admin.css to the pages
	Store    AdminStore
	Status   AdminStatus
	Evidence EvidenceSource
	Gatherer prometheus.Gatherer
	Clock    Clock
	Logger   *slog.Logger
	Notify   NotifyStats
	// Ready answers /readyz; nil checks the Store alone.
	Ready  Readiness
	Events EventStats
}

// Clock tells the time, so that tests can fix it.
type Clock interface {
	Now() time.Time
}

// Readiness says whether this instance should get traffic: nil, or why
// not. It logs the changes itself, once each, not per request.
type Readiness interface {
	Check(ctx context.Context) error
}

// EventStats are the event recorder's counters; *incident.Recorder
// satisfies it. The dashboard shows what was lost.
type EventStats interface {
	Stats() incident.RecorderStats
}

func (d AdminDeps) check() error {
	var errs []error
	for _, f := range []struct {
		name string
		nil  bool
	}{
		{"Config", d.Config == nil}, {"Catalog", d.Catalog == nil}, {"Assets", d.Assets == nil},
		{"Store", d.Store == nil}, {"Status", d.Status == nil}, {"Evidence", d.Evidence == nil},
		{"Gatherer", d.Gatherer == nil}, {"Clock", d.Clock == nil}, {"Logger", d.Logger == nil},
		{"Notify", d.Notify == nil}, {"Events", d.Events == nil},
	} {
		if f.nil {
			errs = append(errs, errors.New("handlers: AdminDeps."+f.name+" is nil"))
		}
	}
	return errors.Join(errs...)
}

// Admin paths. Staff and the public page's "for site staff" link use
// them; keep them stable.
const (
	adminHome      = "/admin/"
	adminLoginPath = "/admin/login"
	adminLogout    = "/admin/logout"
	adminSearch    = "/admin/search"
	adminRefPrefix = "/admin/r/"
	adminIncPrefix = "/admin/incidents/"
	adminAPIPrefix = "/admin/api/"
)

// adminDeps is what the admin handlers share.
type adminDeps struct {
	AdminDeps
	trust trust.Proxies
	// realIPTrust decides whose X-Real-IP the sign-in limits believe.
	realIPTrust trust.Proxies
	sessions    *sessionStore
	limits      *loginLimits
	verifier    *passwordVerifier
	csrfKey     []byte // signs the CSRF tokens of proxy-authenticated users
}

// NewAdminHandler returns the admin listener's handler:
//
//	GET  /healthz, /readyz                 no sign-in (readyz pings the store)
//	GET  /_gatewatch/static/{name}         the pages' CSS, no sign-in
//	GET  /admin/login, POST /admin/login   the sign-in form
//	POST /admin/logout                     ends the session (CSRF)
//	GET  /admin/                           dashboard
//	GET  /admin/incidents/{id}             an incident's diagnosis
//	GET  /admin/r/{request-id}             the request a visitor quoted, with its incident
//	GET  /admin/search?q=                  the reference box: redirects to the request
//	GET  /admin/announcements              staff messages on the error pages; POST (CSRF) publishes
//	POST /admin/announcements/{id}/end     ends one (CSRF)
//	GET  /admin/api/v1/...                 the same data as JSON; POST and DELETE
//	                                       /admin/api/v1/announcements[/{id}] publish and end
//	GET  /metrics                          Prometheus metrics (also with admin.metrics_token)
//
// Pages without a session redirect to the sign-in form, keeping the link;
// the API and /metrics answer 401 and also take HTTP Basic credentials of
// an [[admin.user]], for scripts and Prometheus.
func NewAdminHandler(d AdminDeps) (http.Handler, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	ad, err := newAdminDeps(d)
	if err != nil {
		return nil, err
	}
	return httpx.Recoverer(d.Logger, newAdminRouter(ad)), nil
}

func newAdminDeps(d AdminDeps) (*adminDeps, error) {
	v, err := newPasswordVerifier(d.Config.Admin.Users)
	if err != nil {
		return nil, err
	}
	if d.Ready == nil {
		d.Ready = incident.NewHealth(d.Store, d.Logger, d.Clock.Now)
	}
	return &adminDeps{
		AdminDeps:   d,
		trust:       trust.New(d.Config.Server.TrustedProxies),
		realIPTrust: trust.New(d.Config.Admin.TrustedProxies),
		sessions:    newSessionStore(d.Store, sessionTTL),
		limits:      newLoginLimits(),
		verifier:    v,
		csrfKey:     randomBytes(32),
	}, nil
}

// adminRoute is one entry of the admin URL surface.
type adminRoute struct {
	path    string
	methods []string
	auth    authPolicy
	h       http.Handler
}

// authPolicy says what a route demands of the client.
type authPolicy int

const (
	authNone    authPolicy = iota // health, static assets, the sign-in form
	authPage                      // signed in, or a redirect to the sign-in form
	authAPI                       // signed in or HTTP Basic, or 401
	authMetrics                   // authAPI, or admin.metrics_token as a bearer token
)

func newAdminRouter(d *adminDeps) *mux.Router {
	getHead := []string{http.MethodGet, http.MethodHead}
	routes := []adminRoute{
		{"/healthz", getHead, authNone, http.HandlerFunc(handleHealthz)},
		{"/readyz", getHead, authNone, handleReadyz(d)},
		{static.Prefix + "{name}", getHead, authNone, httpx.Static(d.Assets)},
		{"/", getHead, authNone, http.RedirectHandler(adminHome, http.StatusSeeOther)},
		{"/admin", getHead, authNone, http.RedirectHandler(adminHome, http.StatusSeeOther)},
		{adminLoginPath, getHead, authNone, handleLoginForm(d)},
		{adminLoginPath, []string{http.MethodPost}, authNone, handleLogin(d)},
		{adminLogout, []string{http.MethodPost}, authPage, d.requireCSRF(handleLogout(d))},
		{adminHome, getHead, authPage, handleDashboard(d)},
		{adminIncPrefix + "{id:[0-9]+}", getHead, authPage, handleIncident(d)},
		{adminRefPrefix + "{rid}", getHead, authPage, handleRequestRef(d)},
		{adminSearch, getHead, authPage, handleSearch(d)},
		{"/admin/api/v1/sites", getHead, authAPI, handleAPISites(d)},
		{"/admin/api/v1/incidents", getHead, authAPI, handleAPIIncidents(d)},
		{"/admin/api/v1/incidents/{id:[0-9]+}", getHead, authAPI, handleAPIIncident(d)},
		{"/admin/api/v1/events/{rid}", getHead, authAPI, handleAPIEvent(d)},
		{adminAnnounce, getHead, authPage, handleAnnouncements(d)},
		{adminAnnounce, []string{http.MethodPost}, authPage, d.requireCSRF(handleAnnounce(d))},
		{adminAnnounce + "/{id:[0-9]+}/end", []string{http.MethodPost}, authPage, d.requireCSRF(handleEndAnnounce(d))},
		{adminAPIAnnounce, getHead, authAPI, handleAPIAnnouncements(d)},
		{adminAPIAnnounce, []string{http.MethodPost}, authAPI, handleAPIAnnounce(d)},
		{adminAPIAnnounce + "/{id:[0-9]+}", []string{http.MethodDelete}, authAPI, handleAPIEndAnnounce(d)},
		{"/metrics", []string{http.MethodGet}, authMetrics, promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})},
	}
	r := mux.NewRouter()
	notAllowed := http.HandlerFunc(adminMethodNotAllowed)
	var m httpx.Methods
	for _, rt := range routes {
		m.Handle(r, rt.path, rt.methods, d.guard(rt.auth, rt.h))
	}
	m.NotAllowed(r, notAllowed)
	r.NotFoundHandler = http.HandlerFunc(adminNotFound)
	r.MethodNotAllowedHandler = notAllowed
	return r
}

// guard applies a route's auth policy before its handler.
func (d *adminDeps) guard(p authPolicy, h http.Handler) http.Handler {
	switch p {
	case authPage:
		return d.requirePage(h)
	case authAPI:
		return d.requireAPI(h)
	case authMetrics:
		return d.requireMetrics(h)
	}
	return h
}

func adminNotFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "not found", http.StatusNotFound)
}

func adminMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// readyTimeout bounds the store ping behind /readyz: a load balancer's
// check must get an answer even when the database hangs.
const readyTimeout = 2 * time.Second

// handleReadyz serves GET /readyz: 200 when Ready says so, 503
// otherwise (the store does not answer, its file is gone or read-only,
// writes fail, the instance drains). Why goes to the log, once per
// change, not to the unauthenticated client.
func handleReadyz(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		if err := d.Ready.Check(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
}

// handleHealthz serves GET /healthz: the process answers.
func handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}
