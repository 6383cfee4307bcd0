package public

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/safeurl"
)

// handleClearSiteData serves POST /_gatewatch/clear-site-data: it asks the
// browser to drop this site's cache and storage, and its cookies only
// when the visitor ticked the box (that signs them out of the whole
// site). routes.go serves it to same-origin requests only.
func handleClearSiteData(d *publicDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, 1024)
		if err := r.ParseForm(); err != nil {
			d.Error(w, r, httpx.Errorf(http.StatusBadRequest, "bad form"))
			return
		}
		v := `"cache", "storage"`
		if r.PostForm.Get("cookies") == "1" {
			v += `, "cookies"`
		}
		h.Set("Clear-Site-Data", v)
		// A form posted without scripts navigates here: send the visitor
		// back to where they were. A script's fetch just needs the header.
		if r.Header.Get("Sec-Fetch-Mode") == "navigate" || r.Header.Get("Sec-Fetch-Mode") == "" && r.PostForm.Get("back") != "" {
			http.Redirect(w, r, safeurl.Local(r.PostForm.Get("back"), "/"), http.StatusSeeOther)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// requireSameOrigin is the same-origin policy of routes.go: another site
// must not be able to wipe a visitor's data here, so only same-origin
// requests are served; the others get 403.
func (d *publicDeps) requireSameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			d.Error(w, r, httpx.Errorf(http.StatusForbidden, "cross-origin request refused"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin trusts Sec-Fetch-Site where the browser sends it, and
// otherwise compares the Origin's host with the request's Host. A request
// with neither is refused: every browser that can clear site data sends
// one of them.
func sameOrigin(r *http.Request) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		return sfs == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}
