package public

import (
	"context"
	"log/slog"
	"net/http"
)

// recoverer turns a panic below it into a 500 and a log line. Nothing on
// the request path should panic; this is the net under the rope.
func recoverer(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.Error("panic serving request", "panic", v, "path", r.URL.Path)
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

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
