//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: systemd-analyze verify accepts deploy/systemd's unit
// without a warning (an unknown key is only a warning), with its
// hardening in place.
func TestSystemdUnit(t *testing.T) {
	analyze := binPath(t, "systemd-analyze", "systemd")
	unit, err := os.ReadFile("../deploy/systemd/gatewatch.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=gatewatch", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes"} {
		if !strings.Contains(string(unit), "\n"+want+"\n") {
			t.Errorf("unit lacks %q", want)
		}
	}
	// verify checks that ExecStart's binary exists: point it at the one
	// the tests built.
	dir := t.TempDir()
	path := filepath.Join(dir, "gatewatch.service")
	writeFile(t, path, strings.ReplaceAll(string(unit), "/usr/local/bin/gatewatch", binary))
	units := []string{path}
	// The socket-activation examples, with the names gatewatch knows.
	for name, fdName := range map[string]string{"gatewatch.socket": "public", "gatewatch-admin.socket": "admin"} {
		b, err := os.ReadFile("../deploy/systemd/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"FileDescriptorName=" + fdName, "Service=gatewatch.service"} {
			if !strings.Contains(string(b), "\n"+want+"\n") {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		p := filepath.Join(dir, name)
		writeFile(t, p, string(b))
		units = append(units, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
