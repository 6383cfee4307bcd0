package httpx

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"
)

// AllMethods are the methods a request may have: a failed request that
// nginx hands over, or one a client sends to a route that takes others.
var AllMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

// GetHead is the method set of a read-only route.
var GetHead = []string{http.MethodGet, http.MethodHead}

// otherMethods are AllMethods but allowed, in a new slice.
func otherMethods(allowed []string) []string {
	var out []string
	for _, m := range AllMethods {
		if !slices.Contains(allowed, m) {
			out = append(out, m)
		}
	}
	return out
}

// Methods is the 405 workaround for gorilla/mux, written once for both
// listeners. mux lets a later route (a catch-all, or the same path on
// another subrouter) win over a method mismatch, so every path's other
// methods get an explicit route to the listener's 405 handler, registered
// after all the path's real routes.
//
// Use Handle instead of Router.Handle for every route, then NotAllowed
// once, on the top router, before any catch-all.
type Methods struct {
	paths   []string
	allowed map[string][]string
}

// Handle registers h for path and methods on r (a router or one of its
// policy subrouters) and remembers them for NotAllowed.
func (m *Methods) Handle(r *mux.Router, path string, methods []string, h http.Handler) {
	if m.allowed == nil {
		m.allowed = map[string][]string{}
	}
	if m.allowed[path] == nil {
		m.paths = append(m.paths, path)
	}
	m.allowed[path] = append(m.allowed[path], methods...)
	// Methods upper-cases the slice it is given in place: each route gets
	// its own copy, so that building a router (on SIGHUP) never writes
	// what a running one reads.
	r.Handle(path, h).Methods(slices.Clone(methods)...)
}

// NotAllowed routes each remembered path's other methods to h on r.
func (m *Methods) NotAllowed(r *mux.Router, h http.Handler) {
	for _, p := range m.paths {
		r.Handle(p, h).Methods(otherMethods(m.allowed[p])...)
	}
}
