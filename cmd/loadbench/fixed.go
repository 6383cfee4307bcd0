package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/internal/coalesce"
)

// The fixed-response server is target (f): a trivial net/http server that
// answers every request with the status, headers and body gatewatch sent
// for (a), doing no other work. It shows what any net/http server can do
// on the machine, the ceiling for (a). It runs in its own process, as
// gatewatch and nginx do, so that its CPU and RSS are sampled the same
// way: loadbench starts itself again with the hidden flags
//
//	-fixed-server ADDR -fixed-response FILE
//
// where FILE is the captured response as JSON.
const fixedServerFlag = "-fixed-server"

// fixedResponse is one captured response: what (f) answers.
type fixedResponse struct {
	Status int `json:"status"`
	// Header is every response header but Date, which net/http adds.
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"` // as sent: gzip when gatewatch sent gzip
}

// captureFixed requests url with headers as preflight does and writes the
// response to path for the fixed-response server.
func captureFixed(ctx context.Context, url string, headers [][2]string, wantCode int, path string) (fixedResponse, error) {
	status, header, body, err := fetch(ctx, url, headers)
	if err != nil {
		return fixedResponse{}, err
	}
	if status != wantCode {
		return fixedResponse{}, fmt.Errorf("GET %s answered %d; want %d", url, status, wantCode)
	}
	header.Del("Date")
	fr := fixedResponse{Status: status, Header: header, Body: body}
	b, err := json.Marshal(fr)
	if err != nil {
		return fr, err
	}
	return fr, os.WriteFile(path, b, 0o644)
}

func readFixed(path string) (fixedResponse, error) {
	var fr fixedResponse
	b, err := os.ReadFile(path)
	if err != nil {
		return fr, err
	}
	if err := json.Unmarshal(b, &fr); err != nil {
		return fr, fmt.Errorf("%s: %w", path, err)
	}
	if fr.Status < 100 || fr.Status > 999 {
		return fr, fmt.Errorf("%s: status %d", path, fr.Status)
	}
	return fr, nil
}

// sameResponse reports how a response differs from the captured one,
// Date aside; "" when it does not.
func (fr fixedResponse) sameResponse(status int, header http.Header, body []byte) string {
	if status != fr.Status {
		return fmt.Sprintf("status %d, captured %d", status, fr.Status)
	}
	header = header.Clone()
	header.Del("Date")
	for _, k := range slices.Sorted(maps.Keys(fr.Header)) {
		if !slices.Equal(header[k], fr.Header[k]) {
			return fmt.Sprintf("header %s: %q, captured %q", k, header[k], fr.Header[k])
		}
	}
	for k := range header {
		if _, ok := fr.Header[k]; !ok {
			return fmt.Sprintf("header %s: %q, not captured", k, header[k])
		}
	}
	if string(body) != string(fr.Body) {
		return fmt.Sprintf("body of %d bytes, captured %d", len(body), len(fr.Body))
	}
	return ""
}

// handler answers every request with the captured response. The header
// map is built once; each request gets the same slices, unformatted.
func (fr fixedResponse) handler() http.Handler {
	header := fr.Header.Clone()
	status, body := fr.Status, fr.Body
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	})
}

// serveFixed is the process loadbench starts for (f): it serves the
// response in -fixed-response on -fixed-server until ctx ends.
func serveFixed(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadbench "+fixedServerFlag, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String(fixedServerFlag[1:], "", "listen address")
	file := fs.String("fixed-response", "", "captured response (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || *file == "" || fs.NArg() > 0 {
		return errors.New("usage: loadbench -fixed-server ADDR -fixed-response FILE")
	}
	fr, err := readFixed(*file)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// net/http's defaults: no timeouts, as a plain http.Server{Handler: h},
	// on the listener gatewatch's public one uses, which sends each
	// response in one write (internal/coalesce).
	ln = coalesce.Listener(ln)
	srv := &http.Server{Handler: fr.handler()}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		srv.Close()
		return nil
	}
}

// startFixed captures (a)'s response and starts the fixed-response server
// in its own process. It runs just before (f)'s run rather than with the
// stack, as gatewatch's page changes once its first checks have settled
// the verdict: by then it is the page (a)'s run was served, which the
// report checks by comparing the bytes wrk read per reply.
func (st *stack) startFixed(ctx context.Context) error {
	if st.fixed != nil {
		return nil
	}
	a := st.targets()[0]
	fr, err := captureFixed(ctx, a.url, a.headers, a.wantCode, st.fixedFile)
	if err != nil {
		return fmt.Errorf("capture (a)'s response for (f): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("(f) runs loadbench again: %w", err)
	}
	addr := strings.TrimPrefix(st.fixedBase, "http://")
	st.log("(f) starting the fixed-response net/http server on %s: %d, %d headers, %d-byte body", st.fixedBase, fr.Status, len(fr.Header), len(fr.Body))
	if st.fixed, err = startProcess("fixed-response server", filepath.Join(st.dir, "fixed.log"), self,
		fixedServerFlag, addr, "-fixed-response", st.fixedFile); err != nil {
		return err
	}
	if err := waitDial(ctx, addr, 10*time.Second); err != nil {
		return fmt.Errorf("fixed-response server: %w; log in %s", err, st.fixed.logPath)
	}
	return nil
}

// fastEval is fasthttpeval's module, from the repository's root (where
// make bench runs loadbench).
const fastEval = "cmd/loadbench/fasthttpeval"

// startFast builds fasthttpeval and starts it on (a)'s captured response,
// as startFixed does for (f).
func (st *stack) startFast(ctx context.Context) error {
	if st.fast != nil {
		return nil
	}
	if err := st.startFixed(ctx); err != nil { // the capture
		return err
	}
	bin := filepath.Join(st.dir, "fasthttpeval")
	if err := runCmd(ctx, "go", "build", "-C", fastEval, "-o", bin, "."); err != nil {
		return fmt.Errorf("(i) go build -C %s (run loadbench from the repository's root): %w", fastEval, err)
	}
	addr := strings.TrimPrefix(st.fastBase, "http://")
	st.log("(i) starting fasthttpeval on %s", st.fastBase)
	var err error
	if st.fast, err = startProcess("fasthttp server", filepath.Join(st.dir, "fast.log"), bin, addr, st.fixedFile); err != nil {
		return err
	}
	if err := waitDial(ctx, addr, 10*time.Second); err != nil {
		return fmt.Errorf("fasthttp server: %w; log in %s", err, st.fast.logPath)
	}
	return nil
}
