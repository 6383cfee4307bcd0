package probe_test

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// TestCheckClasses is the class table: one real loopback origin per
// outcome, each checked by a real Prober.
func TestCheckClasses(t *testing.T) {
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(okSrv.Close)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(unavailable.Close)
	slowSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(slowSrv.Close)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	// The self-signed row makes the server log a handshake error by design.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	trusted := x509.NewCertPool()
	trusted.AddCert(tlsSrv.Certificate())

	sil := silent(t).Addr().String()
	rst := resetting(t).Addr().String()
	hang := hangingUp(t).Addr().String()
	ssh := writing(t, "SSH-2.0-OpenSSH_9.6\r\n").Addr().String()
	flood := endlessHeaders(t).Addr().String()
	closed := closedAddr(t)

	resolver := &fakeResolver{names: map[string][]string{
		"origin.test": {"127.0.0.1"},
	}}
	// A real resolver whose DNS server is a closed loopback UDP port: the
	// lookup fails the way it does when the resolver is unreachable, and no
	// query leaves the machine.
	deadDNS := closedAddr(t)
	realResolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", deadDNS)
	}}
	// blackhole behaves like a dialer whose SYNs are dropped: it returns
	// what net.Dialer returns when its deadline passes. A real black hole
	// would need traffic off loopback; the Linux-only test below uses an
	// exhausted listen backlog instead.
	blackhole := func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
	}

	// Stage timeouts leave room for a loaded 2-core CI machine: a TLS
	// handshake can take a few hundred milliseconds there.
	fast := probe.Options{Timeout: 3 * time.Second, StageTimeout: time.Second, SlowThreshold: 2 * time.Second}
	with := func(f func(*probe.Options)) probe.Options {
		o := fast
		f(&o)
		return o
	}
	tests := []struct {
		name       string
		opts       probe.Options
		target     probe.Target
		want       probe.Class
		wantOK     bool
		wantStages string
		wantStatus int
	}{
		{"ok", fast, probe.Target{URL: okSrv.URL + "/health"}, probe.ClassOK, true, "connect:true,http:true", 204},
		{"4xx is still an answer", fast, probe.Target{URL: notFound.URL}, probe.ClassOK, true, "connect:true,http:true", 404},
		{"ok over tls", with(func(o *probe.Options) { o.RootCAs = trusted }),
			probe.Target{URL: tlsSrv.URL}, probe.ClassOK, true, "connect:true,tls:true,http:true", 200},
		{"ok through a name", with(func(o *probe.Options) { o.Resolver = resolver }),
			probe.Target{URL: "http://origin.test:" + port(t, okSrv.Listener.Addr().String()) + "/"}, probe.ClassOK, true, "dns:true,connect:true,http:true", 204},
		{"tcp only", fast, probe.Target{URL: "tcp://" + okSrv.Listener.Addr().String()}, probe.ClassOK, true, "connect:true", 0},
		{"invalid name", with(func(o *probe.Options) { o.Resolver = resolver }),
			probe.Target{URL: "http://origin.invalid/"}, probe.ClassDNSFailure, false, "dns:false", 0},
		{"unknown name", with(func(o *probe.Options) { o.Resolver = resolver }),
			probe.Target{URL: "http://missing.test/"}, probe.ClassDNSFailure, false, "dns:false", 0},
		{"dns server unreachable", with(func(o *probe.Options) { o.Resolver = realResolver }),
			probe.Target{URL: "http://origin.test./"}, probe.ClassDNSFailure, false, "dns:false", 0},
		{"closed port", fast, probe.Target{URL: "http://" + closed + "/"}, probe.ClassRefused, false, "connect:false", 0},
		{"closed port tcp", fast, probe.Target{URL: "tcp://" + closed}, probe.ClassRefused, false, "connect:false", 0},
		{"connect black hole", with(func(o *probe.Options) { o.DialContext = blackhole }),
			probe.Target{URL: "http://" + okSrv.Listener.Addr().String() + "/"}, probe.ClassConnectTimeout, false, "connect:false", 0},
		{"accepts, never answers http", fast, probe.Target{URL: "http://" + sil + "/"}, probe.ClassSlow, false, "connect:true,http:false", 0},
		{"accepts, never answers tls", fast, probe.Target{URL: "https://" + sil + "/"}, probe.ClassSlow, false, "connect:true,tls:false", 0},
		// The RST may land before the dialler reads the socket's status,
		// so a reset shows up in connect or in the stage after it.
		{"reset", fast, probe.Target{URL: "http://" + rst + "/"}, probe.ClassReset, false, "connect:true,http:false|connect:false", 0},
		{"reset during tls", fast, probe.Target{URL: "https://" + rst + "/"}, probe.ClassReset, false, "connect:true,tls:false|connect:false", 0},
		{"closes without answer", fast, probe.Target{URL: "http://" + hang + "/"}, probe.ClassReset, false, "connect:true,http:false", 0},
		{"plain http on a tls check", fast, probe.Target{URL: "https://" + okSrv.Listener.Addr().String() + "/"}, probe.ClassBadResponse, false, "connect:true,tls:false", 0},
		{"not http", fast, probe.Target{URL: "http://" + ssh + "/"}, probe.ClassBadResponse, false, "connect:true,http:false", 0},
		{"endless response head", with(func(o *probe.Options) { o.StageTimeout = 2 * time.Second }),
			probe.Target{URL: "http://" + flood + "/"}, probe.ClassBadResponse, false, "connect:true,http:false", 0},
		{"self-signed cert", fast, probe.Target{URL: tlsSrv.URL}, probe.ClassTLSError, false, "connect:true,tls:false", 0},
		{"503", fast, probe.Target{URL: unavailable.URL}, probe.ClassHTTP5xx, false, "connect:true,http:false", 503},
		{"slow answer", with(func(o *probe.Options) { o.StageTimeout = 2 * time.Second; o.SlowThreshold = 100 * time.Millisecond }),
			probe.Target{URL: slowSrv.URL}, probe.ClassSlow, true, "connect:true,http:true", 200},
		{"bad url", fast, probe.Target{URL: "ftp://example.test/"}, probe.ClassInvalidTarget, false, "", 0},
	}
	// The rows run in parallel inside a group, so that the check after the
	// group sees all of them finished.
	t.Run("rows", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := probe.New(tt.opts).Check(context.Background(), tt.target)
				if r.Class != tt.want {
					t.Errorf("Check(%q).Class = %q; want %q (detail %q)", tt.target.URL, r.Class, tt.want, r.Detail)
				}
				if r.OK() != tt.wantOK {
					t.Errorf("Check(%q).OK() = %t; want %t", tt.target.URL, r.OK(), tt.wantOK)
				}
				if got := stageNames(r.Stages); !slices.Contains(strings.Split(tt.wantStages, "|"), got) {
					t.Errorf("Check(%q) stages = %q; want %q", tt.target.URL, got, tt.wantStages)
				}
				if r.StatusCode != tt.wantStatus {
					t.Errorf("Check(%q).StatusCode = %d; want %d", tt.target.URL, r.StatusCode, tt.wantStatus)
				}
				if r.Target != tt.target {
					t.Errorf("Check(%q).Target = %+v; want %+v", tt.target.URL, r.Target, tt.target)
				}
				if !tt.wantOK && r.Detail == "" {
					t.Errorf("Check(%q).Detail is empty; want the evidence", tt.target.URL)
				}
				var sum time.Duration
				for _, s := range r.Stages {
					sum += s.Duration
					if !s.OK && s.Err == "" {
						t.Errorf("Check(%q) stage %q failed without Err", tt.target.URL, s.Name)
					}
				}
				if sum > r.Duration || r.Duration > tt.opts.Timeout+500*time.Millisecond {
					t.Errorf("Check(%q) took %s (stages %s); want stages <= total <= timeout %s", tt.target.URL, r.Duration, sum, tt.opts.Timeout)
				}
			})
		}
	})
	// RFC 6761: a .invalid name is answered locally; the only lookups the
	// fake resolver saw are origin.test and missing.test.
	if got := resolver.calls.Load(); got != 2 {
		t.Errorf("resolver lookups = %d; want 2 (none for .invalid)", got)
	}
}

// TestCheckAddrOverride checks that Addr is what gets dialled while the Host
// header and TLS server name still come from the URL, so a certificate for
// the site's name verifies against the address nginx reported.
func TestCheckAddrOverride(t *testing.T) {
	var host atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host + " " + r.URL.Path + " " + r.UserAgent())
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	resolver := &fakeResolver{}
	p := probe.New(probe.Options{Timeout: 2 * time.Second, StageTimeout: time.Second, RootCAs: pool, Resolver: resolver})
	// httptest's certificate is valid for example.com.
	target := probe.Target{URL: "https://example.com/healthz", Addr: srv.Listener.Addr().String()}
	r := p.Check(context.Background(), target)
	if r.Class != probe.ClassOK {
		t.Fatalf("Check(%q via %q).Class = %q; want %q (%s)", target.URL, target.Addr, r.Class, probe.ClassOK, r.Detail)
	}
	if got, want := host.Load(), "example.com /healthz "+probe.DefaultUserAgent; got != want {
		t.Errorf("origin saw %q; want %q", got, want)
	}
	if n := resolver.calls.Load(); n != 0 {
		t.Errorf("resolver lookups = %d; want 0 (the addr is an IP)", n)
	}
}

// TestCheckTriesNextAddress checks that a name resolving to several
// addresses is checked on the next one when the first refuses.
func TestCheckTriesNextAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	var dialed []string
	// 192.0.2.1 (TEST-NET-1) is refused by the dialer itself: nothing is
	// sent off loopback.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		if host, _, _ := net.SplitHostPort(addr); host == "192.0.2.1" {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	p := probe.New(probe.Options{
		Timeout: 2 * time.Second, StageTimeout: time.Second, DialContext: dial,
		Resolver: &fakeResolver{names: map[string][]string{"origin.test": {"192.0.2.1", "127.0.0.1", "127.0.0.1"}}},
	})
	url := "http://origin.test:" + port(t, srv.Listener.Addr().String())
	r := p.Check(context.Background(), probe.Target{URL: url})
	if r.Class != probe.ClassOK {
		t.Errorf("Check(%q).Class = %q; want %q (%s)", url, r.Class, probe.ClassOK, r.Detail)
	}
	if len(dialed) != 2 {
		t.Errorf("dialled %q; want the refused address, then the duplicate-free loopback one", dialed)
	}
}

// TestCheckUnixSocket checks an origin that nginx reaches over a unix socket.
func TestCheckUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("listen unix: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}}
	srv.Start()
	t.Cleanup(srv.Close)
	p := probe.New(probe.Options{Timeout: time.Second, StageTimeout: 300 * time.Millisecond})
	tests := []struct {
		addr string
		want probe.Class
	}{
		{"unix:" + path, probe.ClassOK},
		{"unix:" + path + ".missing", probe.ClassRefused},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			r := p.Check(context.Background(), probe.Target{URL: "http://app.internal/", Addr: tt.addr})
			if r.Class != tt.want {
				t.Errorf("Check(%q).Class = %q; want %q (%s)", tt.addr, r.Class, tt.want, r.Detail)
			}
		})
	}
}

// TestCheckBounded checks that the overall timeout wins over a longer stage
// timeout, and that a caller's cancellation ends a check at once.
func TestCheckBounded(t *testing.T) {
	addr := silent(t).Addr().String()
	p := probe.New(probe.Options{Timeout: 200 * time.Millisecond, StageTimeout: 10 * time.Second})
	start := time.Now()
	r := p.Check(context.Background(), probe.Target{URL: "http://" + addr + "/"})
	if took := time.Since(start); took > time.Second {
		t.Errorf("Check with a 200ms timeout took %s; want about 200ms", took)
	}
	if r.Class != probe.ClassSlow || r.OK() {
		t.Errorf("Check(silent).Class = %q, OK() = %t; want %q, false", r.Class, r.OK(), probe.ClassSlow)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	p = probe.New(probe.Options{Timeout: 10 * time.Second, StageTimeout: 10 * time.Second})
	start = time.Now()
	r = p.Check(ctx, probe.Target{URL: "http://" + addr + "/"})
	if took := time.Since(start); took > time.Second {
		t.Errorf("canceled Check took %s; want it to stop with its context", took)
	}
	if r.OK() {
		t.Errorf("canceled Check OK() = true; want false")
	}
}

// TestTargetValidate covers the targets Check refuses to run.
func TestTargetValidate(t *testing.T) {
	tests := []struct {
		target probe.Target
		ok     bool
	}{
		{probe.Target{URL: "http://app.example/health"}, true},
		{probe.Target{URL: "https://app.example:8443/"}, true},
		{probe.Target{URL: "tcp://10.0.0.5:5432"}, true},
		{probe.Target{URL: "http://app.example/", Addr: "10.0.0.5:8080"}, true},
		{probe.Target{URL: "http://app.example/", Addr: "[::1]:8080"}, true},
		{probe.Target{URL: "http://app.example/", Addr: "unix:/run/app.sock"}, true},
		{probe.Target{URL: "tcp://app", Addr: "unix:/run/app.sock"}, true},
		{probe.Target{}, false},
		{probe.Target{URL: "ftp://app.example/"}, false},
		{probe.Target{URL: "http:///path"}, false},
		{probe.Target{URL: "http://user:pw@app.example/"}, false},
		{probe.Target{URL: "tcp://app.example"}, false},
		{probe.Target{URL: "http://app.example/", Addr: "10.0.0.5"}, false},
		{probe.Target{URL: "http://app.example/", Addr: "unix:"}, false},
		{probe.Target{URL: "http://[::1/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.target.URL+" "+tt.target.Addr, func(t *testing.T) {
			err := tt.target.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate(%q, %q) = %v; want ok=%t", tt.target.URL, tt.target.Addr, err, tt.ok)
			}
			if err != nil {
				r := probe.New(probe.Options{}).Check(context.Background(), tt.target)
				if r.Class != probe.ClassInvalidTarget || len(r.Stages) != 0 {
					t.Errorf("Check(%q).Class = %q with %d stages; want %q and none", tt.target.URL, r.Class, len(r.Stages), probe.ClassInvalidTarget)
				}
			}
		})
	}
}

// TestClasses keeps the list in step with the constants metrics rely on.
func TestClasses(t *testing.T) {
	seen := map[probe.Class]bool{}
	for _, c := range probe.Classes() {
		if seen[c] || c == "" {
			t.Errorf("Classes() repeats or has empty %q", c)
		}
		seen[c] = true
	}
	if len(seen) != 10 {
		t.Errorf("len(Classes()) = %d; want 10", len(seen))
	}
}
