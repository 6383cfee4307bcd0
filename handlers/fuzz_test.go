package handlers_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPublicHeaders sends arbitrary Accept, X-Format, Accept-Language,
// X-Code, X-Original-URI, X-Request-ID, Host and query through the real
// router from a trusted proxy: the answer is always an error status,
// never a panic, and never reflects markup unescaped.
func FuzzPublicHeaders(f *testing.F) {
	s := mustServer(f)
	f.Add("text/html", "", "de", "502", "/cart", "abc", "shop.example", "lang=fr")
	f.Add("application/json;q=0.9, text/*;q=0.1", "application/problem+json", "ar-EG", "504", "/a?b=c", "r-1", "blog.example", "")
	f.Add("*/*", "", "", "x", "//evil", "<x>", "<script>", "lang=%ZZ")
	f.Add(";;;", ",,,", "q=1;de", "404", "/\x00", strings.Repeat("a", 70), "", "a=1&a=2&lang=pt")
	f.Fuzz(func(t *testing.T, accept, xformat, lang, code, uri, rid, host, query string) {
		r := httptest.NewRequest("GET", "/fuzz", nil)
		r.URL.RawQuery = query
		r.RemoteAddr = "127.0.0.1:1"
		r.Host = host
		for k, v := range map[string]string{"Accept": accept, "X-Format": xformat, "Accept-Language": lang,
			"X-Code": code, "X-Original-URI": uri, "X-Request-ID": rid} {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		if w.Code < 400 || w.Code > 599 {
			t.Fatalf("status %d; want an error code", w.Code)
		}
		if strings.Contains(w.Body.String(), "<script>") {
			t.Fatalf("body reflects <script>")
		}
	})
}
