package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gatewatch/gatewatch/handlers/public"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/locales"
)

// renderCmd writes every static page (site × language × code) under
// DIR/SITE/LANG/CODE.html, for nginx to serve when gatewatch itself does
// not answer.
func renderCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("render", stderr)
	path := fs.String("config", "", "config file (default: the embedded default)")
	out := fs.String("out", "", "output directory (default: nginx.fallback_dir)")
	format := fs.String("format", "nginx", "nginx: SITE/LANG/CODE.html and .gz; haproxy: SITE/LANG/CODE.http, raw responses for errorfile; envoy-gateway: envoy-gateway.yaml, ConfigMaps and BackendTrafficPolicy")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	cfg, err := loadConfig(*path, getenv)
	if err != nil {
		return configError(err)
	}
	dir := *out
	if dir == "" {
		dir = cfg.Nginx.FallbackDir
	}
	if dir == "" {
		return exitError{2, fmt.Errorf("render: give --out DIR or set nginx.fallback_dir")}
	}
	if *format != "nginx" && *format != "haproxy" && *format != "envoy-gateway" {
		return exitError{2, fmt.Errorf("render: --format %q: want nginx, haproxy or envoy-gateway", *format)}
	}
	catalog, st, err := newStatic(cfg)
	if err != nil {
		return err
	}
	n := 0
	eg, hm := &envoyGateway{}, &haproxyMaps{st: st, catalog: catalog}
	for i := range cfg.Sites {
		site := &cfg.Sites[i]
		for _, lang := range catalog.Languages() {
			// Envoy Gateway's overrides are static: one language, the
			// site's. HAProxy's maps take every language.
			if *format == "envoy-gateway" && lang.Code != siteLang(catalog, site).Code {
				continue
			}
			d := filepath.Join(dir, site.Name, lang.Code)
			if *format == "nginx" {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			for _, code := range public.StaticCodes {
				var err error
				switch *format {
				case "haproxy":
					err = hm.add(ctx, site, lang, code, dir)
				case "envoy-gateway":
					var page []byte
					if page, err = st.RenderWith(ctx, site, lang, code, public.StaticOptions{Fill: public.FillNone}); err == nil {
						eg.add(site.Name, code, page)
					}
				default:
					var page []byte
					if page, err = st.Render(ctx, site, lang, code); err == nil {
						err = writePage(filepath.Join(d, strconv.Itoa(code)+".html"), page)
					}
				}
				if err != nil {
					return fmt.Errorf("render %s/%s/%d: %w", site.Name, lang.Code, code, err)
				}
				n++
			}
		}
	}
	what := "pages"
	switch *format {
	case "haproxy":
		what = "pages in maps (and errorfiles)"
		if err := hm.write(dir, stderr); err != nil {
			return err
		}
	case "envoy-gateway":
		what = "pages as ConfigMaps in envoy-gateway.yaml"
		if err := eg.write(filepath.Join(dir, "envoy-gateway.yaml"), cfg.Source); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d %s to %s\n", n, what, dir)
	return nil
}

// writePage writes page through a temporary file and a rename, so that
// nginx never serves half a page. A .gz from an older render goes: the
// fallback fills in each page by SSI, which a precompressed file skips.
func writePage(path string, page []byte) error {
	if err := os.Remove(path + ".gz"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return writeFileAtomic(path, page)
}

// newStatic prepares what renders the static pages of cfg.
func newStatic(cfg *config.Config) (*locales.Catalog, *public.Static, error) {
	catalog, err := locales.New(cfg.Server.DefaultLocale)
	if err != nil {
		return nil, nil, err
	}
	assets, err := loadAssets(cfg)
	if err != nil {
		return nil, nil, err
	}
	st, err := public.NewStatic(cfg, catalog, assets)
	if err != nil {
		return nil, nil, err
	}
	return catalog, st, nil
}
