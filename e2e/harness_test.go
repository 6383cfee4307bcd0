//go:build e2e

// Package e2e drives gatewatch as operators deploy it: the real binary
// behind a real nginx (Debian's), with real upstreams on loopback.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// freePort returns a loopback port nothing listens on right now.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
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
// (the container image's).
func startGatewatchBin(tb testing.TB, bin string, args ...string) *gatewatch {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	g := &gatewatch{cmd: cmd, out: &syncBuffer{}}
	cmd.Stderr = g.out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		g.stop()
		if tb.Failed() {
			tb.Logf("gatewatch log (last 8 KB):\n%s", tail(g.out.String(), 8<<10))
		}
	})
	found := make(chan struct{})
	go func() {
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
	case <-time.After(20 * time.Second):
		tb.Fatalf("gatewatch did not print its URLs; output:\n%s", g.out.String())
	}
	waitHTTP(tb, g.admin+"/healthz", 200)
	return g
}

func waitHTTP(tb testing.TB, url string, want int) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("%s did not answer %d in time", url, want)
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
	p.Port = freePort(tb)
	if p.FlakyPort == 0 {
		p.FlakyPort = p.DeadPort
	}
	if err := os.WriteFile(p.Include, []byte(include), 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(prefix, "nginx.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := nginxConf.Execute(f, p); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	conf := filepath.Join(prefix, "nginx.conf")
	if out, err := exec.Command(bin, "-t", "-p", prefix, "-c", conf).CombinedOutput(); err != nil {
		tb.Fatalf("nginx -t: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			tb.Logf("nginx error.log:\n%s", log)
		}
	})
	startDaemon(tb, bin, []string{"-p", prefix, "-c", conf}, p.Port)
	base := fmt.Sprintf("http://127.0.0.1:%d", p.Port)
	return &nginxServer{base: base, prefix: prefix, errorLog: filepath.Join(prefix, "error.log")}
}

// startDaemon runs a server (nginx, a proxy) in the foreground until the
// test ends, and waits until it listens on port.
func startDaemon(tb testing.TB, bin string, args []string, port int) {
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
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			tb.Fatalf("%s exited: %s", filepath.Base(bin), out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not listen on %d; output:\n%s", filepath.Base(bin), port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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
