package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
)

// StatusError is an error with the HTTP status and the client-facing
// detail it should be answered with. A listener's Error writer picks the
// format; the handler only says what went wrong.
type StatusError struct {
	Code   int
	Detail string // shown to the client: nothing internal
	Err    error  // the cause, for the log; may be nil

	Logged bool // the cause is in the log already, with more context than Error has
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *StatusError) Unwrap() error { return e.Err }

// Errorf returns a StatusError for code with detail.
func Errorf(code int, detail string) error {
	return &StatusError{Code: code, Detail: detail}
}

// StatusOf is err's status and detail: those of the StatusError it wraps,
// else 500 "internal error".
func StatusOf(err error) (int, string) {
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Code, se.Detail
	}
	return http.StatusInternalServerError, "internal error"
}

// ShouldLog reports whether err's cause still needs a log line: a server
// error (5xx) not logged where it happened. Client errors are the
// client's business.
func ShouldLog(err error) bool {
	se, ok := errors.AsType[*StatusError](err)
	if !ok {
		return true
	}
	return se.Code >= 500 && !se.Logged
}

// Header values shared by every response that carries them. Assigning the
// same slices (never modified) instead of calling Header.Set saves an
// allocation each; keys are in canonical form, as Header.Set stores them.
var (
	HdrNoStore     = []string{"no-store"}
	HdrNoSniff     = []string{"nosniff"}
	HdrJSON        = []string{"application/json"}
	HdrProblemJSON = []string{"application/problem+json"}
)

// problem is an RFC 9457 problem details object, the shape of every
// error that an API client gets.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Problem writes code and detail as application/problem+json, for API
// clients. The body is not stored.
func Problem(w http.ResponseWriter, r *http.Request, code int, detail string) {
	b, _ := json.Marshal(problem{Type: "about:blank", Title: http.StatusText(code), Status: code, Detail: detail})
	h := w.Header()
	h["Content-Type"] = HdrProblemJSON
	h["Cache-Control"] = HdrNoStore
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(append(b, '\n'))
	}
}

// Text writes detail as a line of plain text, as http.Error does, and
// marks it not to be stored.
func Text(w http.ResponseWriter, code int, detail string) {
	w.Header()["Cache-Control"] = HdrNoStore
	http.Error(w, detail, code)
}
