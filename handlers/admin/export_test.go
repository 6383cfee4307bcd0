package admin

import (
	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// AdminRoute is one route of the admin router as mux reports it.
type AdminRoute struct {
	Path    string
	Methods []string
}

// AdminRoutes walks the router New builds from d, so that tests
// check the auth rules on every route that exists rather than on a list
// that can fall behind.
func AdminRoutes(d Deps) ([]AdminRoute, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	ad, err := newAdminDeps(d)
	if err != nil {
		return nil, err
	}
	var out []AdminRoute
	err = newAdminRouter(ad).Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		p, err := route.GetPathTemplate()
		if err != nil {
			// A policy's subrouter: its routes come next.
			return nil
		}
		m, err := route.GetMethods()
		if err != nil {
			return err
		}
		out = append(out, AdminRoute{Path: p, Methods: m})
		return nil
	})
	return out, err
}

// Checklist is checklistFor, for table tests of the order.
func Checklist(c nginxlog.Category) []string { return checklistFor(c) }

// CauseCategory is causeCategory.
func CauseCategory(c incident.Cause, logs []nginxlog.Entry) nginxlog.Category {
	return causeCategory(c, logs)
}

// ReferenceCandidates is referenceCandidates.
func ReferenceCandidates(q string) []string { return referenceCandidates(q) }
