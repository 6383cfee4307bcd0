package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// (h) is nginx serving the very bytes gatewatch's own listener sends for
// (a): its gzip body, captured once gatewatch is up, as a file served with
// gzip_static, with (a)'s headers. (a) ÷ (h) is the issue's "own listener
// vs nginx gzip_static of the same bytes"; (b) is the fallback page as the
// include serves it, which is not compressed.

// sameDir holds (h)'s page: cart.html and the cart.html.gz gzip_static
// sends; sameHeaders is the add_header include nginx.conf names.
const (
	sameDir     = "same"
	sameHeaders = "same-headers.conf"
)

// writeSamePlaceholder gives nginx the include it needs to start; the
// real one comes with the capture (captureSame).
func writeSamePlaceholder(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, sameDir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, sameHeaders), []byte("# filled in by loadbench\n"), 0o644)
}

// captureSame fetches (a), writes its body and headers for (h), and
// reloads nginx.
func (st *stack) captureSame(ctx context.Context) error {
	a := st.targets()[0]
	// A few times: a page whose value lengths are new is served spliced
	// while its whole-page compression is built (handlers/public's
	// framer); keep the smallest, as (a)'s load is served.
	var (
		status int
		header http.Header
		body   []byte
	)
	for range 5 {
		s, h, b, err := fetch(ctx, a.url, a.headers)
		if err != nil {
			return err
		}
		if body == nil || len(b) < len(body) {
			status, header, body = s, h, b
		}
		if err := pause(ctx, 150*time.Millisecond); err != nil {
			return err
		}
	}
	if status != a.wantCode || header.Get("Content-Encoding") != "gzip" {
		return fmt.Errorf("(a) answered %d, %q; want %d, gzip", status, header.Get("Content-Encoding"), a.wantCode)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return err
	}
	page, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	dir := filepath.Join(st.dir, sameDir)
	if err := os.WriteFile(filepath.Join(dir, "cart.html"), page, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cart.html.gz"), body, 0o644); err != nil {
		return err
	}
	var conf strings.Builder
	names := make([]string, 0, len(header))
	for k := range header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch k {
		case "Date", "Content-Length", "Content-Type", "Content-Encoding":
			continue // nginx's own
		case "X-Request-Id":
			conf.WriteString("add_header X-Request-ID $request_id always;\n")
			continue
		}
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `${dollar}`).Replace(header.Get(k))
		fmt.Fprintf(&conf, "add_header %s \"%s\" always;\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(st.dir, sameHeaders), []byte(conf.String()), 0o644); err != nil {
		return err
	}
	if err := runCmd(ctx, st.nginxBin, "-p", st.dir, "-c", filepath.Join(st.dir, "nginx.conf"), "-s", "reload"); err != nil {
		return fmt.Errorf("nginx -s reload: %w", err)
	}
	// The new workers take over; check that (h) answers with the bytes.
	h := st.targets()[slices.IndexFunc(st.targets(), func(t target) bool { return t.key == "h" })]
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, hh, got, err := fetch(ctx, h.url, h.headers)
		if err == nil && code == http.StatusBadGateway && bytes.Equal(got, body) && hh.Get("Content-Security-Policy") == header.Get("Content-Security-Policy") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("(h) %s does not answer with (a)'s bytes (status %d, %d bytes, err %v)", h.url, code, len(got), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
