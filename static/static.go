package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed css js img
var files embed.FS

// Prefix is where assets are served, same-origin with the error page.
const Prefix = "/_gatewatch/static/"

// Asset is one file, ready to serve.
type Asset struct {
	Name        string // hashed name, e.g. "gatewatch.3f2a1b9c0d.css"
	ContentType string
	Body        []byte
	Gzip        []byte // nil when compression does not pay
	ETag        string
}

// Set is the assets gatewatch serves, built once at start.
type Set struct {
	byName    map[string]*Asset // hashed name -> asset
	byLogical map[string]*Asset // logical path ("css/gatewatch.css") -> asset
}

// File is an extra asset, such as a site's logo.
type File struct {
	Logical string // the name callers ask URL for, e.g. "brand/shop.svg"
	Body    []byte
}

// New builds the Set from the embedded files and extra.
func New(extra ...File) (*Set, error) {
	s := &Set{byName: map[string]*Asset{}, byLogical: map[string]*Asset{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		return s.add(p, b)
	})
	if err != nil {
		return nil, err
	}
	for _, f := range extra {
		if err := s.add(f.Logical, f.Body); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Set) add(logical string, body []byte) error {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:5])
	ext := path.Ext(logical)
	base := strings.TrimSuffix(path.Base(logical), ext)
	name := base + "." + hash + ext
	if prev, dup := s.byName[name]; dup && !bytes.Equal(prev.Body, body) {
		return fmt.Errorf("static: %s and another file hash to the same name", logical)
	}
	ct := mime.TypeByExtension(ext)
	if ct == "" {
		ct = "application/octet-stream"
	}
	a := &Asset{Name: name, ContentType: ct, Body: body, ETag: `"` + hash + `"`}
	if compressible(ct) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			a.Gzip = buf.Bytes()
		}
	}
	s.byName[name] = a
	s.byLogical[logical] = a
	return nil
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "svg") || strings.Contains(ct, "json")
}

// URL returns the path of the asset with the logical name, or "" when
// there is none.
func (s *Set) URL(logical string) string {
	if a, ok := s.byLogical[logical]; ok {
		return Prefix + a.Name
	}
	return ""
}

// Get returns the asset with the logical name.
func (s *Set) Get(logical string) (*Asset, bool) {
	a, ok := s.byLogical[logical]
	return a, ok
}

// Lookup returns the asset with the hashed name.
func (s *Set) Lookup(name string) (*Asset, bool) {
	a, ok := s.byName[name]
	return a, ok
}

// Serve writes the asset for a GET or HEAD: immutable caching (the name
// changes with the content), gzip when the client takes it.
func (a *Asset) Serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", a.ETag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("If-None-Match"), a.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.Body
	if a.Gzip != nil && AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.Gzip
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// AcceptsGzip reports whether an Accept-Encoding header allows gzip,
// honouring an explicit q=0.
func AcceptsGzip(ae string) bool {
	for ae != "" {
		var part string
		part, ae, _ = strings.Cut(ae, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
