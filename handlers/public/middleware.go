package public

import (
	"context"
	"net/http"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/trust"
)

// withCode serves an error page for code, whatever X-Code says: for
// gatewatch's own 404 and 405 under /_gatewatch/. The code travels in the
// request's context, where no client can put it.
func withCode(code int, page http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownCodeKey{}, code)))
	})
}

type ownCodeKey struct{}

func ownCode(r *http.Request) (int, bool) {
	c, ok := r.Context().Value(ownCodeKey{}).(int)
	return c, ok
}

// readProxied is what the proxy told of the failed request
// (proxied.Read), with gatewatch's own code in place of X-Code for its
// own 404 and 405 (withCode).
func readProxied(r *http.Request, proxies trust.Proxies) proxied.Request {
	p := proxied.Read(r, proxies)
	if c, ok := ownCode(r); ok {
		p.Code = c
	}
	return p
}
