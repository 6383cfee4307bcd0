// Package coalesce sends an HTTP/1 response that net/http splits at its
// connection buffer in one system call.
//
// net/http buffers each connection's output in a 4,096-byte bufio.Writer
// and cannot be told to use a larger one. A response longer than that
// (the error page's headers and gzip body are about 5.8 KB) leaves in two
// write(2) calls: the full buffer while the handler writes, the rest when
// the request finishes. On loopback, where nginx hands gatewatch its
// error pages, the second call costs nearly as much as the first.
//
// A connection from [Listener] holds a write of exactly the buffer's size
// (the buffer flushed because it was full, so more follows) and sends it
// with the next write in one writev(2). Anything held is sent before the
// connection's read deadline changes, which net/http does after every
// response, and before it closes; a response whose length is not a
// multiple of the buffer ends in a short write, which sends everything at
// once. Up to maxHeld bytes are held; past that, the held bytes and the
// next full buffer leave together, so a large response takes one call per
// 16 KB instead of one per 4 KB.
//
// It suits plain-HTTP listeners whose handlers write whole responses. A
// handler that streams with http.Flusher could see a flush of exactly
// 4,096 bytes wait for its next write; gatewatch's public listener has
// no such handler.
package coalesce

import (
	"net"
	"sync"
	"time"
)

// bufferSize is net/http's per-connection write buffer (server.go,
// newBufioWriterSize(checkConnErrorWriter{c}, 4<<10)).
const bufferSize = 4 << 10

// maxHeld bounds what one connection holds.
const maxHeld = 4 * bufferSize

// Listener returns ln with every accepted connection coalescing its
// writes as the package comment says.
func Listener(ln net.Listener) net.Listener { return &listener{Listener: ln} }

type listener struct {
	net.Listener
	accepted func(*conn) // tests see the connections
}

// Accept waits for the next connection and wraps it.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	w := &conn{Conn: c}
	if l.accepted != nil {
		l.accepted(w)
	}
	return w, nil
}

// held buffers are pooled: a connection holds one only between the two
// writes of a response, microseconds, so a thousand idle keep-alive
// connections hold none.
var pool = sync.Pool{New: func() any { b := make([]byte, 0, 2*bufferSize); return &b }}

type conn struct {
	net.Conn
	mu    sync.Mutex // net/http writes from one goroutine; Close may come from another
	held  *[]byte
	bufs  [2][]byte
	vec   net.Buffers
	sends int // system calls' worth of writes passed down, for tests
}

// Write holds a full buffer and sends what it holds with the next write.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p) == bufferSize && (c.held == nil || len(*c.held)+len(p) <= maxHeld) {
		if c.held == nil {
			c.held = pool.Get().(*[]byte)
		}
		*c.held = append(*c.held, p...)
		return len(p), nil
	}
	if c.held == nil {
		c.sends++
		return c.Conn.Write(p)
	}
	held := len(*c.held)
	n, err := c.send(p)
	return max(n-held, 0), err
}

// send writes what is held and then p (which may be nil) in one call, and
// releases the held buffer.
func (c *conn) send(p []byte) (int, error) {
	c.bufs = [2][]byte{*c.held, p}
	c.vec = c.bufs[:]
	if p == nil {
		c.vec = c.bufs[:1]
	}
	c.sends++
	n, err := c.vec.WriteTo(c.Conn) // writev(2) on a *net.TCPConn
	*c.held = (*c.held)[:0]
	pool.Put(c.held)
	c.held, c.bufs, c.vec = nil, [2][]byte{}, nil
	return int(n), err
}

// flush sends whatever is held.
func (c *conn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		return nil
	}
	_, err := c.send(nil)
	return err
}

// SetReadDeadline sends what is held first: net/http sets the read
// deadline after each response, before it waits for the next request.
func (c *conn) SetReadDeadline(t time.Time) error {
	if err := c.flush(); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sends what is held first, as SetReadDeadline.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.flush(); err != nil {
		return err
	}
	return c.Conn.SetDeadline(t)
}

// Close sends what is held, then closes.
func (c *conn) Close() error {
	c.flush()
	return c.Conn.Close()
}

// CloseWrite sends what is held, then shuts the sending side, which
// net/http does before closing a connection it will not keep alive.
func (c *conn) CloseWrite() error {
	if err := c.flush(); err != nil {
		return err
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
