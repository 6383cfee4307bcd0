package e2e

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFallbackWhenGatewatchIsDown: with gatewatch stopped, nginx serves
// the pre-rendered, branded, localized page with status 502, and its CSP
// allows exactly the page's inline style.
func TestFallbackWhenGatewatchIsDown(t *testing.T) {
	dead := freePort(t)
	gwPort := freePort(t)
	pagesDir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	// [nginx] goes before the [[site]] tables, as TOML wants.
	cfg := fmt.Sprintf("[nginx]\nfallback_dir = %q\n", pagesDir) + fmt.Sprintf(e2eConfig, gwPort, dead, dead)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "render", "--config", cfgPath); err != nil {
		t.Fatalf("render: %v\n%s", err, out)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("nginx: %v\n%s", err, include)
	}
	gw := startGatewatch(t, cfgPath)
	ng := startNginx(t, include, nginxParams{DeadPort: dead, LivePort: freePort(t), HangPort: freePort(t)})

	// With gatewatch up, its own page answers (it has a reference).
	_, body := get(t, ng.base+"/dead/x", map[string]string{"Accept": "text/html", "Accept-Language": "de"})
	if !strings.Contains(body, `data-testid="ref-id"`) {
		t.Fatal("with gatewatch running, the page should be gatewatch's live page")
	}

	gw.stop()
	for _, tc := range []struct{ accept, lang, wantLang string }{
		{"de-DE,de;q=0.9", "", "de"},
		{"zh-CN,zh;q=0.8", "", "zh-Hans"},
		{"sw", "", "en"},
		{"de", "ar", "ar"},
	} {
		url := ng.base + "/dead/cart"
		if tc.lang != "" {
			url += "?lang=" + tc.lang
		}
		resp, body := get(t, url, map[string]string{"Accept": "text/html", "Accept-Language": tc.accept})
		if resp.StatusCode != 502 {
			t.Errorf("%s: status = %d; want 502", tc.accept, resp.StatusCode)
		}
		if !strings.Contains(body, `<html lang="`+tc.wantLang+`"`) {
			t.Errorf("%s ?lang=%s: page is not in %s", tc.accept, tc.lang, tc.wantLang)
		}
		if !strings.Contains(body, "E2E Shop") || !strings.Contains(body, html.EscapeString(headline(t, tc.wantLang, "502"))) {
			t.Errorf("%s: fallback page lacks the brand or the 502 headline", tc.accept)
		}
		if strings.Contains(body, "<script") {
			t.Error("fallback page has a script")
		}
		// The CSP names the hash of the page's one inline style.
		m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("fallback page has no inline style")
		}
		sum := sha256.Sum256([]byte(m[1]))
		want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q does not allow exactly the inline style %s", csp, want)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
	}

	// gzip_static serves the .gz twin to clients that take gzip.
	req, _ := http.NewRequest("GET", ng.base+"/dead/cart", nil)
	req.Host = "shop.test"
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Accept-Language", "fr")
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip request: %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !strings.Contains(string(b), `<html lang="fr"`) {
		t.Error("gzipped fallback is not the French page")
	}
}
