package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// reloadState is what one config file of TestReloadEveryKind says; each
// reload changes one part of it.
type reloadState struct {
	title    string
	interval int // seconds
	twoUps   bool
	user     string
	locale   string
}

func (s reloadState) toml(hash string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\ndefault_locale = %q\n\n[monitor]\ninterval = \"%ds\"\n\n", s.locale, s.interval)
	fmt.Fprintf(&b, "[[site]]\nname = \"shop\"\nhosts = [\"shop.test\"]\n[site.brand]\ntitle = %q\n", s.title)
	b.WriteString("[[site.upstream]]\nname = \"app\"\ncheck = \"http://127.0.0.1:9/\"\naddrs = [\"127.0.0.1:9\"]\n")
	if s.twoUps {
		b.WriteString("[[site.upstream]]\nname = \"api\"\ncheck = \"http://127.0.0.1:9/api\"\naddrs = [\"127.0.0.2:9\"]\n")
	}
	fmt.Fprintf(&b, "\n[[admin.user]]\nname = %q\npassword_hash = %q\n", s.user, hash)
	return b.String()
}

// get asks for url as a browser on shop.test, with Basic credentials
// when auth is set, and returns the status and body.
func get(url string, auth *[2]string) (int, string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = "shop.test"
	req.Header.Set("Accept", "text/html")
	if auth != nil {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitLog waits until the server has logged want n times.
func waitLog(t *testing.T, s *testServer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(s.stderr.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q logged %d times; want %d. Log:\n%s", want, strings.Count(s.stderr.String(), want), n, s.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReloadEveryKind: 50 SIGHUPs, ten of each kind (brand, monitor,
// upstreams, users, locales), one right after the other's generation is
// in, while visitors and a scraper keep asking. Every answer is the
// branded page or the health check; every reload takes effect; nothing
// panics (two in a row used to close a closed channel).
func TestReloadEveryKind(t *testing.T) {
	const password = "reload-test-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gatewatch.toml")
	st := reloadState{title: "Shop 0", interval: 30, user: "staff0", locale: "en"}
	write := func() {
		t.Helper()
		if err := os.WriteFile(path, []byte(st.toml(string(hash))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	s := startServer(t, "--config", path)

	var stop atomic.Bool
	var pages, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	fail := func(what string) {
		bad.Add(1)
		firstBad.CompareAndSwap(nil, what)
	}
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				code, body, err := get(s.public+"/cart", nil)
				if err != nil || code != 502 || !strings.Contains(body, "Shop ") {
					fail(fmt.Sprintf("page: code %d, err %v", code, err))
					continue
				}
				pages.Add(1)
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			if code, _, err := get(s.admin+"/healthz", nil); err != nil || code != 200 {
				fail(fmt.Sprintf("healthz: code %d, err %v", code, err))
			}
		}
	})

	locales := []string{"de", "fr", "en"}
	for i := 1; i <= 50; i++ {
		kind := []string{"brand", "monitor", "upstreams", "users", "locales"}[i%5]
		switch kind {
		case "brand":
			st.title = fmt.Sprintf("Shop %d", i)
		case "monitor":
			st.interval = 10 + i
		case "upstreams":
			st.twoUps = !st.twoUps
		case "users":
			st.user = fmt.Sprintf("staff%d", i)
		case "locales":
			st.locale = locales[i%len(locales)]
		}
		write()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLog(t, s, "config reloaded", i)

		// The reload is in: its effect shows on the very next request.
		code, body, err := get(s.public+"/cart", nil)
		if err != nil || code != 502 {
			t.Fatalf("reload %d (%s): page code %d, err %v", i, kind, code, err)
		}
		if !strings.Contains(body, st.title) {
			t.Errorf("reload %d (%s): page lacks title %q", i, kind, st.title)
		}
		if want := fmt.Sprintf(`<html lang="%s"`, st.locale); !strings.Contains(body, want) {
			t.Errorf("reload %d (%s): page lacks %s", i, kind, want)
		}
		switch kind {
		case "users":
			if code, _, _ := get(s.admin+"/metrics", &[2]string{st.user, password}); code != 200 {
				t.Errorf("reload %d: new user %s on /metrics = %d; want 200", i, st.user, code)
			}
			if code, _, _ := get(s.admin+"/metrics", &[2]string{fmt.Sprintf("staff%d", i-5), password}); i > 5 && code == 200 {
				t.Errorf("reload %d: removed user still signs in", i)
			}
		case "upstreams":
			_, body, _ := get(s.public+"/_gatewatch/api/v1/status?site=shop&upstream=api", nil)
			if has := strings.Contains(body, `"api"`); has != st.twoUps {
				t.Errorf("reload %d: status API knows upstream api = %v; want %v (%s)", i, has, st.twoUps, body)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d bad answers during 50 reloads (first: %v)", n, firstBad.Load())
	}
	if pages.Load() == 0 {
		t.Error("no page served during the reloads")
	}
	if log := s.stderr.String(); strings.Contains(log, "panic") || strings.Contains(log, "reload refused") || strings.Contains(log, "level=ERROR") {
		t.Errorf("log:\n%s", log)
	}
	t.Logf("50 reloads, %d pages served meanwhile, 0 bad", pages.Load())
}

// TestReloadRefusesBadFiles: on SIGHUP an empty, cut-short, site-less or
// unreadable file is refused, naming the file; the running config stays
// and the demo login never appears.
func TestReloadRefusesBadFiles(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("reload-test-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gatewatch.toml")
	good := reloadState{title: "Kept Shop", interval: 30, user: "staff", locale: "en"}.toml(string(hash))
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--config", path)
	if log := s.stderr.String(); strings.Contains(log, "demo") {
		t.Errorf("a config file is not the demo; log:\n%s", log)
	}
	for i, tc := range []struct {
		name  string
		write func() error
		want  string
	}{
		{"empty", func() error { return os.WriteFile(path, nil, 0o644) }, path + ": the file is empty"},
		{"no site", func() error { return os.WriteFile(path, []byte("[server]\ndefault_locale = \"de\"\n"), 0o644) }, path + ": site: at least one [[site]]"},
		{"truncated", func() error { return os.WriteFile(path, []byte(good[:strings.Index(good, "[[site]]")]), 0o644) }, path + ": site: at least one [[site]]"},
		{"missing", func() error { return os.Remove(path) }, path + ": open "},
		{"a directory", func() error { return os.Mkdir(path, 0o755) }, path + ": read "},
	} {
		if err := tc.write(); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLog(t, s, "config reload refused", i+1)
		if log := s.stderr.String(); !strings.Contains(log, tc.want) {
			t.Errorf("%s: refusal lacks %q; log:\n%s", tc.name, tc.want, log)
		}
		if _, body, err := get(s.public+"/cart", nil); err != nil || !strings.Contains(body, "Kept Shop") {
			t.Errorf("%s: after the refused reload the page lost its brand (%v)", tc.name, err)
		}
		if code, _, _ := get(s.admin+"/metrics", &[2]string{"admin", "gatewatch"}); code == 200 {
			t.Errorf("%s: the demo login admin/gatewatch signs in", tc.name)
		}
	}
	if strings.Contains(s.stderr.String(), "config reloaded") {
		t.Error("a bad file was reloaded")
	}
}
