//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatewatch/gatewatch/internal/pgtest"
)

// sharedInstance is one of the gatewatch instances behind nginx.
type sharedInstance struct {
	cfg       string
	adminPort int
	g         *gatewatch
}

func (s *sharedInstance) start(t *testing.T) {
	t.Helper()
	if s.g != nil {
		s.g.stop()
	}
	s.g = startGatewatchArgs(t, "serve", "--config", s.cfg, "--data", t.TempDir())
}

// TestTwoInstancesBehindNginx: two gatewatch instances on one PostgreSQL,
// both in nginx's upstream, as operators run them when one is not enough.
// nginx spreads each visitor's requests over both; the store makes them
// one service: every visitor counts once (before and after a restart),
// a staff session from one instance is valid on the other, and a
// reference one instance recorded opens on the other with nginx's log
// line, although that instance restarted since and never read the line.
func TestTwoInstancesBehindNginx(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	dead := freePort(t)
	prefix := t.TempDir()
	errorLog := filepath.Join(prefix, "error.log")
	var insts [2]*sharedInstance
	var servers []string
	for i := range insts {
		gwPort, adminPort := gatewatchPort(t), gatewatchPort(t)
		extra := fmt.Sprintf("[store]\ndsn = %q\n[nginx]\nerror_log = %q\npass = \"http://gatewatch\"\n", dsn, errorLog)
		cfg := filepath.Join(t.TempDir(), "gatewatch.toml")
		if err := os.WriteFile(cfg, []byte(adminConfig(t, gwPort, adminPort, dead, extra)), 0o644); err != nil {
			t.Fatal(err)
		}
		insts[i] = &sharedInstance{cfg: cfg, adminPort: adminPort}
		servers = append(servers, fmt.Sprintf("server 127.0.0.1:%d;", gwPort))
	}
	include, err := runCLI(t, "nginx", "--config", insts[0].cfg)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	// The http-level block `gatewatch nginx --upstream` prints, with the
	// second instance's server added as the README says.
	upstreamBlock, err := runCLI(t, "nginx", "--upstream", "--config", insts[0].cfg)
	if err != nil || !strings.Contains(upstreamBlock, servers[0]) {
		t.Fatalf("gatewatch nginx --upstream: %v\n%s", err, upstreamBlock)
	}
	upstreamBlock = strings.Replace(upstreamBlock, servers[0], servers[0]+"\n    "+servers[1], 1)
	ng := startNginx(t, include, nginxParams{Prefix: prefix, DeadPort: dead, LivePort: freePort(t), HangPort: freePort(t),
		HTTPExtra: upstreamBlock})
	for _, in := range insts {
		in.start(t)
	}
	for _, in := range insts {
		waitOrigin(t, in.g.public, "down") // the monitors' first probes of the dead origin
	}

	// visit sends each of ten visitors' requests through nginx (each
	// from an address of its own, 127.0.0.10 to .19), and returns a
	// reference answered by the first instance.
	var statusURL string
	var visitFrom func(first, perVisitor int) string
	visit := func(perVisitor int) (ref string) {
		return visitFrom(0, perVisitor)
	}
	visitFrom = func(first, perVisitor int) (ref string) {
		t.Helper()
		for v := first; v < first+10; v++ {
			for range perVisitor {
				resp, body := sendFrom(t, fmt.Sprintf("127.0.0.%d", 10+v), ng.base+"/dead/cart", map[string]string{"Accept": "text/html",
					"User-Agent": fmt.Sprintf("Mozilla/5.0 (e2e visitor %d) Firefox/140.0", v)})
				if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "E2E Shop") {
					t.Fatalf("visitor %d: %d, branded %t; want the branded 502", v, resp.StatusCode, strings.Contains(body, "E2E Shop"))
				}
				d, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
				statusURL = d.Find("[data-status-url]").AttrOr("data-status-url", "")
				link := d.Find("[data-testid=staff-link]").AttrOr("href", "")
				if strings.HasPrefix(link, fmt.Sprintf("http://127.0.0.1:%d/", insts[0].adminPort)) {
					ref = resp.Header.Get("X-Request-ID")
				}
			}
		}
		if ref == "" {
			t.Fatal("no page was answered by the first instance; want nginx to use both")
		}
		return ref
	}
	// waitIncident waits until both instances see one incident with the
	// figures.
	waitIncident := func(requests, visitors int64) {
		t.Helper()
		type inc struct {
			ID       int64 `json:"id"`
			Requests int64 `json:"requests"`
			Visitors int64 `json:"visitors"`
		}
		var seen [2][]inc
		if !poll(15*time.Second, func() bool {
			for i, in := range insts {
				seen[i] = nil
				req, _ := http.NewRequest(http.MethodGet, in.g.admin+"/admin/api/v1/incidents?site=shop", nil)
				req.SetBasicAuth("support", adminPassword)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var out struct {
					Incidents []inc `json:"incidents"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				seen[i] = out.Incidents
			}
			a, b := seen[0], seen[1]
			return len(a) == 1 && len(b) == 1 && a[0] == b[0] && a[0].Requests == requests && a[0].Visitors == visitors
		}) {
			t.Fatalf("instances see %+v and %+v; want one incident with %d requests from %d visitors", seen[0], seen[1], requests, visitors)
		}
	}

	ref := visit(4)
	waitIncident(40, 10)

	// Ten more visitors, one page each: nginx takes turns, so each
	// instance answers about five of them. The live verdict of each counts
	// all twenty, through the store (a sync every 2 s).
	if visitFrom(10, 1) == "" {
		t.Fatal("no reference")
	}
	waitIncident(50, 20)
	// Six answers in a row say 20: nginx takes turns, so both instances do.
	seen, affected := 0, 0
	if !poll(15*time.Second, func() bool {
		resp, body := get(t, ng.base+statusURL, map[string]string{"Accept": "application/json"})
		var st struct {
			Affected int `json:"affected"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s: %d %v %.200s", statusURL, resp.StatusCode, err, body)
		}
		if affected = st.Affected; affected != 20 {
			seen = 0
			return false
		}
		seen++
		return seen == 6
	}) {
		t.Fatalf("an instance's status counts %d affected visitors; want all 20 that the two answered", affected)
	}

	// A signs staff in; B, restarted since (its error.log index is
	// empty, and it keeps no session of its own), takes the session and
	// opens the reference A recorded, with nginx's line stored with it.
	c := staffClient(t)
	resp, _ := openAsStaff(t, c, insts[0].g.admin+"/admin/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in on the first instance: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	var session *http.Cookie
	u, _ := url.Parse(insts[0].g.admin + "/admin/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "gw_admin" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("sign-in on the first instance set no gw_admin cookie")
	}
	insts[1].start(t)
	req, _ := http.NewRequest(http.MethodGet, insts[1].g.admin+"/admin/r/"+ref, nil)
	req.AddCookie(session)
	noRedirect := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the second instance's /admin/r/%s with the first one's session = %d (Location %q); want 200",
			ref, resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(page, ref) {
		t.Errorf("the second instance's page for %s does not name it", ref)
	}
	logLine := regexp.MustCompile(`\*\d+ connect\(\) failed \(111: Connection refused\) while connecting to upstream`)
	if !logLine.MatchString(page) {
		t.Errorf("the second instance's diagnosis lacks nginx's log line, recorded by the first instance; page:\n%.2000s", page)
	}

	// Both restarted: the same visitors still count once.
	insts[0].start(t)
	waitOrigin(t, insts[0].g.public, "down")
	visit(1)
	waitIncident(60, 20)
	// The dashboard's visitors of the hour: the same twenty, on both.
	for i, in := range insts {
		req, _ := http.NewRequest(http.MethodGet, in.g.admin+"/admin/api/v1/sites", nil)
		req.SetBasicAuth("support", adminPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Sites []struct {
				Counts struct {
					Visitors1h int `json:"visitors_1h"`
				} `json:"counts"`
			} `json:"sites"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || len(out.Sites) != 1 || out.Sites[0].Counts.Visitors1h != 20 {
			t.Errorf("instance %d: sites API = %+v, %v; want 20 visitors in the hour", i, out.Sites, err)
		}
	}
}

// sendFrom gets url for shop.test from the local address from (a
// loopback address: each visitor its own) and reads the whole answer.
func sendFrom(t *testing.T, from, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	return sendWith(t, c, http.MethodGet, "shop.test", url, nil, hdr)
}
