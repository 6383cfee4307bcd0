package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Stage is one step of a check with its duration. OK is false for the stage
// that failed, which is always the last one recorded; Err holds its error
// text (admin-only evidence).
type Stage struct {
	Name     string // StageDNS, StageConnect, StageTLS or StageHTTP
	Duration time.Duration
	OK       bool
	Err      string
}

// Result is the outcome of one check. Target, Detail and the stage errors are
// internal evidence for admin pages; public pages must show no more than the
// verdict derived from Class.
type Result struct {
	Target     Target
	Class      Class
	Stages     []Stage
	StatusCode int // the HTTP status, 0 when no response was read
	Started    time.Time
	Duration   time.Duration
	Detail     string // admin-only: the error text or why the class was chosen
}

// OK reports whether the origin is up for a visitor: the check completed
// with ClassOK, or with ClassSlow after every stage succeeded (up but
// degraded). A slow class without a complete check (accepted, never
// answered) is not OK.
func (r Result) OK() bool {
	switch r.Class {
	case ClassOK:
		return true
	case ClassSlow:
		return len(r.Stages) > 0 && r.Stages[len(r.Stages)-1].OK
	}
	return false
}

// Resolver looks names up; *net.Resolver satisfies it. Tests use it to map
// names to loopback addresses without touching DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configures a Prober. Zero values take the defaults noted.
type Options struct {
	// Timeout bounds a whole check (default 10s).
	Timeout time.Duration
	// StageTimeout bounds each stage (default 5s); a stage also stops when
	// the overall Timeout runs out.
	StageTimeout time.Duration
	// SlowThreshold is the time spent talking to the origin (connect, TLS
	// and HTTP stages, not DNS) past which a completed check is slow
	// (default 2s).
	SlowThreshold time.Duration
	// RootCAs verifies https origins; nil means the system pool. Tests and
	// operators with a private CA set it.
	RootCAs *x509.CertPool
	// Resolver resolves names (default net.DefaultResolver).
	Resolver Resolver
	// DialContext opens connections (default a net.Dialer). It exists for
	// tests that need a connect timeout without traffic off loopback, and
	// for operators who must bind a source address.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// UserAgent is sent with the HTTP request, so that origin logs can tell
	// probes from visitors (default "gatewatch-probe/1").
	UserAgent string
}

// Defaults used by New for zero Options fields.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultStageTimeout  = 5 * time.Second
	DefaultSlowThreshold = 2 * time.Second
	DefaultUserAgent     = "gatewatch-probe/1"
)

const (
	// maxAddrs caps how many resolved addresses one check tries, so a name
	// with many records cannot stretch a check into a scan.
	maxAddrs = 4
	// maxHeaderBytes caps what is read of the response head: a check needs
	// the status line, and an origin must not be able to feed it forever.
	maxHeaderBytes = 64 << 10
)

// Prober runs checks. It holds no per-check state and is safe for concurrent
// use.
type Prober struct {
	opts Options
}

// New returns a Prober with opts, defaults filled in.
func New(opts Options) *Prober {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.StageTimeout <= 0 {
		opts.StageTimeout = DefaultStageTimeout
	}
	if opts.SlowThreshold <= 0 {
		opts.SlowThreshold = DefaultSlowThreshold
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.DialContext == nil {
		var d net.Dialer
		opts.DialContext = d.DialContext
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	return &Prober{opts: opts}
}

// Check runs one check of t. It returns within Options.Timeout (or sooner if
// ctx ends) and reports every outcome, including an invalid target, as a
// Result rather than an error.
func (p *Prober) Check(ctx context.Context, t Target) (r Result) {
	r = Result{Target: t, Started: time.Now()}
	defer func() { r.Duration = time.Since(r.Started) }()
	pl, err := t.plan()
	if err != nil {
		r.Class, r.Detail = ClassInvalidTarget, err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	c := &check{p: p, ctx: ctx, r: &r, pl: pl}
	c.run()
	return r
}

// check is the state of one Check call.
type check struct {
	p   *Prober
	ctx context.Context
	r   *Result
	pl  plan
}

func (c *check) run() {
	addrs, err := c.resolve()
	if err != nil {
		return
	}
	conn, err := c.connect(addrs)
	if err != nil {
		return
	}
	defer conn.Close()
	if c.pl.scheme == "https" {
		if conn, err = c.handshake(conn); err != nil {
			return
		}
	}
	if c.pl.scheme != "tcp" {
		if err := c.request(conn); err != nil {
			return
		}
	}
	c.finish()
}

// stage runs fn as the named stage under the stage timeout and records it.
// On failure it sets the Result's class from the error.
func (c *check) stage(name string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.p.opts.StageTimeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	st := Stage{Name: name, Duration: time.Since(start), OK: err == nil}
	if err != nil {
		st.Err = err.Error()
		c.r.Class = classify(name, err)
		c.r.Detail = name + ": " + err.Error()
		if c.r.Class == ClassSlow {
			c.r.Detail = fmt.Sprintf("%s: connection accepted, no answer within %s: %v", name, st.Duration.Round(time.Millisecond), err)
		}
		if errors.Is(c.ctx.Err(), context.Canceled) {
			c.r.Detail = name + ": check canceled: " + err.Error()
		}
	}
	c.r.Stages = append(c.r.Stages, st)
	return err
}

// errReservedName is returned for names under .invalid, which RFC 6761
// reserves as never resolving: answering locally keeps such a check from
// sending a query anywhere.
var errReservedName = errors.New("name under .invalid never resolves (RFC 6761)")

// resolve returns the addresses to dial, running the dns stage only when the
// dial host is a name.
func (c *check) resolve() ([]string, error) {
	pl := c.pl
	if pl.network == "unix" {
		return []string{pl.dialHost}, nil
	}
	if _, err := netip.ParseAddr(pl.dialHost); err == nil {
		return []string{net.JoinHostPort(pl.dialHost, pl.dialPort)}, nil
	}
	var addrs []string
	err := c.stage(StageDNS, func(ctx context.Context) error {
		name := strings.ToLower(strings.TrimSuffix(pl.dialHost, "."))
		if name == "invalid" || strings.HasSuffix(name, ".invalid") {
			return errReservedName
		}
		ips, err := c.p.opts.Resolver.LookupNetIP(ctx, "ip", pl.dialHost)
		if err != nil {
			return err
		}
		seen := make(map[netip.Addr]bool, len(ips))
		for _, ip := range ips {
			ip = ip.Unmap()
			if seen[ip] || len(addrs) == maxAddrs {
				continue
			}
			seen[ip] = true
			addrs = append(addrs, ip.String())
		}
		if len(addrs) == 0 {
			return fmt.Errorf("no addresses for %s", pl.dialHost)
		}
		for i, a := range addrs {
			addrs[i] = net.JoinHostPort(a, pl.dialPort)
		}
		return nil
	})
	return addrs, err
}

// connect dials the addresses in turn, sharing the stage's time between
// those left so that one black-holed address cannot starve the others.
func (c *check) connect(addrs []string) (net.Conn, error) {
	var conn net.Conn
	err := c.stage(StageConnect, func(ctx context.Context) error {
		var last error
		for i, a := range addrs {
			actx, cancel := ctx, context.CancelFunc(func() {})
			if dl, ok := ctx.Deadline(); ok && i < len(addrs)-1 {
				share := time.Until(dl) / time.Duration(len(addrs)-i)
				actx, cancel = context.WithTimeout(ctx, share)
			}
			cn, err := c.p.opts.DialContext(actx, c.pl.network, a)
			cancel()
			if err == nil {
				conn = cn
				return nil
			}
			last = err
			if ctx.Err() != nil {
				break
			}
		}
		return last
	})
	return conn, err
}

// handshake runs the TLS stage. Verification is never skipped: a bad
// certificate is exactly what tls_error is for.
func (c *check) handshake(conn net.Conn) (net.Conn, error) {
	tc := tls.Client(conn, &tls.Config{
		ServerName: c.pl.hostname,
		RootCAs:    c.p.opts.RootCAs,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
	})
	err := c.stage(StageTLS, func(ctx context.Context) error {
		return tc.HandshakeContext(ctx)
	})
	return tc, err
}

// request sends one GET and reads the response head; the body is never read
// because the status line is all a check needs.
func (c *check) request(conn net.Conn) error {
	return c.stage(StageHTTP, func(ctx context.Context) error {
		if dl, ok := ctx.Deadline(); ok {
			if err := conn.SetDeadline(dl); err != nil {
				return err
			}
		}
		// Deadlines cover timeouts; this covers the caller canceling.
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.pl.url.String(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", c.p.opts.UserAgent)
		req.Close = true
		if err := req.Write(conn); err != nil {
			return err
		}
		br := bufio.NewReader(&capReader{r: conn, left: maxHeaderBytes})
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return err
		}
		// The body is left unread on purpose: closing it would drain it, and a
		// slow origin could then hold the check; closing conn ends it.
		c.r.StatusCode = resp.StatusCode
		if resp.StatusCode >= 500 {
			return &statusError{code: resp.StatusCode, status: resp.Status}
		}
		return nil
	})
}

// finish classifies a check whose stages all completed.
func (c *check) finish() {
	var talking time.Duration
	for _, st := range c.r.Stages {
		if st.Name != StageDNS {
			talking += st.Duration
		}
	}
	if talking > c.p.opts.SlowThreshold {
		c.r.Class = ClassSlow
		c.r.Detail = fmt.Sprintf("answered in %s, past the %s threshold", talking.Round(time.Millisecond), c.p.opts.SlowThreshold)
		return
	}
	c.r.Class = ClassOK
	if c.r.StatusCode != 0 {
		c.r.Detail = fmt.Sprintf("HTTP %d", c.r.StatusCode)
	}
}

// statusError is a response that arrived but says the application failed.
type statusError struct {
	code   int
	status string
}

func (e *statusError) Error() string { return "HTTP " + e.status }

// errHeaderTooLarge ends a response head that would not stop.
var errHeaderTooLarge = errors.New("response head larger than 64 KiB")

// capReader fails, rather than reporting EOF, once its budget is spent, so
// an oversized head reads as a bad response and not as a closed connection.
type capReader struct {
	r    io.Reader
	left int
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errHeaderTooLarge
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}
