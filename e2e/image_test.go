//go:build e2e

package e2e

import (
	"archive/tar"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImage builds the image as `make image` does and checks what is in
// it. Containers cannot run on these machines (and base images cannot be
// pulled), so the test exports the filesystem of a created, never
// started container and runs the image's binary on the host.
func TestImage(t *testing.T) {
	podman := binPath(t, "podman", "podman")
	image := fmt.Sprintf("localhost/gatewatch:e2e-%d", os.Getpid())
	if out, err := exec.Command("make", "-C", "..", "image", "IMAGE="+image).CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, tail(string(out), 4<<10))
	}
	t.Cleanup(func() { exec.Command(podman, "rmi", "-f", image).Run() })

	out, err := exec.Command(podman, "image", "inspect", image).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	var info []struct {
		Config struct {
			User       string
			Entrypoint []string
		}
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal(out, &info); err != nil || len(info) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	c := info[0].Config
	if c.User == "" || strings.HasPrefix(c.User, "0") || c.User == "root" {
		t.Errorf("image user = %q; want a non-root user", c.User)
	}
	if hc := info[0].Healthcheck.Test; !strings.Contains(strings.Join(hc, " "), "gatewatch healthcheck") {
		t.Errorf("healthcheck = %q; want gatewatch healthcheck", hc)
	}

	id, err := exec.Command(podman, "create", image).Output()
	if err != nil {
		t.Fatalf("podman create: %v", err)
	}
	cid := strings.TrimSpace(string(id))
	t.Cleanup(func() { exec.Command(podman, "rm", "-f", cid).Run() })
	root := t.TempDir()
	export := exec.Command(podman, "export", cid)
	pipe, err := export.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	owners := untar(t, pipe, root)
	if err := export.Wait(); err != nil {
		t.Fatalf("podman export: %v", err)
	}

	bin := filepath.Join(root, "usr/local/bin/gatewatch")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the image's binary: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the image's binary is dynamically linked: FROM scratch has no libc")
		}
	}
	f.Close()
	if passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd")); !strings.Contains(string(passwd), ":65532:65532:") {
		t.Errorf("/etc/passwd = %q; want the gatewatch user", passwd)
	}
	if !fileExists(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")) {
		t.Error("no CA certificates: https checks would fail")
	}
	if owners["data/"] != 65532 {
		t.Errorf("/data is owned by %d; want 65532, the image's user", owners["data/"])
	}

	// The image's binary serves, and its own healthcheck says so.
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	dead := freePort(t)
	cfg := shopConfig(gatewatchPort(t), dead)
	cfg = strings.Replace(cfg, "[server]\n", fmt.Sprintf("[server]\nadmin_listen = \"127.0.0.1:%d\"\n", gatewatchPort(t)), 1)
	writeFile(t, cfgPath, cfg)
	g := startGatewatchBin(t, bin, "serve", "--config", cfgPath, "--data", t.TempDir())
	if out, err := exec.Command(bin, "healthcheck", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Errorf("the image's healthcheck: %v\n%s", err, out)
	}
	if r, _ := get(t, g.public+"/x", map[string]string{"Accept": "text/html"}); r.StatusCode != 502 {
		t.Errorf("the image's binary answered %d; want the 502 page", r.StatusCode)
	}
	g.stop()
	if out, err := exec.Command(bin, "healthcheck", "--config", cfgPath).CombinedOutput(); err == nil {
		t.Errorf("healthcheck with gatewatch stopped succeeded: %s", out)
	}
}

// untar extracts regular files and directories of an image's filesystem
// under root and returns each entry's owner.
func untar(t *testing.T, r io.Reader, root string) map[string]int {
	t.Helper()
	owners := map[string]int{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return owners
		}
		if err != nil {
			t.Fatalf("image export: %v", err)
		}
		name := filepath.Clean(h.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			t.Fatalf("image export has %q", h.Name)
		}
		owners[strings.TrimPrefix(h.Name, "./")] = h.Uid
		p := filepath.Join(root, name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}
