//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// loopbackSocket is a listening socket on a free loopback port, as a
// supervisor would bind it, and its address.
func loopbackSocket(t *testing.T, name string) socket {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return socket{name: name, addr: ln.Addr().String(), file: f}
}

// TestSocketActivation: given sockets by the systemd protocol, gatewatch
// serves them and binds nothing itself: the configured addresses are
// taken by another server, which keeps answering.
func TestSocketActivation(t *testing.T) {
	notGatewatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "not gatewatch") })
	other, otherAdmin := httptest.NewServer(notGatewatch), httptest.NewServer(notGatewatch)
	defer other.Close()
	defer otherAdmin.Close()
	otherPort := other.Listener.Addr().(*net.TCPAddr).Port
	dead := freePort(t)
	cfg := strings.Replace(shopConfig(otherPort, dead), "[server]\n",
		fmt.Sprintf("[server]\nadmin_listen = %q\n", otherAdmin.Listener.Addr().String()), 1)
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	writeFile(t, cfgPath, cfg)
	// Passed in the other order than unnamed sockets would be: the names
	// decide.
	admin, public := loopbackSocket(t, "admin"), loopbackSocket(t, "public")
	g := startGatewatchSockets(t, binary, []socket{admin, public}, "serve", "--config", cfgPath, "--data", t.TempDir())
	if g.public != "http://"+public.addr || g.admin != "http://"+admin.addr {
		t.Errorf("gatewatch serves public %s, admin %s; want the passed %s and %s", g.public, g.admin, public.addr, admin.addr)
	}
	resp, body := get(t, g.public+"/cart", map[string]string{"X-Code": "502", "Accept": "text/html"})
	if resp.StatusCode != 502 || !strings.Contains(body, "E2E Shop") {
		t.Errorf("GET /cart on the public socket = %d (%.80q); want the shop's 502 page", resp.StatusCode, body)
	}
	resp, _ = get(t, g.public+"/healthz", nil)
	if resp.StatusCode == 200 {
		t.Error("/healthz answers on the public socket: the sockets were swapped")
	}
	for _, o := range []*httptest.Server{other, otherAdmin} {
		if resp, body := get(t, o.URL+"/", nil); resp.StatusCode != 200 || body != "not gatewatch" {
			t.Errorf("the server on the configured address %s answered %d %q; want it untouched", o.URL, resp.StatusCode, body)
		}
	}
}

// TestSocketActivationRefusesAnUnconfiguredAdmin: an admin socket for a
// config without an admin listener is a mistake, said at start.
func TestSocketActivationRefusesAnUnconfiguredAdmin(t *testing.T) {
	dead := freePort(t)
	cfg := strings.Replace(shopConfig(freePort(t), dead), "[server]\n", "[server]\nadmin_listen = \"\"\n", 1)
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	writeFile(t, cfgPath, cfg)
	cmd := activated(binary, []socket{loopbackSocket(t, "public"), loopbackSocket(t, "admin")}, "serve", "--config", cfgPath, "--data", t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("gatewatch started with an admin socket and admin_listen empty:\n%s", out)
	}
	if !strings.Contains(string(out), "an admin socket was passed, but server.admin_listen is empty") {
		t.Errorf("gatewatch's error does not say why:\n%s", out)
	}
}
