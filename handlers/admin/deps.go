package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/signin"
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
	signin.Store
	signin.LimitStore
}

// Deps is everything the admin listener needs. Every field but Ready is
// required: New returns an error naming each that is nil, so a forgotten
// one fails at start, not on the first request.
type Deps struct {
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

func (d Deps) check() error {
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
			errs = append(errs, errors.New("admin: Deps."+f.name+" is nil"))
		}
	}
	return errors.Join(errs...)
}

// adminDeps is what the admin handlers share.
type adminDeps struct {
	Deps
	trust trust.Proxies
	// realIPTrust decides whose X-Real-IP the sign-in limits believe.
	realIPTrust trust.Proxies
	sessions    *signin.Sessions
	limits      *signin.Limits
	verifier    *signin.Passwords
	csrfKey     []byte // signs the CSRF tokens of proxy-authenticated users
}

// Handler is the admin listener's handler (see routes.go for its URL
// surface).
type Handler struct {
	h http.Handler
}

// ServeHTTP serves one request of the admin listener.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.h.ServeHTTP(w, r) }

// New returns the admin listener's handler, or an error naming every
// required dependency that is missing.
func New(d Deps) (*Handler, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	ad, err := newAdminDeps(d)
	if err != nil {
		return nil, err
	}
	return &Handler{h: httpx.Recoverer(d.Logger, ad.Error, httpx.SecurityHeaders(newAdminRouter(ad)))}, nil
}

func newAdminDeps(d Deps) (*adminDeps, error) {
	v, err := signin.NewPasswords(d.Config.Admin.Users)
	if err != nil {
		return nil, err
	}
	if d.Ready == nil {
		d.Ready = incident.NewHealth(d.Store, d.Logger, d.Clock.Now)
	}
	return &adminDeps{
		Deps:        d,
		trust:       trust.New(d.Config.Server.TrustedProxies),
		realIPTrust: trust.New(d.Config.Admin.TrustedProxies),
		sessions:    signin.NewSessions(d.Store, sessionTTL),
		limits:      signin.NewLimits(d.Store, d.Logger),
		verifier:    v,
		csrfKey:     signin.RandomBytes(32),
	}, nil
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
