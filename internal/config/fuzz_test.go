package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/config"
)

// FuzzParse feeds arbitrary files to the loader: it returns a config or a
// *config.Error whose every line names the file, and never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[server]\nlisten = \"127.0.0.1:1\"\n"))
	f.Add([]byte("[[site]]\nname = \"a\"\nhosts = [\"a.example\", \"*.b.example\"]\n[site.brand]\ntitle = \"A\"\n[site.brand.colors]\nprimary = \"#fff\"\n"))
	f.Add([]byte("[[site]]\n[[site.upstream]]\nname = \"x\"\naddrs = [\"h:1\"]\n[[admin.user]]\nname = \"u\"\n"))
	f.Add([]byte("[monitor]\ninterval = \"-1s\"\nwindow = 5\n"))
	f.Add([]byte("a.b.c = {x = [1, {y = 2}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.toml", t.TempDir(), data)
		if err == nil {
			if cfg == nil || len(cfg.Sites) == 0 {
				t.Fatal("Parse returned no error and no usable config")
			}
			return
		}
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Fatalf("Parse error %T %v is not a *config.Error", err, err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.toml") {
				t.Fatalf("error line %q does not name the file", line)
			}
		}
	})
}
