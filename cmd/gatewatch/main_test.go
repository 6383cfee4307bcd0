package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func noEnv(string) string { return "" }

// mustStartServer runs `gatewatch serve` on free ports and returns the
// public and admin base URLs once /healthz answers.
func mustStartServer(tb testing.TB, args ...string) (public, admin string) {
	tb.Helper()
	s := startServer(tb, args...)
	return s.public, s.admin
}

// testServer is a running `gatewatch serve` and what it logs.
type testServer struct {
	public, admin  string
	stdout, stderr *lockedBuffer
}

// startServer is mustStartServer that also hands back the server's log.
func startServer(tb testing.TB, args ...string) *testServer {
	tb.Helper()
	var public, admin string
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := new(lockedBuffer), new(lockedBuffer)
	done := make(chan error, 1)
	argv := append([]string{"gatewatch", "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data", tb.TempDir()}, args...)
	go func() { done <- run(ctx, argv, noEnv, strings.NewReader(""), stdout, stderr) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("run returned %v", err)
			}
		case <-time.After(15 * time.Second):
			tb.Error("run did not return after cancel")
		}
	})
	re := regexp.MustCompile(`(error pages|admin) on (http://[0-9.:]+)/`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range re.FindAllStringSubmatch(stdout.String(), -1) {
			if m[1] == "admin" {
				admin = m[2]
			} else {
				public = m[2]
			}
		}
		if public != "" && admin != "" {
			break
		}
		select {
		case err := <-done:
			tb.Fatalf("run exited early: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if public == "" || admin == "" {
		tb.Fatalf("no URLs printed:\n%s", stdout.String())
	}
	for time.Now().Before(deadline) {
		if resp, err := http.Get(admin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &testServer{public: public, admin: admin, stdout: stdout, stderr: stderr}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatal("/healthz never answered 200")
	return nil
}

func TestServeDefault(t *testing.T) {
	s := startServer(t)
	public := s.public
	// Without a file the demo login exists, and the log says so.
	if log := s.stderr.String(); !strings.Contains(log, "no config file: serving the embedded demo config") {
		t.Errorf("log does not announce the demo login:\n%s", log)
	}
	req, _ := http.NewRequest("GET", public+"/cart", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "ja")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Errorf("status = %d; want 502", resp.StatusCode)
	}
	if !strings.Contains(string(body), `<html lang="ja"`) {
		t.Error("page is not in Japanese")
	}
	if !strings.Contains(string(body), "Example Shop") {
		t.Error("page lacks the default brand")
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(good, []byte("[[site]]\nname = \"a\"\nhosts = [\"a.example\"]\n[site.brand]\ntitle = \"A\"\n"), 0o644)
	os.WriteFile(bad, []byte("[server]\n\nlisten = \"nope\"\n[[site]]\nname = \"a\"\n[site.brand]\ntitle = \"A\"\n"), 0o644)

	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "check-config", "--config", good}, noEnv, nil, &out, &errb); err != nil {
		t.Errorf("check-config good = %v", err)
	}
	err := run(context.Background(), []string{"gatewatch", "check-config", "--config", bad}, noEnv, nil, &out, &errb)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("check-config bad = %v; want exit 2", err)
	}
	if want := bad + ":3: server.listen"; !strings.Contains(err.Error(), want) {
		t.Errorf("check-config bad = %q; want it to contain %q", err, want)
	}
	// serve refuses the same file the same way.
	err = run(context.Background(), []string{"gatewatch", "serve", "--config", bad}, noEnv, nil, &out, &errb)
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), bad+":3:") {
		t.Errorf("serve bad = %v; want exit 2 naming %s:3", err, bad)
	}
	// An empty file, or one without sites, is refused: it is not the demo.
	empty := filepath.Join(dir, "empty.toml")
	os.WriteFile(empty, nil, 0o644)
	noSite := filepath.Join(dir, "nosite.toml")
	os.WriteFile(noSite, []byte("[server]\nlisten = \"127.0.0.1:1\"\n"), 0o644)
	for file, want := range map[string]string{empty: empty + ": the file is empty", noSite: noSite + ": site: at least one [[site]]",
		filepath.Join(dir, "missing.toml"): filepath.Join(dir, "missing.toml") + ": open "} {
		out.Reset()
		err = run(context.Background(), []string{"gatewatch", "check-config", "--config", file}, noEnv, nil, &out, &errb)
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), want) {
			t.Errorf("check-config %s = %v (stdout %q); want exit 2 with %q", file, err, out.String(), want)
		}
	}
	// A bad flag is a config problem too.
	err = run(context.Background(), []string{"gatewatch", "serve", "--config", good, "--listen", "nope"}, noEnv, nil, &out, &errb)
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "flags: server.listen") {
		t.Errorf("serve --listen nope = %v; want exit 2 naming the flag", err)
	}
}

func TestNginxInclude(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "nginx"}, noEnv, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	inc := out.String()
	for _, want := range []string{
		"error_page 500 502 503 504 @gatewatch;",
		"location @gatewatch {",
		"proxy_pass http://127.0.0.1:8080;",
		"proxy_set_header X-Code $status;",
		"proxy_set_header X-Request-ID $request_id;",
		"proxy_set_header X-Original-URI $request_uri;",
		"proxy_set_header X-Original-Method $request_method;",
		"proxy_set_header X-Upstream-Addr $upstream_addr;",
		"proxy_set_header X-Upstream-Status $upstream_status;",
		"proxy_set_header X-Upstream-Connect-Time $upstream_connect_time;",
		"proxy_set_header X-Nginx-Connection $connection;",
		"proxy_set_header Host $host;",
		"proxy_set_header X-Real-IP $remote_addr;",
		"location /_gatewatch/ {",
		`proxy_set_header X-Code "";`,
		`proxy_set_header X-Upstream-Addr "";`,
	} {
		if !strings.Contains(inc, want) {
			t.Errorf("include lacks %q", want)
		}
	}
	if strings.Contains(inc, "error_page 500 502 503 504 =") {
		t.Error("error_page must not change the status code")
	}
}

func TestEnvOverridesFileAndFlagsOverrideEnv(t *testing.T) {
	env := map[string]string{"GATEWATCH_LISTEN": "127.0.0.1:1"}
	cfg, err := loadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:1" {
		t.Errorf("Listen = %q; want the environment's", cfg.Server.Listen)
	}
}

func TestHashPassword(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "hash-password"}, noEnv, strings.NewReader("correct horse\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if h := strings.TrimSpace(out.String()); !strings.HasPrefix(h, "$2a$") {
		t.Errorf("hash = %q; want bcrypt", h)
	}
	if err := run(context.Background(), []string{"gatewatch", "hash-password"}, noEnv, strings.NewReader("short\n"), &out, io.Discard); err == nil {
		t.Error("short password accepted")
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"gatewatch", "frobnicate"}, noEnv, nil, io.Discard, io.Discard)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("unknown command = %v; want exit 2", err)
	}
}

func TestMetricsNeedLoginAndNameEverything(t *testing.T) {
	public, admin := mustStartServer(t)
	r, _ := http.NewRequest("GET", public+"/x", nil)
	r.Header.Set("Accept", "text/html")
	if resp, err := http.DefaultClient.Do(r); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials = %d; want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", admin+"/metrics", nil)
	req.SetBasicAuth("admin", "gatewatch")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`gatewatch_pages_served_total{code="502",format="html",locale="en",site="example"} 1`,
		`gatewatch_upstream_up{site="example",upstream="app"}`,
		"gatewatch_probes_total", "gatewatch_probes_suppressed_total", `gatewatch_probe_failures_total{class="refused"}`,
		"gatewatch_events_dropped_total", "gatewatch_events_count_only_total", "gatewatch_store_write_duration_seconds",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestServeSetsMemoryLimit: server.memory_limit (128MiB by default) is the
// runtime's soft limit while serving, and the previous one after.
func TestServeSetsMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Run("serving", func(t *testing.T) {
		mustStartServer(t)
		if got := debug.SetMemoryLimit(-1); got != 128<<20 {
			t.Errorf("memory limit while serving = %d; want 128 MiB from the embedded default", got)
		}
	})
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("memory limit after serve = %d; want the previous %d back", got, before)
	}
}
