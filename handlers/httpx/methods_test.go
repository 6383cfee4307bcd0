package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/httpx"
)

func say(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(s)) })
}

// TestMethods checks the 405 workaround: a path's methods spread over two
// policy subrouters, and a catch-all after them that must not win over a
// method mismatch.
func TestMethods(t *testing.T) {
	var m httpx.Methods
	r := mux.NewRouter()
	read, write := r.NewRoute().Subrouter(), r.NewRoute().Subrouter()
	m.Handle(read, "/x", httpx.GetHead, say("read"))
	m.Handle(write, "/x", []string{http.MethodPost}, say("write"))
	m.NotAllowed(r, say("405"))
	r.PathPrefix("/").Handler(say("catch-all"))
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodGet, "/x", "read"},
		{http.MethodPost, "/x", "write"},
		{http.MethodDelete, "/x", "405"},
		{http.MethodPut, "/x", "405"},
		{http.MethodGet, "/y", "catch-all"},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if got := w.Body.String(); got != tc.want {
			t.Errorf("%s %s = %q; want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		detail string
		log    bool
	}{
		{httpx.Errorf(http.StatusNotFound, "not found"), 404, "not found", false},
		{&httpx.StatusError{Code: 503, Detail: "later"}, 503, "later", true},
		{&httpx.StatusError{Code: 503, Detail: "later", Logged: true}, 503, "later", false},
		{http.ErrBodyNotAllowed, 500, "internal error", true},
	} {
		code, detail := httpx.StatusOf(tc.err)
		if code != tc.code || detail != tc.detail || httpx.ShouldLog(tc.err) != tc.log {
			t.Errorf("StatusOf(%v) = %d, %q, log %v; want %d, %q, log %v", tc.err, code, detail, httpx.ShouldLog(tc.err), tc.code, tc.detail, tc.log)
		}
	}
}

func TestProblem(t *testing.T) {
	w := httptest.NewRecorder()
	httpx.Problem(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusTeapot, "short and stout")
	want := `{"type":"about:blank","title":"I'm a teapot","status":418,"detail":"short and stout"}` + "\n"
	if w.Code != 418 || w.Body.String() != want || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("Problem = %d %q %q; want 418 %q application/problem+json", w.Code, w.Body.String(), w.Header().Get("Content-Type"), want)
	}
}
