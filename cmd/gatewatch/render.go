package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gatewatch/gatewatch/handlers"
	"github.com/gatewatch/gatewatch/locales"
)

// renderCmd writes every static page (site × language × code) under
// DIR/SITE/LANG/CODE.html, for nginx to serve when gatewatch itself does
// not answer.
func renderCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("render", stderr)
	path := fs.String("config", "", "config file (default: the embedded default)")
	out := fs.String("out", "", "output directory (default: nginx.fallback_dir)")
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
	catalog, err := locales.New(cfg.Server.DefaultLocale)
	if err != nil {
		return err
	}
	assets, err := loadAssets(cfg)
	if err != nil {
		return err
	}
	st, err := handlers.NewStatic(cfg, catalog, assets)
	if err != nil {
		return err
	}
	n := 0
	for i := range cfg.Sites {
		site := &cfg.Sites[i]
		for _, lang := range catalog.Languages() {
			d := filepath.Join(dir, site.Name, lang.Code)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			for _, code := range handlers.StaticCodes {
				page, err := st.Render(ctx, site, lang, code)
				if err != nil {
					return fmt.Errorf("render %s/%s/%d: %w", site.Name, lang.Code, code, err)
				}
				base := filepath.Join(d, strconv.Itoa(code)+".html")
				if err := writePage(base, page); err != nil {
					return err
				}
				n++
			}
		}
	}
	fmt.Fprintf(stdout, "wrote %d pages to %s\n", n, dir)
	return nil
}

// writePage writes page through a temporary file and a rename, so that
// nginx never serves half a page. A .gz from an older render goes: the
// fallback fills in each page by SSI, which a precompressed file skips.
func writePage(path string, page []byte) error {
	if err := os.Remove(path + ".gz"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, page, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
