package admin

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/static"
)

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

// newAdminRouter is the admin listener's whole URL surface, one subrouter
// per policy:
//
//	open     no sign-in: health, the pages' CSS, the sign-in form (POST is
//	         rate limited per client and user, see ratelimit.go)
//	page     signed in, or 303 to the sign-in form keeping the link
//	form     page, and the form's CSRF token, or 403
//	api      signed in or HTTP Basic of an [[admin.user]] (rate limited as
//	         the sign-in form), or 401; errors as problem+json
//	metrics  api, or admin.metrics_token as a bearer token
//
// A method a path does not take is 405, an unknown path 404 (text).
func newAdminRouter(d *adminDeps) *mux.Router {
	get, post, del := httpx.GetHead, []string{http.MethodPost}, []string{http.MethodDelete}
	var m httpx.Methods
	r := mux.NewRouter()

	open := r.NewRoute().Subrouter()
	m.Handle(open, "/healthz", get, http.HandlerFunc(handleHealthz))
	m.Handle(open, "/readyz", get, handleReadyz(d)) // pings the store
	m.Handle(open, static.Prefix+"{name}", get, httpx.Static(d.Assets, d.Error))
	m.Handle(open, "/", get, http.RedirectHandler(adminHome, http.StatusSeeOther))
	m.Handle(open, "/admin", get, http.RedirectHandler(adminHome, http.StatusSeeOther))
	m.Handle(open, adminLoginPath, get, handleLoginForm(d))
	m.Handle(open, adminLoginPath, post, handleLogin(d)) // checks the form's own token

	page := r.NewRoute().Subrouter()
	page.Use(d.requirePage)
	m.Handle(page, adminHome, get, handleDashboard(d))
	m.Handle(page, adminIncPrefix+"{id:[0-9]+}", get, handleIncident(d))
	m.Handle(page, adminRefPrefix+"{rid}", get, handleRequestRef(d)) // the visitor's reference
	m.Handle(page, adminSearch, get, handleSearch(d))                // ?q=, redirects to the request
	m.Handle(page, adminAnnounce, get, handleAnnouncements(d))

	form := r.NewRoute().Subrouter()
	form.Use(d.requirePage, d.requireCSRF)
	m.Handle(form, adminLogout, post, handleLogout(d))
	m.Handle(form, adminAnnounce, post, handleAnnounce(d))
	m.Handle(form, adminAnnounce+"/{id:[0-9]+}/end", post, handleEndAnnounce(d))

	api := r.NewRoute().Subrouter()
	api.Use(answersJSON, d.requireAPI)
	m.Handle(api, "/admin/api/v1/sites", get, handleAPISites(d))
	m.Handle(api, "/admin/api/v1/incidents", get, handleAPIIncidents(d))
	m.Handle(api, "/admin/api/v1/incidents/{id:[0-9]+}", get, handleAPIIncident(d))
	m.Handle(api, "/admin/api/v1/events/{rid}", get, handleAPIEvent(d))
	m.Handle(api, adminAPIAnnounce, get, handleAPIAnnouncements(d))
	m.Handle(api, adminAPIAnnounce, post, handleAPIAnnounce(d))
	m.Handle(api, adminAPIAnnounce+"/{id:[0-9]+}", del, handleAPIEndAnnounce(d))

	metrics := r.NewRoute().Subrouter()
	metrics.Use(answersJSON, d.requireMetrics)
	m.Handle(metrics, "/metrics", []string{http.MethodGet}, promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))

	notAllowed := d.errorHandler(httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed"))
	m.NotAllowed(r, notAllowed)
	r.NotFoundHandler = d.errorHandler(httpx.Errorf(http.StatusNotFound, "not found"))
	r.MethodNotAllowedHandler = notAllowed
	return r
}

// answersJSON marks a request of the api and metrics policies: Error
// answers it in problem+json.
func answersJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), jsonKey{}, true)))
	})
}

type jsonKey struct{}

func wantsJSON(r *http.Request) bool {
	on, _ := r.Context().Value(jsonKey{}).(bool)
	return on
}
