//go:build e2e

// Package e2e drives gatewatch as operators deploy it: the real binary
// behind a real nginx (Debian's), with real upstreams on loopback.
package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// binary is the gatewatch binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatewatch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatewatch")
	build := exec.Command("go", "build", "-o", binary, "../cmd/gatewatch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatewatch:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopSharedBrowser()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ports is the test binary's port book: no two callers of freePort or
// gatewatchPort get the same port, however many tests run in parallel.
var ports = struct {
	mu       sync.Mutex
	given    map[int]bool
	reserved map[int]int // gatewatchPort's bound sockets, by port, until handed over
}{given: map[int]bool{}, reserved: map[int]int{}}

// freePort returns a loopback port nothing listens on right now, for a
// server that must name its port in a config (nginx, the other proxies,
// an upstream that comes back). It never returns a port it returned
// before in this test binary; another process may still take it before
// the server binds it, which the start helpers meet by retrying on
// "address in use" (startNginx, runProxy).
func freePort(tb testing.TB) int {
	tb.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ports.mu.Lock()
		fresh := !ports.given[port]
		ports.given[port] = true
		ports.mu.Unlock()
		if fresh {
			return port
		}
	}
	tb.Fatal("freePort: no port the test binary has not given out already")
	return 0
}

// gatewatchPort returns a loopback port for one of gatewatch's own
// listeners, for a config to name. The port is bound now, by a socket
// that does not listen yet (so connecting is refused, as to a port where
// nothing runs, and nothing else can bind it); startGatewatch hands that
// socket to gatewatch, listening, through systemd socket activation. So
// the port in the config is the socket gatewatch serves, with no moment
// between choosing and binding. A port that no start took is released
// when the test ends.
func gatewatchPort(tb testing.TB) int {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		tb.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		tb.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	ports.mu.Lock()
	ports.given[port] = true
	ports.reserved[port] = fd
	ports.mu.Unlock()
	tb.Cleanup(func() {
		if fd, ok := takeReserved(port); ok {
			syscall.Close(fd)
		}
	})
	return port
}

func takeReserved(port int) (int, bool) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	fd, ok := ports.reserved[port]
	delete(ports.reserved, port)
	return fd, ok
}

// listenSocket returns a listening socket on addr ("host:port") for
// gatewatch to inherit: the one gatewatchPort reserved for the port, or a
// new one (port 0: any port; a restart: the port the previous process
// had). The caller closes it once the child has it.
func listenSocket(tb testing.TB, addr string) *os.File {
	tb.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("gatewatch listen address %q: %v", addr, err)
	}
	port, _ := strconv.Atoi(p)
	if fd, ok := takeReserved(port); ok && port != 0 {
		// SO_REUSEADDR only now (a bind without it is what kept others off
		// the port): the connections it accepts inherit it, so that once
		// gatewatch exits, a restart can bind the port again while they
		// linger in TIME_WAIT.
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			syscall.Close(fd)
			tb.Fatalf("reserved port %d: %v", port, err)
		}
		// The kernel caps the backlog at net.core.somaxconn, as for Go's
		// own listeners (syscall.SOMAXCONN is the old 128: too short a
		// queue for the load test's bursts).
		if err := syscall.Listen(fd, 1<<16-1); err != nil {
			syscall.Close(fd)
			tb.Fatalf("listen on reserved port %d: %v", port, err)
		}
		return os.NewFile(uintptr(fd), addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, p))
	if err != nil {
		tb.Fatalf("bind gatewatch's %s: %v", addr, err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// nginxPath finds Debian's nginx, or fails saying how to get it.
func nginxPath(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	tb.Fatal("nginx not found: `make test` installs it (apt-get install nginx)")
	return ""
}

// gatewatch is a running gatewatch process.
type gatewatch struct {
	public, admin string // base URLs
	cmd           *exec.Cmd
	out           *syncBuffer
	once          sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stop ends gatewatch as SIGTERM would, waiting for it to exit.
func (g *gatewatch) stop() {
	g.once.Do(func() {
		g.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { g.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			g.cmd.Process.Kill()
			<-done
		}
	})
}

var bannerRE = regexp.MustCompile(`(error pages|admin) on (http://[0-9.:]+)/`)

// startGatewatch runs the binary with the config file (whose listen
// address the nginx include also names) and the admin listener on a free
// port, and waits until it answers /healthz.
func startGatewatch(tb testing.TB, configPath string) *gatewatch {
	tb.Helper()
	return startGatewatchArgs(tb, "serve", "--config", configPath, "--admin-listen", "127.0.0.1:0", "--data", tb.TempDir())
}

// startGatewatchArgs runs the binary with args (which must make it print
// both URLs) and waits until it answers /healthz.
func startGatewatchArgs(tb testing.TB, args ...string) *gatewatch {
	tb.Helper()
	return startGatewatchBin(tb, binary, args...)
}

// startGatewatchBin is startGatewatchArgs for another gatewatch binary
// (the container image's). gatewatch gets its listeners already bound,
// as systemd socket activation passes them (LISTEN_FDS, LISTEN_FDNAMES
// public and admin, LISTEN_PID set by the shell that execs it): the
// addresses the config and the flags name, a gatewatchPort's socket for
// its port.
func startGatewatchBin(tb testing.TB, bin string, args ...string) *gatewatch {
	tb.Helper()
	public, admin := listenAddrs(tb, args)
	var sockets []socket
	for _, l := range []socket{{name: "public", addr: public}, {name: "admin", addr: admin}} {
		if l.addr != "" {
			sockets = append(sockets, socket{name: l.name, file: listenSocket(tb, l.addr)})
		}
	}
	return startGatewatchSockets(tb, bin, sockets, args...)
}

// socket is a listening socket passed to gatewatch under a name.
type socket struct {
	name, addr string
	file       *os.File
}

// activated is the command that runs bin with args and the sockets
// passed by the systemd protocol; it closes nothing.
func activated(bin string, sockets []socket, args ...string) *exec.Cmd {
	// sh sets LISTEN_PID to its own pid, which exec keeps for gatewatch.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`, bin}, args...)...)
	var names []string
	for _, s := range sockets {
		cmd.ExtraFiles = append(cmd.ExtraFiles, s.file)
		names = append(names, s.name)
	}
	cmd.Env = append(os.Environ(), fmt.Sprintf("LISTEN_FDS=%d", len(sockets)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	return cmd
}

// startGatewatchSockets runs bin with args and the sockets, closes this
// process's copies of them, and waits until gatewatch answers /healthz.
func startGatewatchSockets(tb testing.TB, bin string, sockets []socket, args ...string) *gatewatch {
	tb.Helper()
	cmd := activated(bin, sockets, args...)
	files := cmd.ExtraFiles
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	g := &gatewatch{cmd: cmd, out: &syncBuffer{}}
	cmd.Stderr = g.out
	err = cmd.Start()
	// gatewatch has its copies now: once it exits, the ports are free and
	// connections to them are refused, as a test of "gatewatch is down"
	// expects.
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		g.stop()
		if tb.Failed() {
			tb.Logf("gatewatch log (last 8 KB):\n%s", tail(g.out.String(), 8<<10))
		}
	})
	found, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			g.out.Write([]byte(line + "\n"))
			if m := bannerRE.FindStringSubmatch(line); m != nil {
				if m[1] == "admin" {
					g.admin = m[2]
				} else {
					g.public = m[2]
				}
				if g.admin != "" && g.public != "" {
					close(found)
				}
			}
		}
	}()
	select {
	case <-found:
	case <-ended:
		select {
		case <-found: // the last line was the banner
		default:
			tb.Fatalf("gatewatch exited before printing its URLs; output:\n%s", g.out.String())
		}
	case <-time.After(20 * time.Second):
		tb.Fatalf("gatewatch did not print its URLs; output:\n%s", g.out.String())
	}
	waitHTTP(tb, g.admin+"/healthz", 200)
	return g
}

var (
	listenRE      = regexp.MustCompile(`(?m)^\s*listen\s*=\s*"([^"]*)"`)
	adminListenRE = regexp.MustCompile(`(?m)^\s*admin_listen\s*=\s*"([^"]*)"`)
)

// listenAddrs is where gatewatch run with args would listen: the
// embedded default's addresses, then the config's server.listen and
// server.admin_listen, then the flags, as gatewatch reads them.
func listenAddrs(tb testing.TB, args []string) (public, admin string) {
	tb.Helper()
	public = "127.0.0.1:8080" // the embedded default's
	admin = "127.0.0.1:8081"
	for i := 0; i+1 < len(args); i++ {
		if args[i] != "--config" {
			continue
		}
		b, err := os.ReadFile(args[i+1])
		if err != nil {
			tb.Fatal(err)
		}
		if m := listenRE.FindSubmatch(b); m != nil {
			public = string(m[1])
		}
		if m := adminListenRE.FindSubmatch(b); m != nil {
			admin = string(m[1])
		}
	}
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--listen":
			public = args[i+1]
		case "--admin-listen":
			admin = args[i+1]
		}
	}
	return public, admin
}

func waitHTTP(tb testing.TB, url string, want int) {
	tb.Helper()
	eventually(tb, 15*time.Second, fmt.Sprintf("%s answers %d", url, want), func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == want
	})
}

// nginxServer is a running nginx with gatewatch's generated include.
type nginxServer struct {
	base     string
	prefix   string
	errorLog string
}

var nginxConf = template.Must(template.New("conf").Parse(`
{{if .Root}}user root;{{end}}
worker_processes 1;
daemon off;
master_process on;
pid {{.Prefix}}/nginx.pid;
error_log {{.Prefix}}/error.log info;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path {{.Prefix}}/body;
    proxy_temp_path {{.Prefix}}/proxy;
    fastcgi_temp_path {{.Prefix}}/fastcgi;
    uwsgi_temp_path {{.Prefix}}/uwsgi;
    scgi_temp_path {{.Prefix}}/scgi;
{{.HTTPExtra}}
    server {
        listen 127.0.0.1:{{.Port}};
        server_name shop.test;
        location /dead/ { proxy_pass http://127.0.0.1:{{.DeadPort}}; }
        location /live/ { proxy_pass http://127.0.0.1:{{.LivePort}}; }
        location /flaky/ { proxy_pass http://127.0.0.1:{{.FlakyPort}}; }
        location /hang/ {
            proxy_pass http://127.0.0.1:{{.HangPort}};
            proxy_read_timeout 1s;
        }
{{.Extra}}
        include {{.Include}};
    }
}
`))

type nginxParams struct {
	Root                     bool
	Prefix, Include          string
	Port, DeadPort, LivePort int
	HangPort, FlakyPort      int
	// Extra is more of the server block: a test's own locations.
	Extra string
	// HTTPExtra is more of the http block, such as an upstream.
	HTTPExtra string
}

// startNginx writes the config around the generated include and runs
// nginx in the foreground until the test ends.
func startNginx(tb testing.TB, include string, p nginxParams) *nginxServer {
	tb.Helper()
	bin := nginxPath(tb)
	prefix := p.Prefix
	if prefix == "" {
		prefix = tb.TempDir()
	}
	// nginx's workers run as an unprivileged user unless told otherwise;
	// as root in CI, run them as root so they can use the temp dir.
	p.Root = os.Geteuid() == 0
	p.Prefix, p.Include = prefix, filepath.Join(prefix, "gatewatch.conf")
	if p.FlakyPort == 0 {
		p.FlakyPort = p.DeadPort
	}
	if err := os.WriteFile(p.Include, []byte(include), 0o644); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	tb.Cleanup(func() {
		if tb.Failed() {
			log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			tb.Logf("nginx error.log:\n%s", log)
		}
	})
	p.Port = startDaemon(tb, bin, func(port int) []string {
		p.Port = port
		f, err := os.Create(conf)
		if err != nil {
			tb.Fatal(err)
		}
		if err := nginxConf.Execute(f, p); err != nil {
			tb.Fatal(err)
		}
		f.Close()
		if out, err := exec.Command(bin, "-t", "-p", prefix, "-c", conf).CombinedOutput(); err != nil {
			tb.Fatalf("nginx -t: %v\n%s", err, out)
		}
		return []string{"-p", prefix, "-c", conf}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", p.Port)
	return &nginxServer{base: base, prefix: prefix, errorLog: filepath.Join(prefix, "error.log")}
}

// inUseRE is how nginx, Apache, Caddy and HAProxy say that their port was
// taken.
var inUseRE = regexp.MustCompile(`(?i)address already in use|cannot bind socket`)

// startDaemon runs a server (nginx, a proxy) in the foreground until the
// test ends, on a port from freePort, and waits until it listens there.
// configure writes the server's config for the port and returns its
// arguments; when the server exits because another process took the
// port meanwhile, it is called again with a fresh port. It returns the
// port the server listens on.
func startDaemon(tb testing.TB, bin string, configure func(port int) []string) int {
	tb.Helper()
	const attempts = 3
	for attempt := 1; ; attempt++ {
		port := freePort(tb)
		err := runDaemon(tb, bin, configure(port), port)
		if err == nil {
			return port
		}
		if attempt == attempts {
			tb.Fatalf("%s: port in use %d times running: %v", filepath.Base(bin), attempts, err)
		}
		tb.Logf("%s: %v; retrying on another port", filepath.Base(bin), err)
	}
}

// errPortInUse is runDaemon's error for a server that could not bind its
// port.
var errPortInUse = errors.New("address in use")

// runDaemon starts bin with args and waits until it listens on port; a
// server that exits saying its address is in use is errPortInUse, any
// other failure is fatal.
func runDaemon(tb testing.TB, bin string, args []string, port int) error {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cancel()
		<-exited
		if tb.Failed() {
			tb.Logf("%s output:\n%s", filepath.Base(bin), tail(out.String(), 8<<10))
		}
	})
	var listening, exitedEarly bool
	poll(15*time.Second, func() bool {
		// A server that cannot bind says so before it gives up (nginx
		// retries for a few seconds): whoever answers on the port then is
		// another process.
		if inUseRE.MatchString(out.String()) {
			return true
		}
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			listening = true
			return true
		}
		select {
		case <-exited:
			exitedEarly = true
			return true
		default:
			return false
		}
	})
	switch {
	case inUseRE.MatchString(out.String()):
		cancel()
		<-exited
		return fmt.Errorf("%w: port %d: %s", errPortInUse, port, tail(out.String(), 1<<10))
	case listening:
		return nil
	case exitedEarly:
		tb.Fatalf("%s exited: %s", filepath.Base(bin), out.String())
	default:
		tb.Fatalf("%s did not listen on %d; output:\n%s", filepath.Base(bin), port, out.String())
	}
	return nil
}

// hangingUpstream accepts connections and never answers.
func hangingUpstream(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// runCLI runs the gatewatch binary with args and returns its output.
func runCLI(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}
