package httpx

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/static"
)

// Static serves GET /_gatewatch/static/{name}: the pages' assets under
// content-hashed names. Both listeners serve it, the admin for its CSS.
// A name it does not know is a 404 through writeError.
func Static(assets *static.Set, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets.Lookup(mux.Vars(r)["name"])
		if !ok {
			writeError(w, r, Errorf(http.StatusNotFound, "not found"))
			return
		}
		a.Serve(w, r)
	})
}
