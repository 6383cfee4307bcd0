package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

// site is the one site of the bench config; the requests name its host.
const (
	siteName  = "shop"
	siteHost  = "shop.test"
	pageLang  = "de" // the language the browser-like requests ask for
	adminUser = "loadbench"
)

// gatewatchConfig is deployed defaults (monitor intervals included) with
// one site whose upstream is down: nginx's proxy_pass port refuses
// connections, and the upstream's check URL is the counting origin, which
// answers 503, so every check gatewatch makes is one accepted connection.
const gatewatchConfig = `# written by loadbench
[server]
listen = "127.0.0.1:%d"
trusted_proxies = ["127.0.0.1/32"]

[nginx]
fallback_dir = %q
error_log = %q

[[site]]
name = "` + siteName + `"
hosts = ["` + siteHost + `"]
[site.brand]
title = "Bench Shop"
[site.contact]
email = "help@shop.test"
[[site.upstream]]
name = "app"
check = "http://%s/health"
addrs = ["127.0.0.1:%d"]

# loadbench reads /metrics as this user, with a password made for the run.
[[admin.user]]
name = "` + adminUser + `"
password_hash = %q
`

// keepAliveUpstream is the http-level upstream {} block the README
// recommends under heavy traffic; the (e) include's proxy_pass names it
// through [nginx] pass.
const keepAliveUpstream = "gatewatch_ka"

// nginxConf is nginx as an operator runs it (one worker per core) around
// the generated include, plus the location that serves the rendered page,
// and a second server whose include reaches gatewatch through an upstream
// {} block with keepalive, as the README recommends under heavy traffic.
var nginxConf = template.Must(template.New("nginx").Parse(`# written by loadbench
{{if .Root}}user root;{{end}}
worker_processes auto;
worker_rlimit_nofile 65536;
daemon off;
master_process on;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log error;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path {{.Dir}}/body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;

    # (e) nginx keeps idle connections to gatewatch open for reuse; the
    # second include's proxy_pass is http://{{.Upstream}}.
    upstream {{.Upstream}} {
        server 127.0.0.1:{{.GWPort}};
{{.UpstreamKeepalive}}
    }

    server {
        listen 127.0.0.1:{{.Port}} backlog=4096;
        server_name {{.Host}};

        # (d) the site's upstream is down: nginx's error_page sends the
        # request to gatewatch through the include.
        location /dead/ { proxy_pass http://127.0.0.1:{{.DeadPort}}; }

        # (b) the page gatewatch render exported, served as the include's
        # fallback serves it: status kept, the same headers (the fallback
        # also fills in the reference by SSI).
        location /rendered/ {
            error_page 502 @rendered;
            return 502;
        }
        location @rendered {
            root {{.Pages}};
            default_type text/html;
            charset utf-8;
            add_header Cache-Control "no-store" always;
            add_header X-Request-ID $request_id always;
            add_header X-Robots-Tag "noindex, nofollow" always;
            add_header Retry-After 30 always;
            try_files /{{.Site}}/{{.Lang}}/502.html =502;
        }

        # (h) the very bytes (a) sent, captured when gatewatch is up: its
        # gzip body served by gzip_static, with (a)'s headers.
        location /same/ {
            error_page 502 @same;
            return 502;
        }
        location @same {
            root {{.Dir}}/same;
            gzip_static on;
            default_type text/html;
            charset utf-8;
            include {{.Dir}}/same-headers.conf;
            try_files /cart.html =502;
        }

        include {{.Dir}}/gatewatch.conf;
    }

    # (e) (d) again, through the include generated with
    # [nginx] pass = "http://{{.Upstream}}".
    server {
        listen 127.0.0.1:{{.KAPort}} backlog=4096;
        server_name {{.Host}};

        location /dead/ { proxy_pass http://127.0.0.1:{{.DeadPort}}; }

        include {{.Dir}}/gatewatch-ka.conf;
    }

    # (g) the same dead upstream without gatewatch: nginx's own stock 502
    # page, what the site shows with no error_page at all.
    server {
        listen 127.0.0.1:{{.StockPort}} backlog=4096;
        server_name {{.Host}};

        location /dead/ { proxy_pass http://127.0.0.1:{{.DeadPort}}; }
    }
}
`))

// upstreamKeepalive is the keep-alive part of the README's upstream {}
// block: n idle connections per worker (above the connections a worker
// may have in flight to gatewatch, or the rest are closed after each
// request and wait in TIME_WAIT), reused for many requests.
func upstreamKeepalive(n int) string {
	return fmt.Sprintf("        keepalive %d;\n        keepalive_requests 100000;\n        keepalive_timeout 60s;", n)
}

// stack is everything a run talks to.
type stack struct {
	dir      string
	keep     bool
	log      func(string, ...any)
	nginxBin string

	origin    *countingOrigin
	deadPort  int
	gwPublic  string // http://127.0.0.1:PORT
	gwAdmin   string
	nginxBase string
	nginxKA   string // the server whose include uses the keep-alive upstream
	// nginxStock is a server with no error_page: nginx's own 502 page.
	nginxStock string
	gwPort     int
	errorLog   string
	adminPass  string // adminUser's password for this run
	gw, nginx  *process
	// fixed serves (a)'s captured response for (f), from fixedFile on
	// fixedBase; nil until (f)'s run.
	fixed     *process
	fixedBase string
	// fast serves the same for (i) with fasthttp, on fastBase.
	fast      *process
	fastBase  string
	fixedFile string
	closeOnce sync.Once
}

// startStack builds and starts gatewatch and nginx; close stops them.
func startStack(ctx context.Context, o options, log func(string, ...any)) (st *stack, err error) {
	nginxBin, err := findNginx(o.nginx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatewatch-bench-")
	if err != nil {
		return nil, err
	}
	st = &stack{dir: dir, keep: o.keep, log: log, nginxBin: nginxBin}
	// Returns below set st to nil with the error: close what was started.
	started := st
	defer func() {
		if err != nil {
			started.close()
			st = nil
		}
	}()
	bin := o.gatewatch
	if bin == "" {
		bin = filepath.Join(dir, "gatewatch")
		log("building gatewatch")
		if err := runCmd(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/gatewatch"); err != nil {
			return nil, fmt.Errorf("build gatewatch (run loadbench from the repository root): %w", err)
		}
	}
	if st.origin, err = newCountingOrigin(); err != nil {
		return nil, err
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	gwPort, adminPort, nginxPort, kaPort := ports[0], ports[1], ports[2], ports[4]
	st.deadPort, st.gwPort = ports[3], gwPort
	st.gwPublic = fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	st.gwAdmin = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	st.nginxBase = fmt.Sprintf("http://127.0.0.1:%d", nginxPort)
	st.nginxKA = fmt.Sprintf("http://127.0.0.1:%d", kaPort)
	st.nginxStock = fmt.Sprintf("http://127.0.0.1:%d", ports[5])
	st.errorLog = filepath.Join(dir, "error.log")

	pages := filepath.Join(dir, "pages")
	cfgPath := filepath.Join(dir, "gatewatch.toml")
	var pw [12]byte
	rand.Read(pw[:])
	st.adminPass = hex.EncodeToString(pw[:])
	hash, err := outputIn(ctx, strings.NewReader(st.adminPass+"\n"), bin, "hash-password")
	if err != nil {
		return nil, fmt.Errorf("gatewatch hash-password: %w", err)
	}
	cfg := fmt.Sprintf(gatewatchConfig, gwPort, pages, st.errorLog, st.origin.addr(), st.deadPort, strings.TrimSpace(string(hash)))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if err := runCmd(ctx, bin, "render", "--config", cfgPath, "--out", pages); err != nil {
		return nil, fmt.Errorf("gatewatch render: %w", err)
	}
	// (e)'s config differs only by [nginx] pass; the include generated
	// from it is what an operator following the README would deploy.
	kaCfg := strings.Replace(cfg, "[nginx]\n", "[nginx]\npass = \"http://"+keepAliveUpstream+"\"\n", 1)
	if kaCfg == cfg {
		return nil, errors.New("the bench config has no [nginx] section for pass")
	}
	kaCfgPath := filepath.Join(dir, "gatewatch-ka.toml")
	if err := os.WriteFile(kaCfgPath, []byte(kaCfg), 0o644); err != nil {
		return nil, err
	}
	for _, inc := range []struct{ cfg, out string }{
		{cfgPath, "gatewatch.conf"},
		{kaCfgPath, "gatewatch-ka.conf"},
	} {
		include, err := output(ctx, bin, "nginx", "--config", inc.cfg)
		if err != nil {
			return nil, fmt.Errorf("gatewatch nginx: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, inc.out), include, 0o644); err != nil {
			return nil, err
		}
	}
	if ka, err := os.ReadFile(filepath.Join(dir, "gatewatch-ka.conf")); err != nil || !bytes.Contains(ka, []byte("proxy_pass http://"+keepAliveUpstream+";")) {
		return nil, fmt.Errorf("gatewatch nginx --config %s: the include does not proxy_pass to http://%s (%v)", kaCfgPath, keepAliveUpstream, err)
	}
	var conf bytes.Buffer
	if err := nginxConf.Execute(&conf, map[string]any{
		"Root": os.Geteuid() == 0, "Dir": dir, "Port": nginxPort, "Host": siteHost,
		"DeadPort": st.deadPort, "Pages": pages, "Site": siteName, "Lang": pageLang,
		"Upstream": keepAliveUpstream, "GWPort": gwPort, "KAPort": kaPort,
		"UpstreamKeepalive": upstreamKeepalive(o.keepalive), "StockPort": ports[5],
	}); err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := writeSamePlaceholder(dir); err != nil {
		return nil, err
	}
	if err := runCmd(ctx, nginxBin, "-t", "-q", "-p", dir, "-c", confPath); err != nil {
		return nil, fmt.Errorf("nginx -t: %w", err)
	}
	log("starting nginx on %s and %s (keep-alive upstream) and gatewatch on %s (work dir %s)", st.nginxBase, st.nginxKA, st.gwPublic, dir)
	if st.nginx, err = startProcess("nginx", filepath.Join(dir, "nginx.out"), nginxBin, "-p", dir, "-c", confPath); err != nil {
		return nil, err
	}
	if st.gw, err = startProcess("gatewatch", filepath.Join(dir, "gatewatch.log"), bin, "serve", "--config", cfgPath,
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort), "--data", filepath.Join(dir, "data")); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, st.gwAdmin+"/healthz", 20*time.Second); err != nil {
		return nil, fmt.Errorf("gatewatch: %w; log in %s", err, st.gw.logPath)
	}
	for _, base := range []string{st.nginxBase, st.nginxKA, st.nginxStock} {
		if err := waitDial(ctx, base[len("http://"):], 10*time.Second); err != nil {
			return nil, fmt.Errorf("nginx: %w; output in %s", err, st.nginx.logPath)
		}
	}
	if !o.herd && o.aged == 0 {
		if err := st.captureSame(ctx); err != nil {
			return nil, fmt.Errorf("(h): %w", err)
		}
	}
	if !o.herd {
		// (f)'s server starts just before its run, on this port.
		fp, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		st.fixedBase = fmt.Sprintf("http://127.0.0.1:%d", fp[0])
		fp, err = freePorts(1)
		if err != nil {
			return nil, err
		}
		st.fastBase = fmt.Sprintf("http://127.0.0.1:%d", fp[0])
		st.fixedFile = filepath.Join(dir, "fixed-response.json")
	}
	return st, nil
}

// close stops gatewatch (SIGTERM, as systemd would), nginx and the
// fixed-response server, then removes the work directory unless -keep.
func (st *stack) close() {
	st.closeOnce.Do(func() {
		for _, p := range []*process{st.gw, st.nginx, st.fixed, st.fast} {
			if p != nil {
				p.stop(15 * time.Second)
			}
		}
		if st.origin != nil {
			st.origin.close()
		}
		if st.keep {
			st.log("work directory kept: %s", st.dir)
			return
		}
		os.RemoveAll(st.dir)
	})
}

// process is a child process whose output goes to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // valid after done
}

func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	return startProcessEnv(nil, name, logPath, bin, args...)
}

// startProcessEnv is startProcess with env added to loadbench's own
// environment.
func startProcessEnv(env []string, name, logPath, bin string, args ...string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// The children die with loadbench, however it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM and waits up to grace before killing.
func (p *process) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended, and why.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

func runCmd(ctx context.Context, name string, args ...string) error {
	_, err := output(ctx, name, args...)
	return err
}

// output runs a command with a time limit and returns its stdout; on
// failure the error carries stderr.
func output(ctx context.Context, name string, args ...string) ([]byte, error) {
	return outputIn(ctx, nil, name, args...)
}

// outputIn is output with stdin.
func outputIn(ctx context.Context, stdin io.Reader, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func findNginx(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	return "", errors.New("nginx not found: install Debian's (apt-get install nginx)")
}

func findWrk(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("wrk not found (%v): install Debian's (apt-get install wrk); `make bench` does", err)
	}
	return p, nil
}

// freePorts returns n distinct loopback ports nothing listens on now.
func freePorts(n int) ([]int, error) {
	var out []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s", url, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitDial(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not accept connections within %s", addr, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
