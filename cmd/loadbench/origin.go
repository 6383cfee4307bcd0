package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// maxAcceptTimes bounds the accept times an origin keeps; gatewatch makes
// a handful of checks a second at most, so this is hours of them.
const maxAcceptTimes = 1 << 16

// countingOrigin is the down upstream's health endpoint: it answers 503
// without keep-alive and notes when it accepts a connection, so that
// every check gatewatch makes is one accept.
type countingOrigin struct {
	ln  net.Listener
	srv *http.Server

	mu      sync.Mutex
	accepts []time.Time // guarded by mu; at most maxAcceptTimes
	total   int64       // guarded by mu
}

func newCountingOrigin() (*countingOrigin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &countingOrigin{ln: ln}
	o.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			http.Error(w, "origin down for maintenance", http.StatusServiceUnavailable)
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				o.note(time.Now())
			}
		},
		ReadHeaderTimeout: 5 * time.Second,
	}
	o.srv.SetKeepAlivesEnabled(false)
	go o.srv.Serve(ln)
	return o, nil
}

func (o *countingOrigin) note(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.total++
	if len(o.accepts) < maxAcceptTimes {
		o.accepts = append(o.accepts, t)
	}
}

func (o *countingOrigin) addr() string { return o.ln.Addr().String() }

// between returns the accept times in [from, to).
func (o *countingOrigin) between(from, to time.Time) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Time
	for _, t := range o.accepts {
		if !t.Before(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	return out
}

func (o *countingOrigin) close() { o.srv.Close() }
