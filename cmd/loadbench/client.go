package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// requestTimeout bounds one request of the generator, connecting included.
const requestTimeout = 10 * time.Second

// request is one GET, serialised once for every worker to send as is.
type request struct {
	addr string        // host:port to dial
	req  *http.Request // for http.ReadResponse
	wire []byte
}

// newRequest builds the GET for rawURL with headers ("Host" sets the
// request's Host).
func newRequest(rawURL string, headers [][2]string) (*request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: the generator speaks plain http only", rawURL)
	}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		if h[0] == "Host" {
			req.Host = h[1]
			continue
		}
		req.Header.Set(h[0], h[1])
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &request{addr: addr, req: req, wire: wire.Bytes()}, nil
}

// rawConn is one worker's keep-alive connection. It writes the prepared
// request and reads the answer with http.ReadResponse on the worker's own
// goroutine: net/http's Transport runs two more goroutines per connection
// and hands each request between them, which costs about twice the CPU
// per request, taken from the servers being measured on the same cores.
type rawConn struct {
	r  *request
	c  net.Conn
	br *bufio.Reader
}

// get sends the request and returns the status code, having read the
// whole body. A connection the server has closed since the last answer
// is replaced once, as net/http retries an idempotent request.
func (rc *rawConn) get() (int, error) {
	for {
		reused := rc.c != nil
		if !reused {
			c, err := net.DialTimeout("tcp", rc.r.addr, requestTimeout)
			if err != nil {
				return 0, err
			}
			rc.c = c
			if rc.br == nil {
				rc.br = bufio.NewReaderSize(c, 16<<10)
			} else {
				rc.br.Reset(c)
			}
		}
		code, sentNothing, err := rc.roundTrip()
		if err == nil {
			return code, nil
		}
		rc.close()
		if !reused || !sentNothing {
			return 0, err
		}
	}
}

// roundTrip is one request on the open connection. sentNothing reports
// that the server answered not a byte, as when it closed the connection
// while idle.
func (rc *rawConn) roundTrip() (code int, sentNothing bool, err error) {
	rc.c.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := rc.c.Write(rc.r.wire); err != nil {
		return 0, true, err
	}
	if _, err := rc.br.Peek(1); err != nil {
		return 0, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), err
	}
	resp, err := http.ReadResponse(rc.br, rc.r.req)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, false, err
	}
	if resp.Close {
		rc.close()
	}
	return resp.StatusCode, false, nil
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c = nil
	}
}
