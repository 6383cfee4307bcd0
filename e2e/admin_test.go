//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatewatch/gatewatch/internal/pgtest"
)

const adminPassword = "correct horse battery"

// adminConfig is a config with an admin user and the admin listener on a
// port chosen by the test, so that admin_url can name it.
func adminConfig(t *testing.T, gwPort, adminPort, dead int, extra string) string {
	t.Helper()
	hash, err := runCLIStdin(t, adminPassword+"\n", "hash-password")
	if err != nil {
		t.Fatalf("hash-password: %v", err)
	}
	return fmt.Sprintf(`%s
[server]
listen = "127.0.0.1:%d"
admin_listen = "127.0.0.1:%d"
admin_url = "http://127.0.0.1:%d"
trusted_proxies = ["127.0.0.1/32"]

[monitor]
interval = "1s"
down_interval = "1s"
min_interval = "200ms"
timeout = "1s"

[[site]]
name = "shop"
hosts = ["shop.test"]
[site.brand]
title = "E2E Shop"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:%d/health"
addrs = ["127.0.0.1:%d"]

[[admin.user]]
name = "support"
password_hash = %q
`, extra, gwPort, adminPort, adminPort, dead, dead, strings.TrimSpace(hash))
}

func runCLIStdin(tb testing.TB, stdin string, args ...string) (string, error) {
	tb.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	return string(out), err
}

// staffClient signs in through the login form, as a person would.
func staffClient(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// openAsStaff follows a staff link: it is sent to the login form, signs
// in, and lands on the link's page.
func openAsStaff(t *testing.T, c *http.Client, link string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(resp.Request.URL.Path, "/admin/login") {
		t.Fatalf("staff link without a session landed on %s (%d); want the login form", resp.Request.URL, resp.StatusCode)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	form := d.Find("form[data-testid=login]")
	action, _ := url.Parse(form.AttrOr("action", ""))
	post := resp.Request.URL.ResolveReference(action)
	v := url.Values{
		"csrf":     {form.Find("input[name=csrf]").AttrOr("value", "")},
		"next":     {form.Find("input[name=next]").AttrOr("value", "")},
		"user":     {"support"},
		"password": {adminPassword},
	}
	resp, err = c.PostForm(post.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestReferenceOpensDiagnosis: a visitor's page through nginx carries a
// staff link; support staff open it, sign in, and see the cause with
// nginx's own log line and the probe's class.
func TestReferenceOpensDiagnosis(t *testing.T) {
	dead, gwPort, adminPort := freePort(t), gatewatchPort(t), gatewatchPort(t)
	prefix := t.TempDir()
	errorLog := filepath.Join(prefix, "error.log")
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	cfg := adminConfig(t, gwPort, adminPort, dead, fmt.Sprintf("[nginx]\nerror_log = %q\n", errorLog))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("nginx: %v\n%s", err, include)
	}
	ng := startNginx(t, include, nginxParams{Prefix: prefix, DeadPort: dead, LivePort: freePort(t), HangPort: freePort(t)})
	g := startGatewatchArgs(t, "serve", "--config", cfgPath, "--data", t.TempDir())

	// The monitor's probe sees the dead origin first.
	waitOrigin(t, g.public, "down")
	resp, body := get(t, ng.base+"/dead/checkout", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != 502 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	ref := resp.Header.Get("X-Request-ID")
	d, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	link := d.Find("[data-testid=staff-link]").AttrOr("href", "")
	if want := fmt.Sprintf("http://127.0.0.1:%d/admin/r/%s?site=shop&at=", adminPort, ref); !strings.HasPrefix(link, want) {
		t.Fatalf("staff link = %q; want it to start with %q", link, want)
	}

	// The event reaches the store after the recorder's flush; the page
	// may answer "not recorded yet" for a moment.
	c := staffClient(t)
	var page string
	resp, page = openAsStaff(t, c, link)
	poll(10*time.Second, func() bool {
		if resp.StatusCode == 200 {
			return true
		}
		r, err := c.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		resp, page = r, string(b)
		return resp.StatusCode == 200
	})
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/admin/r/"+ref {
		t.Fatalf("after login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	logLine := regexp.MustCompile(`\*\d+ connect\(\) failed \(111: Connection refused\) while connecting to upstream`)
	if !logLine.MatchString(page) {
		t.Errorf("diagnosis lacks nginx's own log line; page:\n%.2000s", page)
	}
	if !strings.Contains(page, "refused") {
		t.Error("diagnosis lacks the probe's cause (refused)")
	}
	if !strings.Contains(page, ref) {
		t.Error("diagnosis does not name the reference")
	}
}

// TestTwoInstancesShareIncidents: two gatewatch instances on one
// PostgreSQL group their events into the same incident.
func TestTwoInstancesShareIncidents(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	dead := freePort(t)
	type instance struct{ public, admin string }
	var insts []instance
	for range 2 {
		gwPort, adminPort := gatewatchPort(t), gatewatchPort(t)
		cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
		cfg := adminConfig(t, gwPort, adminPort, dead, fmt.Sprintf("[store]\ndsn = %q\n", dsn))
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		g := startGatewatchArgs(t, "serve", "--config", cfgPath, "--data", t.TempDir())
		insts = append(insts, instance{g.public, g.admin})
	}
	// nginx's @gatewatch requests, sent straight to each instance.
	for i := range 10 {
		inst := insts[i%2]
		req, _ := http.NewRequest("GET", inst.public+fmt.Sprintf("/p/%d", i), nil)
		req.Host = "shop.test"
		req.Header.Set("X-Code", "502")
		req.Header.Set("X-Request-ID", fmt.Sprintf("shared%02d", i))
		req.Header.Set("X-Upstream-Addr", fmt.Sprintf("127.0.0.1:%d", dead))
		req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	type incident struct {
		ID       int64 `json:"id"`
		Requests int64 `json:"requests"`
	}
	list := func(admin string) []incident {
		req, _ := http.NewRequest("GET", admin+"/admin/api/v1/incidents?site=shop", nil)
		req.SetBasicAuth("support", adminPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("incidents API = %d: %s", resp.StatusCode, b)
		}
		var out struct {
			Incidents []incident `json:"incidents"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		return out.Incidents
	}
	var a, b []incident
	if !poll(10*time.Second, func() bool {
		a, b = list(insts[0].admin), list(insts[1].admin)
		return len(a) == 1 && len(b) == 1 && a[0] == b[0] && a[0].Requests == 10
	}) {
		t.Fatalf("instances see %+v and %+v; want one shared incident with 10 requests", a, b)
	}
}
