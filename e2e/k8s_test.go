//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestK8sManifests: kubectl kustomize builds deploy/k8s, the config in
// its ConfigMap passes check-config, and the binary serving it answers
// the Deployment's probes on the ports the Deployment names.
func TestK8sManifests(t *testing.T) {
	kubectl := binPath(t, "kubectl", "kubernetes-client")
	if out, err := exec.Command(kubectl, "kustomize", "../deploy/k8s").CombinedOutput(); err != nil {
		t.Fatalf("kubectl kustomize deploy/k8s: %v\n%s", err, out)
	}
	cm, err := os.ReadFile("../deploy/k8s/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(cm), "  gatewatch.toml: |\n")
	if !ok {
		t.Fatal("configmap.yaml has no gatewatch.toml block")
	}
	var toml strings.Builder
	for _, line := range strings.Split(block, "\n") {
		if line != "" && !strings.HasPrefix(line, "    ") {
			break
		}
		toml.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	writeFile(t, cfgPath, toml.String())
	if out, err := runCLI(t, "check-config", "--config", cfgPath); err != nil {
		t.Fatalf("check-config of the ConfigMap's gatewatch.toml: %v\n%s", err, out)
	}

	dep, err := os.ReadFile("../deploy/k8s/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]string{}
	for _, m := range regexp.MustCompile(`- name: (\w+)\n\s+containerPort: (\d+)`).FindAllStringSubmatch(string(dep), -1) {
		ports[m[1]] = m[2]
	}
	if ports["http"] != "8080" || ports["admin"] != "8081" || !strings.Contains(toml.String(), `listen = "0.0.0.0:8080"`) ||
		!strings.Contains(toml.String(), `admin_listen = "0.0.0.0:8081"`) {
		t.Fatalf("the Deployment's ports %v do not match the ConfigMap's listeners", ports)
	}
	// Serve that config (on loopback ports) and ask the probes' paths.
	cfg := strings.NewReplacer(`"0.0.0.0:8080"`, fmt.Sprintf(`"127.0.0.1:%d"`, gatewatchPort(t)),
		`"0.0.0.0:8081"`, fmt.Sprintf(`"127.0.0.1:%d"`, gatewatchPort(t)), `"/data"`, fmt.Sprintf("%q", t.TempDir())).Replace(toml.String())
	writeFile(t, cfgPath, cfg)
	g := startGatewatchArgs(t, "serve", "--config", cfgPath)
	probes := regexp.MustCompile(`(?s)(liveness|readiness)Probe:\s+httpGet:\s+path: (\S+)\s+port: (\w+)`).FindAllStringSubmatch(string(dep), -1)
	if len(probes) != 2 {
		t.Fatalf("found %d probes; want liveness and readiness", len(probes))
	}
	for _, m := range probes {
		if m[3] != "admin" {
			t.Errorf("%s probe on port %s; want admin", m[1], m[3])
		}
		resp, err := http.Get(g.admin + m[2])
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s probe GET %s: %v %v", m[1], m[2], err, resp)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
}
