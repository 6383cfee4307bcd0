package public

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/safeurl"
)

// handleErrorRoute serves /_gatewatch/error/{code}: the error page for the
// code in the path, for proxies that name the code in the URL they ask
// for (Traefik's errors middleware, query "/_gatewatch/error/{status}?url={url}";
// Apache's ErrorDocument). An invalid code is a 404 page.
//
// From a trusted proxy it is an error like any other: the page, the
// verdict and an event. From anyone else it is only a page: a visitor
// asking for /_gatewatch/error/503 must not make an incident, nor count
// as a visitor who met one.
func handleErrorRoute(errorPage http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, ok := proxied.ErrorCode(mux.Vars(r)["code"])
		if !ok {
			code = http.StatusNotFound
		}
		ctx := context.WithValue(r.Context(), ownCodeKey{}, code)
		errorPage.ServeHTTP(w, r.WithContext(context.WithValue(ctx, errorRouteKey{}, true)))
	})
}

type errorRouteKey struct{}

// fromErrorRoute adjusts what the proxy told us for a request that came
// by /_gatewatch/error/{code}. Traefik copies the visitor's own headers
// onto that request, so nginx's upstream headers mean nothing there: only
// the original URL (Traefik's ?url=, or X-Original-URI) and the request
// id are kept. It reports whether the request may be recorded.
func fromErrorRoute(r *http.Request, p *proxied.Request) (record bool) {
	if on, _ := r.Context().Value(errorRouteKey{}).(bool); !on {
		return true
	}
	if !p.Trusted {
		return false
	}
	p.Upstream, p.NginxConn, p.Ingress = proxied.Upstream{}, 0, proxied.Ingress{}
	if raw := queryValue(r.URL.RawQuery, "url"); raw != "" {
		if u, err := url.Parse(raw); err == nil {
			if uri := u.RequestURI(); safeurl.IsLocal(uri) {
				p.URI = uri
			}
		}
	}
	return true
}
