package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/config"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatewatch.toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultIsValid(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatalf("Default() = %v", err)
	}
	if got, want := cfg.Server.Listen, "127.0.0.1:8080"; got != want {
		t.Errorf("Server.Listen = %q; want %q", got, want)
	}
	if got, want := cfg.Server.AdminListen, "127.0.0.1:8081"; got != want {
		t.Errorf("Server.AdminListen = %q; want %q", got, want)
	}
	if got, want := cfg.Store.EventRowsPerSecond, 1000; got != want {
		t.Errorf("Store.EventRowsPerSecond = %d; want %d", got, want)
	}
	if len(cfg.Sites) == 0 || len(cfg.Admin.Users) == 0 {
		t.Fatalf("default has %d sites and %d users; want at least one of each", len(cfg.Sites), len(cfg.Admin.Users))
	}
}

const goodSite = `
[[site]]
name = "shop"
hosts = ["shop.example", "*.shop.example"]
[site.brand]
title = "Shop"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:9000/health"
addrs = ["127.0.0.1:9000"]

[[site]]
name = "blog"
hosts = ["blog.example"]
[site.brand]
title = "Blog"
`

func TestLoadOverridesDefault(t *testing.T) {
	cfg, err := config.Load(writeConfig(t, "[server]\nlisten = \"127.0.0.1:9999\"\n"+goodSite))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if got, want := cfg.Server.Listen, "127.0.0.1:9999"; got != want {
		t.Errorf("Listen = %q; want %q", got, want)
	}
	// Unset keys keep the default; lists from the file replace the default's.
	if got, want := cfg.Server.AdminListen, "127.0.0.1:8081"; got != want {
		t.Errorf("AdminListen = %q; want %q", got, want)
	}
	if got := len(cfg.Sites); got != 2 {
		t.Fatalf("len(Sites) = %d; want 2", got)
	}
	if got := len(cfg.Admin.Users); got != 1 {
		t.Errorf("len(Admin.Users) = %d; want the default's 1 (the file lists none)", got)
	}
	// 0 turns the cap on event rows off.
	cfg, err = config.Load(writeConfig(t, "[store]\nevent_rows_per_second = 0\n"+goodSite))
	if err != nil {
		t.Fatalf("Load(event_rows_per_second = 0) = %v", err)
	}
	if got := cfg.Store.EventRowsPerSecond; got != 0 {
		t.Errorf("Store.EventRowsPerSecond = %d; want 0 from the file", got)
	}
	// A file without sites keeps the default's.
	cfg, err = config.Load(writeConfig(t, "[server]\nlisten = \"127.0.0.1:9999\"\n"))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if len(cfg.Sites) != 1 || cfg.Sites[0].Name != "example" {
		t.Errorf("Sites = %+v; want the default's", cfg.Sites)
	}
}

func TestSiteFor(t *testing.T) {
	cfg, err := config.Load(writeConfig(t, goodSite))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, want string }{
		{"shop.example", "shop"},
		{"SHOP.example:8443", "shop"},
		{"shop.example.", "shop"},
		{"www.shop.example", "shop"},
		{"blog.example", "blog"},
		{"unknown.example", "shop"}, // the first site serves unnamed hosts
		{"", "shop"},
		{"<script>", "shop"},
	} {
		if got := cfg.SiteFor(tc.host).Name; got != tc.want {
			t.Errorf("SiteFor(%q) = %q; want %q", tc.host, got, tc.want)
		}
	}
}

func TestLoadReportsFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // every one must appear
	}{
		{"bad listen", "[server]\nlisten = \"nope\"\n" + goodSite, []string{":2: server.listen: \"nope\" is not host:port"}},
		{"unknown key", "[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n" + goodSite, []string{":3: unknown key \"server.lisen\""}},
		{"wrong type", "[server]\n\nlisten = 5\n" + goodSite, []string{":3: ", "Listen"}},
		{"bad duration", "[monitor]\ninterval = \"fast\"\n" + goodSite, []string{":2: ", "\"fast\" is not a duration"}},
		{"syntax", "[server\nlisten = 1\n", []string{":1: "}},
		{"css injection in color", goodSite + "[site.brand.colors]\nprimary = \"red;}body{x\"\n", []string{":18: site[1].brand.colors.primary: "}},
		{"light brand under white text", goodSite + "[site.brand.colors]\nprimary = \"#ffd700\"\n", []string{":18: site[1].brand.colors.primary: \"#ffd700\" has a contrast of 1.30:1 with #f6f7f9", "want at least 4.5:1"}},
		{"dark brand under dark text", goodSite + "[site.brand.colors]\nprimary = \"#1f5fbf\"\nprimary_dark = \"#333a44\"\n", []string{":19: site[1].brand.colors.primary_dark: \"#333a44\" has a contrast of 1.", "with #161b22"}},
		{"second site empty title", strings.Replace(goodSite, `title = "Blog"`, `title = ""`, 1), []string{":16: site[1].brand.title: must not be empty"}},
		{"upstream check scheme", strings.Replace(goodSite, `check = "http://127.0.0.1:9000/health"`, `check = "ftp://x"`, 1), []string{":9: site[0].upstream[0].check: "}},
		{"host in multi-line array", "[[site]]\nname = \"a\"\nhosts = [\n  \"ok.example\",\n  \"bad host\",\n]\n[site.brand]\ntitle = \"A\"\n", []string{":5: site[0].hosts[1]: \"bad host\" is not a host name"}},
		{"duplicate host", strings.Replace(goodSite, `hosts = ["blog.example"]`, `hosts = ["shop.example"]`, 1), []string{":14: site[1].hosts[0]: host \"shop.example\" already belongs to site \"shop\""}},
		{"no sites", "site = []\n", []string{"at least one [[site]]"}},
		{"bad password hash", goodSite + "[[admin.user]]\nname = \"a\"\npassword_hash = \"hunter2\"\n", []string{":19: admin.user[0].password_hash: is not a bcrypt hash"}},
		{"missing logo", strings.Replace(goodSite, `title = "Shop"`, "title = \"Shop\"\nlogo = \"nope.svg\"", 1), []string{":7: site[0].brand.logo: cannot read logo"}},
		{"postgres dsn", "[store]\ndsn = \"mysql://x\"\n" + goodSite, []string{":2: store.dsn: "}},
		{"negative event rows", "[store]\nretention = \"1h\"\nevent_rows_per_second = -1\n" + goodSite, []string{":3: store.event_rows_per_second: must not be negative"}},
		{"event rows not a number", "[store]\nevent_rows_per_second = \"many\"\n" + goodSite, []string{":2: "}},
		{"bad memory limit", "[server]\nlisten = \"127.0.0.1:1\"\nmemory_limit = \"lots\"\n" + goodSite, []string{":3: ", `"lots" is not a size`}},
		{"negative memory limit", "[server]\nmemory_limit = \"-1MiB\"\n" + goodSite, []string{":2: ", "is not a size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			_, err := config.Load(path)
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load = %v; want a *config.Error", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("Load error = %q; want it to start with %q", msg, path+":")
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Load error = %q; want it to contain %q", msg, w)
				}
			}
		})
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		out  string
	}{
		{"0", 0, "0"},
		{"40MiB", 40 << 20, "40MiB"},
		{"512 KiB", 512 << 10, "512KiB"},
		{"2GiB", 2 << 30, "2GiB"},
		{"1536MiB", 1536 << 20, "1536MiB"},
		{"1000B", 1000, "1000"},
		{"4096", 4096, "4KiB"},
	} {
		var s config.Size
		if err := s.UnmarshalText([]byte(tc.in)); err != nil || s.Bytes != tc.want {
			t.Errorf("Size(%q) = %d, %v; want %d", tc.in, s.Bytes, err, tc.want)
			continue
		}
		if out, _ := s.MarshalText(); string(out) != tc.out {
			t.Errorf("Size(%q).MarshalText() = %q; want %q", tc.in, out, tc.out)
		}
	}
	for _, in := range []string{"", "MiB", "40MB", "-1", "1.5GiB", "9999999999TiB"} {
		var s config.Size
		if err := s.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("Size(%q) = %d; want an error", in, s.Bytes)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GATEWATCH_LISTEN":          "127.0.0.1:1234",
		"GATEWATCH_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
	}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("ApplyEnv = %v", err)
	}
	if got, want := cfg.Server.Listen, "127.0.0.1:1234"; got != want {
		t.Errorf("Listen = %q; want %q", got, want)
	}
	if got, want := strings.Join(cfg.Server.TrustedProxies, " "), "10.0.0.0/8 192.0.2.1"; got != want {
		t.Errorf("TrustedProxies = %q; want %q", got, want)
	}
	err = cfg.ApplyEnv(func(k string) string {
		if k == "GATEWATCH_TRUSTED_PROXIES" {
			return "not-an-ip"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "environment: server.trusted_proxies[0]") {
		t.Errorf("ApplyEnv(bad) = %v; want a problem naming environment and the key", err)
	}
}

func TestPassURL(t *testing.T) {
	for _, tc := range []struct{ listen, pass, want string }{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080"},
		{":8080", "", "http://127.0.0.1:8080"},
		{"[::]:8080", "", "http://[::1]:8080"},
		{"127.0.0.1:8080", "http://gatewatch.internal:80/", "http://gatewatch.internal:80"},
	} {
		cfg := &config.Config{Server: config.Server{Listen: tc.listen}, Nginx: config.Nginx{Pass: tc.pass}}
		if got := cfg.PassURL(); got != tc.want {
			t.Errorf("PassURL(listen %q, pass %q) = %q; want %q", tc.listen, tc.pass, got, tc.want)
		}
	}
}

func TestContrast(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21}, {"#fff", "#ffffff", 1}, {"#1f5fbf", "#ffffff", 6.09}, {"#d8dee4", "#ffffff", 1.36}, {"bad", "#fff", 0},
	} {
		if got := config.Contrast(tc.a, tc.b); got < tc.want-0.01 || got > tc.want+0.01 {
			t.Errorf("Contrast(%q, %q) = %.2f; want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}
