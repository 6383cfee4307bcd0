package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProxyGenerators: each generator passes every field the proxy has a
// spelling for and strips every field from visitors' /_gatewatch/
// requests. The real proxies check the syntax in e2e (caddy validate,
// haproxy -c, apache2 -t).
func TestProxyGenerators(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"caddy", []string{"handle_errors {", `header_up X-Code "{err.status_code}"`, `header_up X-Request-ID "{http.request.uuid}"`,
			"header_up -X-Upstream-Status", "handle /_gatewatch/error/* {", "reverse_proxy 127.0.0.1:8080 {"}},
		{"haproxy", []string{"backend gatewatch", "http-request set-header X-Code 503 unless gw_own", "http-request set-header X-Request-ID %[unique-id] unless gw_own",
			"http-request del-header X-Upstream-Addr", "http-request deny deny_status 404 if { path_beg /_gatewatch/error/ }",
			"http-errors gatewatch", "errorfile 504 /etc/haproxy/gatewatch/example/en/504.http", "server gatewatch 127.0.0.1:8080",
			"#     http-request set-var(txn.gw_lang) req.fhdr(accept-language),lower,map_reg(/etc/haproxy/gatewatch/langs.map) if { req.fhdr(accept-language),lower,map_reg(/etc/haproxy/gatewatch/langs.map) -m len gt 0 }",
			"#     http-request set-var(txn.gw_lang) url_param(lang),lower,map_reg(/etc/haproxy/gatewatch/langs.map) if",
			// The page's parts in the visitor's language, HAProxy's reference between them.
			`#     http-error status 504 content-type "text/html; charset=utf-8" lf-string "%[var(txn.gw_lang),map(/etc/haproxy/gatewatch/example/504.0.map)]%[unique-id]%[var(txn.gw_lang),map(/etc/haproxy/gatewatch/example/504.1.map)]`}},
		{"apache", []string{"ErrorDocument 502 /_gatewatch/error/502", `RequestHeader set X-Code "%{REDIRECT_STATUS}e"`,
			`RequestHeader set X-Request-ID "%{REDIRECT_UNIQUE_ID}e"`, "RequestHeader unset X-Upstream-Addr",
			`ProxyPass "http://127.0.0.1:8080/_gatewatch/"`, `<If "-z reqenv('REDIRECT_STATUS')">`}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run(context.Background(), []string{"gatewatch", tc.cmd}, noEnv, nil, &out, &errb); err != nil {
				t.Fatalf("gatewatch %s: %v\n%s", tc.cmd, err, errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("gatewatch %s lacks %q", tc.cmd, w)
				}
			}
		})
	}
	t.Run("a pass URL that is not http://HOST:PORT", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "g.toml")
		os.WriteFile(cfg, []byte("[nginx]\npass = \"https://gw.internal/x\"\n[[site]]\nname = \"s\"\nhosts = [\"s.test\"]\n[site.brand]\ntitle = \"S\"\n"), 0o644)
		for _, cmd := range []string{"caddy", "haproxy", "apache"} {
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"gatewatch", cmd, "--config", cfg}, noEnv, nil, &out, &errb)
			var ee exitError
			if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "want http://HOST:PORT") {
				t.Errorf("gatewatch %s with pass https://gw.internal/x = %v; want exit 2 saying what it needs", cmd, err)
			}
		}
	})
}

// TestRenderEnvoyGateway: one ConfigMap per code holding the page, and a
// BackendTrafficPolicy whose responseOverride names them, keeping the
// status (no statusCode in the override).
func TestRenderEnvoyGateway(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "render", "--format", "envoy-gateway", "--out", dir}, noEnv, nil, &out, &errb); err != nil {
		t.Fatalf("render: %v\n%s", err, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "envoy-gateway.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	if len(docs) != 6 {
		t.Fatalf("%d documents; want a header, 4 ConfigMaps and a policy", len(docs))
	}
	for i, code := range []string{"500", "502", "503", "504"} {
		d := docs[i+1]
		if !strings.Contains(d, "kind: ConfigMap") || !strings.Contains(d, `name: "gatewatch-example-`+code+`"`) {
			t.Errorf("document %d is not the %s ConfigMap:\n%.200s", i+1, code, d)
		}
		_, raw, _ := strings.Cut(d, "response.body: ")
		var page string
		if err := json.Unmarshal([]byte(strings.TrimSpace(raw)), &page); err != nil || !strings.Contains(page, `<html lang="en"`) {
			t.Errorf("ConfigMap %s body: %v %.80q", code, err, page)
		}
		// Fixed bytes: nothing for nginx (SSI) or HAProxy to fill, and
		// "Try again" reloads the page's own address.
		if strings.Contains(page, "<!--#") || strings.Contains(page, "\x00") || !strings.Contains(page, `href="" data-retry-button`) {
			t.Errorf("ConfigMap %s body has commands to fill or no Try again of its own address", code)
		}
		if !strings.Contains(docs[5], "value: "+code+"\n") || !strings.Contains(docs[5], `name: "gatewatch-example-`+code+`"`) {
			t.Errorf("policy does not override %s with its ConfigMap", code)
		}
	}
	if !strings.Contains(docs[5], "kind: BackendTrafficPolicy") || strings.Contains(docs[5], "statusCode:") {
		t.Errorf("policy:\n%s", docs[5])
	}
}

// TestHelpListsCommands: a newcomer's `gatewatch --help` names every
// subcommand run knows.
func TestHelpListsCommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "--help"}, noEnv, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve", "nginx", "caddy", "haproxy", "apache", "render", "check-config", "hash-password", "healthcheck", "version"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("--help does not list %q:\n%s", cmd, out.String())
		}
	}
}

// TestHealthcheck: exit 0 against a live /healthz, an error otherwise.
func TestHealthcheck(t *testing.T) {
	_, admin := mustStartServer(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "healthcheck", "--url", admin + "/healthz"}, noEnv, nil, &out, &out); err != nil {
		t.Errorf("healthcheck of a live server: %v", err)
	}
	if err := run(context.Background(), []string{"gatewatch", "healthcheck", "--url", admin + "/nope"}, noEnv, nil, &out, &out); err == nil {
		t.Error("healthcheck of a 404 succeeded")
	}
}

func TestBlankless(t *testing.T) {
	for in, want := range map[string]string{
		"^ *(de)([-_;, ]|$)": "^[[:space:]]*(de)([-_;,[:space:]]|$)",
		`a\ b[] ]c`:          `a\ b[][:space:]]c`,
		"plain":              "plain",
	} {
		if got := blankless(in); got != want {
			t.Errorf("blankless(%q) = %q; want %q", in, got, want)
		}
		if strings.ContainsAny(blankless(in), " \t") && !strings.Contains(in, `\ `) {
			t.Errorf("blankless(%q) keeps a blank", in)
		}
	}
}

// TestNginxUpstream: the http-level block names the upstream the include
// proxies to, gatewatch's own listener, and keeps enough connections.
func TestNginxUpstream(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gatewatch.toml")
	cfg := "[server]\nlisten = \"0.0.0.0:9090\"\n[nginx]\npass = \"http://gw_pool\"\n[[site]]\nname = \"shop\"\nhosts = [\"shop.test\"]\n[site.brand]\ntitle = \"Shop\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"gatewatch", "nginx", "--upstream", "--config", cfgPath}, noEnv, nil, &out, &errb); err != nil {
		t.Fatalf("gatewatch nginx --upstream: %v\n%s", err, errb.String())
	}
	for _, w := range []string{"upstream gw_pool {", "server 127.0.0.1:9090;", "keepalive 256;", "keepalive_requests 100000;"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the upstream block lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"gatewatch", "nginx", "--config", cfgPath}, noEnv, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "proxy_pass http://gw_pool;") {
		t.Error("the include does not proxy to the upstream the block names")
	}
}

// TestInlineStyleIsOneLine: HAProxy's map lines keep the page's style as
// it is only because the style has no newline; the CSP's hash is then
// the style's own.
func TestInlineStyleIsOneLine(t *testing.T) {
	cfg, err := loadConfig("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	_, st, err := newStatic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if style := st.InlineStyle(&cfg.Sites[0]); strings.Contains(style, "\n") || len(style) == 0 {
		t.Errorf("the inline style (%d bytes) has a newline; a map line would change it and its CSP hash", len(style))
	}
}
