//go:build e2e

package e2e

// Hostile clients against gatewatch's own listener, where its server
// limits (ReadHeaderTimeout, MaxHeaderBytes, IdleTimeout) are the only
// defence: slowloris, huge headers, thousands of idle connections and
// malformed headers.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startHostileTarget runs gatewatch alone; hostile clients talk to its own
// listener, where its server limits are the only defence.
func startHostileTarget(t *testing.T) (*gatewatch, string) {
	t.Helper()
	gw := startGatewatchIn(t, writeConfig(t, "", gatewatchPort(t), freePort(t)), t.TempDir())
	return gw, strings.TrimPrefix(gw.public, "http://")
}

// bystander sends one ordinary page request every 100 ms for d and fails
// the test if any is not answered 502 within a second.
func bystander(t *testing.T, base string, d time.Duration) loadStats {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var st loadStats
	start := time.Now()
	for time.Since(start) < d {
		t0 := time.Now()
		resp, err := client.Get(base + "/cart")
		lat := time.Since(t0)
		st.requests++
		st.latencies = append(st.latencies, lat)
		switch {
		case err != nil:
			st.lost++
			t.Errorf("bystander: %v", err)
		case resp.StatusCode != http.StatusBadGateway:
			st.wrong++
			t.Errorf("bystander: status %d; want 502", resp.StatusCode)
		case lat > time.Second:
			t.Errorf("bystander waited %s", lat)
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		// Pacing, not waiting: a bystander visits every 100 ms for the
		// attack's whole length.
		time.Sleep(100 * time.Millisecond)
	}
	st.elapsed = time.Since(start)
	slices.Sort(st.latencies)
	return st
}

// waitClosed reads from c until the server closes it or limit passes, and
// returns how long after since that was, or -1 if it stayed open.
func waitClosed(c net.Conn, since time.Time, limit time.Duration) time.Duration {
	c.SetReadDeadline(since.Add(limit))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return -1
			}
			return time.Since(since)
		}
	}
}

// TestReliabilitySlowloris: clients that trickle header bytes forever are
// cut off by ReadHeaderTimeout, and everyone else is served meanwhile.
func TestReliabilitySlowloris(t *testing.T) {
	n := soakOr(200, 1000)
	gw, addr := startHostileTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closedAfter := make(chan time.Duration, n)
	for range n {
		go func() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Errorf("dial: %v", err)
				closedAfter <- 0
				return
			}
			defer c.Close()
			start := time.Now()
			go func() {
				// The request line and a header that never ends: one byte
				// every 500 ms, far slower than ReadHeaderTimeout allows.
				if _, err := io.WriteString(c, "GET /cart HTTP/1.1\r\nHost: shop.test\r\nX-Slow: "); err != nil {
					return
				}
				tick := time.NewTicker(500 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
						if _, err := c.Write([]byte("a")); err != nil {
							return
						}
					}
				}
			}()
			closedAfter <- waitClosed(c, start, readHeaderTimeout+10*time.Second)
		}()
	}
	by := bystander(t, gw.public, readHeaderTimeout+2*time.Second)
	t.Logf("bystander during %d slowloris connections: %s", n, by)
	var times []time.Duration
	for range n {
		d := <-closedAfter
		if d < 0 {
			t.Fatalf("a slowloris connection was still open %s after it started", readHeaderTimeout+10*time.Second)
		}
		times = append(times, d)
	}
	slices.Sort(times)
	t.Logf("slowloris connections closed by gatewatch after %s (first) to %s (last)", times[0].Round(time.Millisecond), times[n-1].Round(time.Millisecond))
	if times[0] < readHeaderTimeout-time.Second {
		t.Errorf("a slowloris connection was closed after %s, before ReadHeaderTimeout: by what?", times[0])
	}
	if times[n-1] > readHeaderTimeout+5*time.Second {
		t.Errorf("the last slowloris connection was closed after %s; ReadHeaderTimeout is %s", times[n-1], readHeaderTimeout)
	}
}

// rawExchange writes req on a new connection and reads one response.
func rawExchange(addr, req string) (*http.Response, string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Written from a goroutine: a server that answers before reading all
	// of a huge request must not deadlock the test.
	go io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// TestReliabilityHugeHeaders: requests beyond MaxHeaderBytes get 431 and
// the server goes on serving.
func TestReliabilityHugeHeaders(t *testing.T) {
	gw, addr := startHostileTarget(t)
	var many strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&many, "X-H-%d: v\r\n", i)
	}
	for _, tc := range []struct {
		name, req string
	}{
		{"one 64 KB header", "GET /cart HTTP/1.1\r\nHost: shop.test\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"},
		{"4,000 headers", "GET /cart HTTP/1.1\r\nHost: shop.test\r\n" + many.String() + "\r\n"},
		{"a 100 KB request line", "GET /" + strings.Repeat("a", 100<<10) + " HTTP/1.1\r\nHost: shop.test\r\n\r\n"},
		{"a 64 KB Accept-Language", "GET /cart HTTP/1.1\r\nHost: shop.test\r\nAccept-Language: " + strings.Repeat("de-DE,", 64<<10/6) + "\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, err := rawExchange(addr, tc.req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("status %d; want 431", resp.StatusCode)
			}
		})
	}
	// A client that streams megabytes of header is cut off too, without a
	// hang, whether or not it gets to read the 431.
	t.Run("4 MB of header, streamed", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		go func() {
			io.WriteString(c, "GET /cart HTTP/1.1\r\nHost: shop.test\r\nX-Big: ")
			chunk := []byte(strings.Repeat("a", 64<<10))
			for range 64 {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
		if d := waitClosed(c, start, 10*time.Second); d < 0 {
			t.Fatal("connection still open after 10 s")
		}
	})
	// Just under the limit is an ordinary request.
	resp, _, err := rawExchange(addr, "GET /cart HTTP/1.1\r\nHost: shop.test\r\nX-Big: "+strings.Repeat("a", maxHeaderBytes-1024)+"\r\nConnection: close\r\n\r\n")
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("a request just under MaxHeaderBytes: %v, %v; want 502", resp, err)
	}
	by := bystander(t, gw.public, time.Second)
	t.Logf("bystander afterwards: %s", by)
}

// TestReliabilityIdleConnections: thousands of connections that never send
// a byte, or stay open after one request, do not stop others being
// served; the silent ones are closed after ReadHeaderTimeout and, in the
// long form, the kept-alive ones after IdleTimeout.
func TestReliabilityIdleConnections(t *testing.T) {
	n := soakOr(2000, 10000)
	gw, addr := startHostileTarget(t)
	type idle struct {
		c     net.Conn
		since time.Time
	}
	silent := make([]idle, 0, n/2)
	kept := make([]idle, 0, n-n/2)
	t.Cleanup(func() {
		for _, s := range append(silent, kept...) {
			s.c.Close()
		}
	})
	for range n / 2 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial after %d connections: %v", len(silent), err)
		}
		silent = append(silent, idle{c, time.Now()})
	}
	// The other half make one keep-alive request each, a few at a time.
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var failed atomic.Int64
	for range n - n/2 {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				failed.Add(1)
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "GET /cart HTTP/1.1\r\nHost: shop.test\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
			}
			if err != nil || resp.StatusCode != http.StatusBadGateway {
				failed.Add(1)
				c.Close()
				return
			}
			c.SetDeadline(time.Time{})
			mu.Lock()
			kept = append(kept, idle{c, time.Now()})
			mu.Unlock()
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d keep-alive requests failed", f, n-n/2)
	}
	by := bystander(t, gw.public, 2*time.Second)
	t.Logf("bystander with %d silent and %d kept-alive idle connections open: %s", len(silent), len(kept), by)

	closedBy := func(set []idle, limit time.Duration) (worst time.Duration, open int) {
		res := make(chan time.Duration, len(set))
		for _, s := range set {
			go func() { res <- waitClosed(s.c, s.since, limit) }()
		}
		for range set {
			d := <-res
			if d < 0 {
				open++
			}
			worst = max(worst, d)
		}
		return worst, open
	}
	worst, open := closedBy(silent, readHeaderTimeout+10*time.Second)
	t.Logf("silent connections: the last closed %s after it opened", worst.Round(time.Millisecond))
	if open > 0 {
		t.Errorf("%d silent connections still open %s after they opened", open, readHeaderTimeout+10*time.Second)
	}
	if os.Getenv(soakEnv) != "1" {
		return
	}
	worst, open = closedBy(kept, idleTimeout+15*time.Second)
	t.Logf("kept-alive idle connections: the last closed %s after its request", worst.Round(time.Millisecond))
	if open > 0 {
		t.Errorf("%d kept-alive connections still open %s after their request", open, idleTimeout+15*time.Second)
	}
}

// TestReliabilityMalformedHeaders: nonsense in the headers the page
// depends on gets an ordinary error page (or the server's 400 for bytes
// HTTP forbids), never a 500 from a panic.
func TestReliabilityMalformedHeaders(t *testing.T) {
	gw, addr := startHostileTarget(t)
	long := strings.Repeat("x", 8000)
	cases := []struct {
		name, header, value string
		want                int
	}{
		{"Accept-Language empty", "Accept-Language", "", 502},
		{"Accept-Language star", "Accept-Language", "*", 502},
		{"Accept-Language bad q", "Accept-Language", "de-DE;q=abc, en;q=", 502},
		{"Accept-Language huge q", "Accept-Language", "de;q=1e309, fr;q=-1, ar;q=NaN", 502},
		{"Accept-Language separators", "Accept-Language", ";;;,,,;q=;=;", 502},
		{"Accept-Language long tag", "Accept-Language", "xx-" + long, 502},
		{"Accept-Language 2,000 tags", "Accept-Language", strings.Repeat("zz-ZZ;q=0.1,", 2000), 502},
		{"Accept-Language bad UTF-8", "Accept-Language", "de-\xff\xfe, \xc3(", 502},
		{"Accept-Language private use", "Accept-Language", "x-klingon, i-default, und-u-va-posix", 502},
		{"Accept empty", "Accept", "", 502},
		{"Accept broken params", "Accept", "text/html;q=, */*;;;q=2, application/json;q=-0", 502},
		{"Accept everything refused", "Accept", "text/html;q=0, application/json;q=0, */*;q=0", 502},
		{"Accept long", "Accept", "text/" + long, 502},
		{"Accept bad UTF-8", "Accept", "text/\xff\xfe", 502},
		{"X-Code letters", "X-Code", "abc", 502},
		{"X-Code out of range", "X-Code", "999", 502},
		{"X-Code success", "X-Code", "200", 502},
		{"X-Code negative", "X-Code", "-502", 502},
		{"X-Code overflow", "X-Code", "99999999999999999999999", 502},
		{"X-Code float", "X-Code", "503.0", 502},
		{"X-Code hex", "X-Code", "0x1f7", 502},
		{"X-Code spaces", "X-Code", " 504 ", 504},
		{"X-Code list", "X-Code", "503, 504", 502},
		{"X-Code bad UTF-8", "X-Code", "5\xff3", 502},
		{"Accept-Language NUL", "Accept-Language", "de\x00en", 400},
		{"X-Code control byte", "X-Code", "50\x013", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := "GET /cart HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n" + tc.header + ": " + tc.value + "\r\n\r\n"
			resp, body, err := rawExchange(addr, req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("%s: %q → status %d; want %d\n%s", tc.header, clipStr(tc.value, 60), resp.StatusCode, tc.want, clipStr(body, 300))
			}
			if tc.want != 400 && (body == "" || resp.Header.Get("Content-Language") == "") {
				t.Errorf("%s: %q → not an error page (Content-Language %q, %d bytes)", tc.header, clipStr(tc.value, 60),
					resp.Header.Get("Content-Language"), len(body))
			}
		})
	}
	// Every format once more, with each header malformed at the same time.
	for _, f := range []string{"text/html", "application/json", "text/plain"} {
		req := "GET /x HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\nAccept: " + f + ";q=\xff\r\nAccept-Language: ;q=;,\xfe\r\nX-Code: 5o3\r\nX-Format: \xff\xff\r\nCookie: __gw_lang=\xff; __gw_lang=../../etc\r\n\r\n"
		resp, _, err := rawExchange(addr, req)
		if err != nil || resp.StatusCode != http.StatusBadGateway {
			t.Errorf("Accept %s with every header malformed: %v, %v; want 502", f, resp, err)
		}
	}
	if strings.Contains(gw.out.String(), "panic") {
		t.Errorf("gatewatch logged a panic:\n%s", tail(gw.out.String(), 4096))
	}
}

func clipStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
