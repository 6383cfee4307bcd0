package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRawConn checks the generator's connection against what servers do
// to keep-alive: chunked bodies, Connection: close, and closing an idle
// connection between requests.
func TestRawConn(t *testing.T) {
	var n, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "shop.test" || r.Header.Get("Accept") != "text/html" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		i := n.Add(1)
		if i%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(strings.Repeat("x", 5000)))
		if i%2 == 0 {
			w.(http.Flusher).Flush() // chunked
			w.Write([]byte("tail"))
		}
	}))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	req, err := newRequest(srv.URL+"/cart", [][2]string{{"Host", "shop.test"}, {"Accept", "text/html"}})
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{r: req}
	defer rc.close()
	for i := range 12 {
		code, err := rc.get()
		if err != nil || code != http.StatusBadGateway {
			t.Fatalf("request %d: %d, %v; want 502", i, code, err)
		}
		if i == 7 {
			// Long enough for the server to close the idle connection.
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Every third answer closes, and one idle close: fewer connections
	// than requests, more than one.
	if c := conns.Load(); c < 4 || c > 8 {
		t.Errorf("%d connections for 12 requests; want 4 to 8", c)
	}
}
