package public

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/httpx"
)

// routes is the public listener's whole URL surface. Nothing here signs
// in, takes a CSRF token or is rate limited: the page must answer a storm,
// and polls cost the origin nothing (they read the monitor's cache). The
// policies differ by method and origin:
//
//	policy       methods    path                         answers
//	read         GET, HEAD  /_gatewatch/static/{name}    the page's assets, content-hashed
//	read         GET, HEAD  /_gatewatch/api/v1/status    the verdict for live updates (JSON)
//	same-origin  POST       /_gatewatch/clear-site-data  Clear-Site-Data; 403 from another origin
//	any method   all        /_gatewatch/error/{code}     the error page for the code in the path
//	any method   all        /_gatewatch/… (anything else) the 404 page
//	any method   all        every other path             the error page, code from X-Code (502)
//
// A method a /_gatewatch/ route does not take is the 405 page.
func (d *publicDeps) routes() http.Handler {
	errorPage := handleErrorPage(d)
	notAllowed := withCode(http.StatusMethodNotAllowed, errorPage)
	notFound := withCode(http.StatusNotFound, errorPage)
	var m httpx.Methods

	r := mux.NewRouter()
	gw := r.PathPrefix("/_gatewatch/").Subrouter()

	read := gw.NewRoute().Subrouter()
	m.Handle(read, "/static/{name}", httpx.GetHead, httpx.Static(d.assets, d.Error))
	m.Handle(read, "/api/v1/status", httpx.GetHead, handleStatus(d))

	sameOrigin := gw.NewRoute().Subrouter()
	sameOrigin.Use(d.requireSameOrigin)
	m.Handle(sameOrigin, "/clear-site-data", []string{http.MethodPost}, handleClearSiteData(d))

	anyMethod := gw.NewRoute().Subrouter()
	m.Handle(anyMethod, "/error/{code}", httpx.AllMethods, handleErrorRoute(errorPage))

	m.NotAllowed(gw, notAllowed)
	gw.PathPrefix("/").Handler(notFound).Methods(slices.Clone(httpx.AllMethods)...)

	// Every other path is an error page: nginx proxies the failed request
	// here as it was, whatever its method.
	r.PathPrefix("/").Handler(errorPage).Methods(slices.Clone(httpx.AllMethods)...)
	r.MethodNotAllowedHandler = notAllowed
	r.NotFoundHandler = notFound
	return fastPath(r, errorPage)
}

// fastPath sends every request outside /_gatewatch/ straight to the
// error page, as the router's catch-all would, without the router's
// per-request matching and context: that path is the one an outage
// floods.
func fastPath(r *mux.Router, errorPage http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, "/_gatewatch/") && slices.Contains(httpx.AllMethods, req.Method) {
			errorPage.ServeHTTP(w, req)
			return
		}
		r.ServeHTTP(w, req)
	})
}
