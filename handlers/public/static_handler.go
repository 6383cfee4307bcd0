package public

import (
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/static"
)

// handleStatic serves GET /_gatewatch/static/{name}: the page's assets
// under content-hashed names.
func handleStatic(assets *static.Set) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets.Lookup(mux.Vars(r)["name"])
		if !ok {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		a.Serve(w, r)
	})
}

// LogoAsset is the logical asset name of a site's logo file, "" when the
// site has none.
func LogoAsset(site, path string) string {
	if path == "" {
		return ""
	}
	return "brand/" + site + strings.ToLower(filepath.Ext(path))
}
