package httpx

import (
	"log/slog"
	"net/http"
)

// Recoverer turns a panic below it into a 500 and a log line. Nothing on
// the request path should panic; this is the net under the rope.
func Recoverer(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.Error("panic serving request", "panic", v, "path", r.URL.Path)
				Text(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
