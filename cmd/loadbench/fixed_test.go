package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFixedResponse captures a response as (a)'s is captured, serves it
// from the fixed-response handler, and checks the answer is the same
// bytes: status, headers but Date, and the gzip body as sent.
func TestFixedResponse(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat("<p>down for maintenance</p>\n", 200)))
	zw.Close()
	page := gz.Bytes()
	orig := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "shop.test" || r.Header.Get("Accept-Encoding") != "gzip, br" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(page)))
		h.Set("Cache-Control", "no-store")
		h["Vary"] = []string{"Accept-Encoding", "Accept-Language"}
		w.WriteHeader(http.StatusBadGateway)
		w.Write(page)
	}))
	defer orig.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	headers := [][2]string{{"Host", "shop.test"}, {"Accept-Encoding", "gzip, br"}}
	file := filepath.Join(t.TempDir(), "fixed.json")
	captured, err := captureFixed(ctx, orig.URL+"/cart", headers, http.StatusBadGateway, file)
	if err != nil {
		t.Fatal(err)
	}
	if captured.Header.Get("Date") != "" || !bytes.Equal(captured.Body, page) {
		t.Fatalf("captured Date %q and a %d-byte body; want no Date and the %d-byte gzip page",
			captured.Header.Get("Date"), len(captured.Body), len(page))
	}
	fr, err := readFixed(file)
	if err != nil {
		t.Fatal(err)
	}
	fixed := httptest.NewServer(fr.handler())
	defer fixed.Close()

	for range 3 { // the shared header slices survive being served
		status, header, body, err := fetch(ctx, fixed.URL+"/anything", headers)
		if err != nil {
			t.Fatal(err)
		}
		if diff := fr.sameResponse(status, header, body); diff != "" {
			t.Fatalf("fixed server differs from the capture: %s", diff)
		}
		if header.Get("Date") == "" {
			t.Error("no Date from the fixed server; net/http should add it")
		}
	}
	// sameResponse notices a difference.
	status, header, body, err := fetch(ctx, orig.URL+"/cart", headers)
	if err != nil {
		t.Fatal(err)
	}
	header.Set("X-Extra", "1")
	if diff := fr.sameResponse(status, header, body); diff == "" {
		t.Error("sameResponse missed an extra header")
	}
	header.Del("X-Extra")
	if diff := fr.sameResponse(status, header, body); diff != "" {
		t.Fatalf("the origin's own answer differs from its capture: %s", diff)
	}
	if diff := fr.sameResponse(status, header, body[1:]); diff == "" {
		t.Error("sameResponse missed a shorter body")
	}
}

// TestServeFixedUsage checks the hidden server mode insists on both flags.
func TestServeFixedUsage(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{fixedServerFlag, "127.0.0.1:0"}, &stderr, &stderr); err == nil {
		t.Fatal("no error without -fixed-response")
	}
}
