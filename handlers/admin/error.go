package admin

import (
	"errors"
	"net/http"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/incident"
)

// Error is the admin listener's one way to answer an error. It picks the
// format by the route's policy and the error:
//
//   - api and metrics routes (answersJSON): problem+json;
//   - a page whose store query failed (storeFailed): the page that says
//     so, with the search box: 404 with the page's own not-found text, or
//     503 when the store does not answer, so that staff know to retry
//     rather than search;
//   - anything else (a bad form, a CSRF failure, an unknown path or
//     method): a line of text.
//
// The store's failures and server errors are logged here; the client
// sees nothing internal.
func (d *adminDeps) Error(w http.ResponseWriter, r *http.Request, err error) {
	api := wantsJSON(r)
	if se, ok := errors.AsType[*storeError](err); ok {
		notFound := errors.Is(se.err, incident.ErrNotFound)
		if !notFound {
			d.Logger.Error("admin: store query failed", "err", se.err, "path", r.URL.Path)
		}
		switch {
		case api && notFound:
			httpx.Problem(w, r, http.StatusNotFound, "not found")
		case api:
			httpx.Problem(w, r, http.StatusServiceUnavailable, "the incident store is not answering")
		case notFound:
			v := d.view(r)
			v.message(w, r, http.StatusNotFound, v.tr.T("admin.not_found.title", nil), se.notFound, "")
		default:
			v := d.view(r)
			v.message(w, r, http.StatusServiceUnavailable, v.tr.T("admin.not_found.title", nil), v.tr.T("admin.error.unavailable", nil), "")
		}
		return
	}
	code, detail := httpx.StatusOf(err)
	if httpx.ShouldLog(err) {
		d.Logger.Error("admin: request failed", "err", err, "status", code, "path", r.URL.Path)
	}
	if api {
		httpx.Problem(w, r, code, detail)
		return
	}
	httpx.Text(w, code, detail)
}

// errorHandler answers every request with err, through Error.
func (d *adminDeps) errorHandler(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.Error(w, r, err) })
}

// storeError is a failed store query, for Error.
type storeError struct {
	err      error
	notFound string // what a page says when the store has no such thing
}

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// storeFailed wraps a failed store query for Error: not found (a page
// says notFound), or the store does not answer.
func storeFailed(err error, notFound string) error {
	return &storeError{err: err, notFound: notFound}
}
