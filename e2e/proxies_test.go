//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// A proxyKind is one reverse proxy from Debian, run as the current user
// with its config in a temporary directory, in front of a dead upstream
// (/dead/…) and a hung one (/hang/…, which it gives up on after 1s).
type proxyKind struct {
	name string
	// bin is the proxy's executable.
	bin string
	// generate is the gatewatch subcommand that prints its config.
	generate string
	// write writes the proxy's config into dir, with include (the
	// generated file, or "" for the proxy alone) and returns the
	// arguments that run it in the foreground.
	write func(t *testing.T, dir string, ports proxyPorts, include string) []string
	// validate returns the arguments that check the config write made.
	validate func(dir string, args []string) []string
	// requestID matches the proxy's own request id, when it has one.
	requestID *regexp.Regexp
	// prepare runs before the generator and returns more arguments for it.
	prepare func(t *testing.T, cfgPath string) []string
	// ready waits until the proxy sends the dead upstream's requests to
	// gatewatch (HAProxy: until its health check marks the server down).
	ready func(t *testing.T, base string)
	// staticHang: the hung upstream's page is a static one (HAProxy's
	// own, from the maps `gatewatch render` wrote): the visitor's
	// language and the proxy's request id, but no live parts.
	staticHang bool
}

type proxyPorts struct{ listen, dead, hang, gatewatch int }

// binPath finds a proxy's executable, or fails saying how to get it.
func binPath(tb testing.TB, name, pkg string) string {
	tb.Helper()
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	tb.Fatalf("%s not found: `make test` installs it (apt-get install %s)", name, pkg)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// runProxy writes the config and runs the proxy; it validates the config
// first with the proxy's own check. The proxy listens on a port of its
// own (startDaemon), which it returns.
func runProxy(t *testing.T, k proxyKind, ports proxyPorts, include string) int {
	t.Helper()
	return startDaemon(t, k.bin, func(port int) []string {
		ports.listen = port
		dir := t.TempDir()
		args := k.write(t, dir, ports, include)
		if k.validate != nil {
			if out, err := exec.Command(k.bin, k.validate(dir, args)...).CombinedOutput(); err != nil {
				t.Fatalf("%s rejects the config: %v\n%s", k.name, err, out)
			}
		}
		return args
	})
}

// proxyCodes are what the proxy alone answers for the dead and the hung
// upstream: the codes gatewatch's page must keep.
type proxyCodes struct{ dead, hang int }

// measureProxy runs the proxy without gatewatch and notes its codes.
func measureProxy(t *testing.T, k proxyKind) proxyCodes {
	t.Helper()
	var c proxyCodes
	t.Run("proxy alone", func(t *testing.T) {
		ports := proxyPorts{dead: freePort(t), hang: hangingUpstream(t), gatewatch: freePort(t)}
		base := fmt.Sprintf("http://127.0.0.1:%d", runProxy(t, k, ports, ""))
		r, _ := get(t, base+"/dead/x", nil)
		c.dead = r.StatusCode
		r, _ = get(t, base+"/hang/x", nil)
		c.hang = r.StatusCode
		t.Logf("%s alone: dead upstream %d, hung upstream %d", k.name, c.dead, c.hang)
		if c.dead < 500 || c.hang < 500 {
			t.Fatalf("%s alone answered %d and %d; want 5xx for a dead and a hung upstream", k.name, c.dead, c.hang)
		}
	})
	return c
}

// testProxy is the whole contract for one proxy: with only what
// `gatewatch PROXY` printed, the visitor gets the branded page in their
// language with the code the proxy alone answered, the proxy's request
// id as the reference, the page's assets and status API through the same
// proxy, and nothing a visitor adds can pose as the proxy.
func testProxy(t *testing.T, k proxyKind) {
	want := measureProxy(t, k)
	if t.Failed() {
		return
	}
	ports := proxyPorts{dead: freePort(t), hang: hangingUpstream(t), gatewatch: gatewatchPort(t)}
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	writeFile(t, cfgPath, adminConfig(t, ports.gatewatch, freePort(t), ports.dead, ""))
	args := []string{k.generate, "--config", cfgPath}
	if k.prepare != nil {
		args = append(args, k.prepare(t, cfgPath)...)
	}
	generated, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("gatewatch %s: %v\n%s", k.generate, err, generated)
	}
	gw := startGatewatch(t, cfgPath)
	base := fmt.Sprintf("http://127.0.0.1:%d", runProxy(t, k, ports, generated))
	if k.ready != nil {
		k.ready(t, base)
	}

	for _, c := range []struct {
		path, lang string
		code       int
		static     bool
	}{
		{"/dead/cart%20x?x=1", "de", want.dead, false},
		{"/hang/slow", "fr", want.hang, k.staticHang},
		// A language whose static page is too large for HAProxy's
		// buffer with its style inline: it links the style instead.
		{"/hang/other", "ta", want.hang, k.staticHang},
	} {
		t.Run(fmt.Sprintf("%s gives the %s %d page", c.path, c.lang, c.code), func(t *testing.T) {
			start := time.Now()
			resp, body := get(t, base+c.path, map[string]string{
				"Accept": "text/html,*/*;q=0.8", "Accept-Language": c.lang + ", en;q=0.5",
				// A visitor's attempt to pose as the proxy.
				"X-Code": "418", "X-Original-URI": "/evil", "X-Upstream-Addr": "10.9.8.7:80",
			})
			if resp.StatusCode != c.code {
				t.Fatalf("status = %d; want %d, as %s alone answers\n%.300s", resp.StatusCode, c.code, k.name, body)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("the page took %v", d)
			}
			d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			lang := c.lang
			if got := d.Find("html").AttrOr("lang", ""); got != lang {
				t.Errorf("lang = %q; want %s", got, lang)
			}
			if got := strings.TrimSpace(d.Find("[data-testid=headline]").Text()); got != headline(t, lang, fmt.Sprint(c.code)) {
				t.Errorf("headline = %q; want the %s %d headline", got, lang, c.code)
			}
			if !strings.Contains(d.Find("[data-testid=brand]").Text(), "E2E Shop") {
				t.Error("page is not branded E2E Shop")
			}
			if strings.Contains(body, "10.9.8.7") || strings.Contains(body, "/evil") || strings.Contains(body, fmt.Sprint(ports.dead)) {
				t.Error("the page shows a spoofed header or the upstream's address")
			}
			id := resp.Header.Get("X-Request-ID")
			if k.requestID != nil && !k.requestID.MatchString(id) {
				t.Errorf("X-Request-ID = %q; want %s's own request id (%s)", id, k.name, k.requestID)
			}
			if c.static {
				// The CSP allows exactly the page's inline style, if any.
				sum := sha256.Sum256([]byte(d.Find("style").Text()))
				hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
				if d.Find("style").Length() == 0 {
					hash = "style-src "
				}
				if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), hash) {
					t.Errorf("static page headers: %v; want no-store and a CSP with %s", resp.Header, hash)
				}
				// Filled by the proxy, not by anyone else's commands.
				if strings.Contains(body, "<!--#") || strings.Contains(body, "%[") {
					t.Errorf("the static page has unfilled commands:\n%s", body)
				}
				if got := d.Find("[data-testid=ref-id]").Text(); got != id {
					t.Errorf("reference on the static page = %q; want %s's request id %q", got, k.name, id)
				}
				if utc := d.Find("[data-testid=ref-time]").AttrOr("data-utc", ""); !regexp.MustCompile(`^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(utc) {
					t.Errorf("reference time = %q; want the proxy's time", utc)
				}
				if try := d.Find("[data-retry-button]").AttrOr("href", "?"); try != "" {
					t.Errorf("Try again goes to %q; want the page's own address", try)
				}
				if css, ok := d.Find("link[rel=stylesheet]").Attr("href"); ok {
					if r, _ := get(t, base+css, nil); r.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "'self'") {
						t.Errorf("GET the linked style %q through %s = %d (CSP %q); want 200, allowed", css, k.name, r.StatusCode, resp.Header.Get("Content-Security-Policy"))
					}
				} else if c.lang == "ta" && k.name == "haproxy" {
					t.Error("the ta page inlines its style; it cannot fit HAProxy's buffer so")
				}
				return
			}
			if got := d.Find("[data-testid=ref-id]").Text(); got != id {
				t.Errorf("reference on page = %q; want %q", got, id)
			}
			// Staff find the request by that reference, as the proxy saw it.
			ev := staffEvent(t, gw.admin, id)
			if ev.Path != strings.Split(c.path, "?")[0] || ev.Code != c.code || ev.Site != "shop" || ev.Method != "GET" {
				t.Errorf("recorded event: path %q code %d site %q method %q; want %s %d shop GET",
					ev.Path, ev.Code, ev.Site, ev.Method, c.path, c.code)
			}
			// Same-origin assets and status API, through the same proxy.
			css := d.Find("link[rel=stylesheet]").AttrOr("href", "")
			if r, _ := get(t, base+css, nil); css == "" || r.StatusCode != 200 {
				t.Errorf("GET %q through %s = %d; want 200", css, k.name, r.StatusCode)
			}
			statusURL := d.Find("[data-status-url]").AttrOr("data-status-url", "")
			if r, b := get(t, base+statusURL, map[string]string{"Accept": "application/json"}); statusURL == "" || r.StatusCode != 200 || !strings.Contains(b, `"verdict"`) {
				t.Errorf("GET %q through %s = %d %.200s; want the status JSON", statusURL, k.name, r.StatusCode, b)
			}
		})
	}

	t.Run("a failed POST gets the page, which knows it was a POST", func(t *testing.T) {
		resp, b := postForm(t, base+"/dead/checkout")
		if resp.StatusCode != want.dead || !strings.Contains(b, `data-method="POST"`) {
			t.Errorf("POST: status %d, data-method=POST %v; want %d and the page knowing the POST",
				resp.StatusCode, strings.Contains(b, `data-method="POST"`), want.dead)
		}
	})

	t.Run("visitors cannot pose as the proxy", func(t *testing.T) {
		spoof := map[string]string{"Accept": "text/html", "X-Code": "418", "X-Request-ID": "forged-ref"}
		// Through the pass-through the proxy's headers are stripped: an
		// unknown path there is a plain 404 with gatewatch's own reference.
		resp, _ := get(t, base+"/_gatewatch/nope", spoof)
		if resp.StatusCode != 404 || resp.Header.Get("X-Request-ID") == "forged-ref" {
			t.Errorf("/_gatewatch/nope with X-Code 418 = %d, reference %q; want 404 and not the forged one",
				resp.StatusCode, resp.Header.Get("X-Request-ID"))
		}
		// The proxies' error route is not for visitors: from one, it
		// would record made-up incidents in the proxy's name.
		resp, _ = get(t, base+"/_gatewatch/error/503", spoof)
		if resp.StatusCode == 503 {
			t.Errorf("/_gatewatch/error/503 from a visitor through %s = 503; want it refused", k.name)
		}
	})
}

// TestThroughCaddy: `import` of what `gatewatch caddy` prints.
func TestThroughCaddy(t *testing.T) {
	testProxy(t, proxyKind{
		name: "caddy", bin: binPath(t, "caddy", "caddy"), generate: "caddy",
		requestID: regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`),
		write: func(t *testing.T, dir string, p proxyPorts, include string) []string {
			imp := ""
			if include != "" {
				writeFile(t, filepath.Join(dir, "gatewatch.caddy"), include)
				imp = "import " + filepath.Join(dir, "gatewatch.caddy")
			}
			writeFile(t, filepath.Join(dir, "Caddyfile"), fmt.Sprintf(`{
	admin off
	auto_https off
	storage file_system %[1]s/data
}
http://:%[2]d {
	bind 127.0.0.1
	%[5]s
	handle /hang/* {
		reverse_proxy 127.0.0.1:%[4]d {
			transport http {
				response_header_timeout 1s
			}
		}
	}
	reverse_proxy 127.0.0.1:%[3]d
}
`, dir, p.listen, p.dead, p.hang, imp))
			t.Setenv("HOME", dir)
			t.Setenv("XDG_CONFIG_HOME", dir)
			t.Setenv("XDG_DATA_HOME", dir)
			return []string{"run", "--config", filepath.Join(dir, "Caddyfile"), "--adapter", "caddyfile"}
		},
		validate: func(dir string, args []string) []string {
			return append([]string{"validate"}, args[1:]...)
		},
	})
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestThroughHAProxy: what `gatewatch haproxy` prints as a second -f
// file, the frontend's two use_backend lines and the backends'
// errorfiles line, with the errorfiles `gatewatch render` wrote.
func TestThroughHAProxy(t *testing.T) {
	testProxy(t, proxyKind{
		name: "haproxy", bin: binPath(t, "haproxy", "haproxy"), generate: "haproxy",
		requestID:  regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`),
		staticHang: true,
		prepare: func(t *testing.T, cfgPath string) []string {
			dir := t.TempDir()
			if out, err := runCLI(t, "render", "--format", "haproxy", "--config", cfgPath, "--out", dir); err != nil {
				t.Fatalf("render --format haproxy: %v\n%s", err, out)
			}
			return []string{"--pages", dir}
		},
		ready: func(t *testing.T, base string) {
			eventually(t, 10*time.Second, "haproxy sends the dead backend's requests to gatewatch", func() bool {
				r, _ := get(t, base+"/dead/x", nil)
				return r.Header.Get("X-Request-ID") != ""
			})
		},
		write: func(t *testing.T, dir string, p proxyPorts, include string) []string {
			gw, errorfiles := "", ""
			args := []string{"-db", "-f", filepath.Join(dir, "haproxy.cfg")}
			if include != "" {
				writeFile(t, filepath.Join(dir, "gatewatch.cfg"), include)
				args = append(args, "-f", filepath.Join(dir, "gatewatch.cfg"))
				gw = "    use_backend gatewatch if { path_beg /_gatewatch/ }\n    use_backend gatewatch if { path_beg /dead/ } { nbsrv(dead) eq 0 }\n"
				errorfiles = haproxyBackendLines(include)
			}
			writeFile(t, filepath.Join(dir, "haproxy.cfg"), fmt.Sprintf(`global
    pidfile %[1]s/haproxy.pid
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 1s
frontend site
    bind 127.0.0.1:%[2]d
    unique-id-format %%[uuid()]
%[5]s    use_backend hang if { path_beg /hang/ }
    default_backend dead
backend dead
    server app 127.0.0.1:%[3]d check inter 200ms fall 1
%[6]sbackend hang
    server app 127.0.0.1:%[4]d
%[6]s`, dir, p.listen, p.dead, p.hang, gw, errorfiles))
			return args
		},
		validate: func(dir string, args []string) []string {
			return append([]string{"-c"}, args[1:]...)
		},
	})
}

// apacheModules are those the test's httpd loads: the generated include
// needs proxy, proxy_http, headers and unique_id.
var apacheModules = []string{"mpm_event", "authz_core", "proxy", "proxy_http", "headers", "unique_id"}

// TestThroughApache: `Include` of what `gatewatch apache` prints, at the
// top of the <VirtualHost>.
func TestThroughApache(t *testing.T) {
	testProxy(t, proxyKind{
		name: "apache", bin: binPath(t, "apache2", "apache2"), generate: "apache",
		requestID: regexp.MustCompile(`^[A-Za-z0-9@_-]{20,32}$`),
		write: func(t *testing.T, dir string, p proxyPorts, include string) []string {
			inc := ""
			if include != "" {
				writeFile(t, filepath.Join(dir, "gatewatch.conf"), include)
				inc = "    Include " + filepath.Join(dir, "gatewatch.conf")
			}
			var mods strings.Builder
			for _, m := range apacheModules {
				fmt.Fprintf(&mods, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
			}
			user := ""
			if os.Geteuid() == 0 {
				user = "User nobody\nGroup nogroup\n"
			}
			writeFile(t, filepath.Join(dir, "httpd.conf"), fmt.Sprintf(`%[6]sServerName localhost
%[7]sListen 127.0.0.1:%[2]d
PidFile %[1]s/httpd.pid
ErrorLog %[1]s/error.log
DefaultRuntimeDir %[1]s
Mutex file:%[1]s default
<VirtualHost 127.0.0.1:%[2]d>
%[5]s
    ProxyPass "/hang/" "http://127.0.0.1:%[4]d/" timeout=1
    ProxyPass "/" "http://127.0.0.1:%[3]d/"
</VirtualHost>
`, dir, p.listen, p.dead, p.hang, inc, mods.String(), user))
			return []string{"-DFOREGROUND", "-d", dir, "-f", filepath.Join(dir, "httpd.conf")}
		},
		validate: func(dir string, args []string) []string {
			return append([]string{"-t"}, args[1:]...)
		},
	})
}

// staffEvent is the event staff see for a reference (the admin API),
// once the recorder has written it.
func staffEvent(t *testing.T, admin, ref string) (ev struct {
	Path, Site, Method, Upstream string
	Code                         int
}) {
	t.Helper()
	var body []byte
	eventually(t, 10*time.Second, "the admin API knows the event", func() bool {
		req, _ := http.NewRequest("GET", admin+"/admin/api/v1/events/"+url.PathEscape(ref), nil)
		req.SetBasicAuth("support", adminPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == 200
	})
	var out struct {
		Event struct {
			Path, Site, Method, Upstream string
			Code                         int
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("events/%s: %v\n%s", ref, err, body)
	}
	return out.Event
}

// haproxyBackendLines are the lines `gatewatch haproxy` tells the
// operator to paste into the site's backend.
func haproxyBackendLines(generated string) string {
	var b strings.Builder
	for _, line := range strings.Split(generated, "\n") {
		if l := strings.TrimPrefix(line, "#     "); l != line && (strings.HasPrefix(l, "http-request set-var(txn.gw_lang)") || strings.HasPrefix(l, "http-error ")) {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}
