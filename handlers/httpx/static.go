package httpx

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/static"
)

// Static serves GET /_gatewatch/static/{name}: the pages' assets under
// content-hashed names. Both listeners serve it, the admin for its CSS.
func Static(assets *static.Set) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets.Lookup(mux.Vars(r)["name"])
		if !ok {
			Text(w, http.StatusNotFound, "not found")
			return
		}
		a.Serve(w, r)
	})
}
