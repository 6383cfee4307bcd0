package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
)

// ErrorWriter is a listener's one way to answer an error: it picks the
// format (page, problem+json, text) and logs what the client must not see.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Recoverer turns a panic below it into a 500 through the listener's
// error writer, and a log line. Nothing on the request path should panic;
// this is the net under the rope.
func Recoverer(logger *slog.Logger, writeError ErrorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.Error("panic serving request", "panic", v, "path", r.URL.Path)
				writeError(w, r, &StatusError{Code: http.StatusInternalServerError, Detail: "internal error", Err: fmt.Errorf("panic: %v", v), Logged: true})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
