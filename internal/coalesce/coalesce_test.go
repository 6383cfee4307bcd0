package coalesce

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestResponseInOneWrite serves responses of many lengths through a real
// http.Server on the listener, one keep-alive connection, and counts what
// each response passed down to the socket: one call for anything shorter
// than the held bound plus a buffer, where net/http alone makes one per
// 4,096 bytes.
func TestResponseInOneWrite(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []*conn
	ln := &listener{Listener: inner, accepted: func(c *conn) { mu.Lock(); conns = append(conns, c); mu.Unlock() }}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.Write(body(n))
		}),
		IdleTimeout: time.Minute,
	}
	go srv.Serve(ln)
	defer srv.Close()

	client := &http.Client{Timeout: 5 * time.Second}
	sends := func() int {
		mu.Lock()
		defer mu.Unlock()
		if len(conns) != 1 {
			t.Fatalf("%d connections; want the one kept alive", len(conns))
		}
		c := conns[0]
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.sends
	}
	before := 0
	for _, n := range []int{0, 1, 3000, 3900, 4000, 4096, 5000, 5800, 8000, 8192, 12000, 16000, 20000, 70000, 3000} {
		resp, err := client.Get(fmt.Sprintf("http://%s/?n=%d", inner.Addr(), n))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, body(n)) {
			t.Fatalf("n=%d: body of %d bytes (err %v); want %d bytes as sent", n, len(got), err, n)
		}
		if before == 0 {
			before = sends() - 1 // the first response
		}
		now := sends()
		want := 1
		if n >= maxHeld { // header plus body past maxHeld+bufferSize: a call per maxHeld+bufferSize
			want = -1
		}
		if d := now - before; want > 0 && d != want || d > n/(maxHeld+bufferSize)+1 {
			t.Errorf("a response with a %d-byte body took %d writes; want %d", n, d, max(want, n/(maxHeld+bufferSize)+1))
		}
		before = now
	}
}

func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// TestHeldBytesLeaveBeforeReadAndClose: a full buffer is held until the
// next write, a read deadline or the close, and is not lost.
func TestHeldBytesLeaveBeforeReadAndClose(t *testing.T) {
	for _, tc := range []struct {
		name string
		then func(c net.Conn) error
	}{
		{"SetReadDeadline", func(c net.Conn) error { return c.SetReadDeadline(time.Now().Add(time.Minute)) }},
		{"SetDeadline", func(c net.Conn) error { return c.SetDeadline(time.Now().Add(time.Minute)) }},
		{"Close", func(c net.Conn) error { return c.Close() }},
		{"CloseWrite", func(c net.Conn) error { return c.(interface{ CloseWrite() error }).CloseWrite() }},
		{"short write", func(c net.Conn) error { _, err := c.Write([]byte("!")); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := pair(t)
			full := body(bufferSize)
			if n, err := server.Write(full); n != len(full) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			// Held: nothing arrives yet.
			client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if n, _ := client.Read(make([]byte, 1)); n != 0 {
				t.Fatalf("%d bytes arrived before anything sent them", n)
			}
			if err := tc.then(server); err != nil {
				t.Fatal(err)
			}
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			if tc.name == "short write" {
				full = append(full, '!')
			}
			got := make([]byte, len(full))
			n, err := io.ReadFull(client, got)
			got = got[:n]
			if !bytes.Equal(got, full) {
				t.Fatalf("got %d bytes (%v); want the %d held", len(got), err, len(full))
			}
		})
	}
}

func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	ln := Listener(inner)
	done := make(chan net.Conn)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	client, err = net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-done
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}
