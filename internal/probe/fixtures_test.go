package probe_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// listen starts a loopback TCP listener whose accepted connections are given
// to handle, each in its own goroutine. Everything is closed at cleanup.
func listen(tb testing.TB, handle func(net.Conn)) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln
}

// closedAddr returns a loopback address with nothing listening on it.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silent accepts and then neither reads nor writes until the test ends: the
// signature of an origin whose kernel accepts for a saturated process.
func silent(tb testing.TB) net.Listener {
	tb.Helper()
	done := make(chan struct{})
	ln := listen(tb, func(net.Conn) { <-done })
	// Registered after listen's cleanup so it runs first (cleanups are LIFO)
	// and releases the handlers listen's cleanup waits for.
	tb.Cleanup(func() { close(done) })
	return ln
}

// resetting accepts and aborts each connection with an RST (SO_LINGER 0).
func resetting(tb testing.TB) net.Listener {
	tb.Helper()
	return listen(tb, func(c net.Conn) {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	})
}

// hangingUp reads the request line and closes cleanly without answering.
func hangingUp(tb testing.TB) net.Listener {
	tb.Helper()
	return listen(tb, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		c.Close()
	})
}

// writing sends s as soon as a connection is accepted, then closes.
func writing(tb testing.TB, s string) net.Listener {
	tb.Helper()
	return listen(tb, func(c net.Conn) {
		_, _ = c.Write([]byte(s))
		c.Close()
	})
}

// endlessHeaders answers with a status line followed by headers that never
// end, until the client goes away.
func endlessHeaders(tb testing.TB) net.Listener {
	tb.Helper()
	return listen(tb, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
			return
		}
		line := []byte("X-Filler: " + strings.Repeat("a", 1000) + "\r\n")
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	})
}

// fakeResolver maps names to addresses and counts lookups, so tests can
// resolve names without DNS and prove when no lookup happened.
type fakeResolver struct {
	names map[string][]string
	calls atomic.Int64
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.calls.Add(1)
	ips, ok := r.names[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range ips {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// port returns the port of a host:port.
func port(tb testing.TB, addr string) string {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("split %q: %v", addr, err)
	}
	return p
}

// stageNames renders stages as name:ok pairs, the shape compared in tests.
func stageNames(stages []probe.Stage) string {
	var b strings.Builder
	for i, s := range stages {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%s:%t", s.Name, s.OK)
	}
	return b.String()
}
