package public_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/safeurl"
)

// linkRE finds every link and form target in a page.
var linkRE = regexp.MustCompile(`(?i)\b(?:href|action|formaction|src)\s*=\s*"([^"]*)"`)

// onSite reports whether a link in a page (HTML-unescaped) or a Location
// stays on the site: a same-origin path, this page ("" or a fragment), a
// mail link, or the test config's contact URL.
func onSite(link string) bool {
	switch {
	case link == "", strings.HasPrefix(link, "#"), strings.HasPrefix(link, "mailto:"), link == "https://shop.example/contact":
		return true
	}
	if !safeurl.IsLocal(link) {
		return false
	}
	base, _ := url.Parse("https://shop.example/page")
	ref, err := url.Parse(link)
	if err != nil {
		return true // no browser reads it as another host either
	}
	u := base.ResolveReference(ref)
	return u.Scheme == "https" && u.Host == "shop.example"
}

// FuzzPublicHeaders sends arbitrary Accept, X-Format, Accept-Language,
// X-Code, X-Original-URI, X-Request-ID, Host, query and path through the
// real router, from a trusted proxy or a stranger: the answer is always
// an error status, never a panic, never reflects markup unescaped, and
// every href, form action and Location stays on the site, whatever the
// path and X-Original-URI were (the same URI posted as clear-site-data's
// back too).
func FuzzPublicHeaders(f *testing.F) {
	s := mustServer(f)
	f.Add("text/html", "", "de", "502", "/cart", "abc", "shop.example", "lang=fr", "/fuzz", true)
	f.Add("application/json;q=0.9, text/*;q=0.1", "application/problem+json", "ar-EG", "504", "/a?b=c", "r-1", "blog.example", "", "/a", false)
	f.Add("*/*", "", "", "x", "//evil", "<x>", "<script>", "lang=%ZZ", "//evil.example/", true)
	f.Add(";;;", ",,,", "q=1;de", "404", "/\x00", strings.Repeat("a", 70), "", "a=1&a=2&lang=pt", "/\\evil.example/", true)
	f.Add("text/html", "", "", "502", "/\\evil.example/", "", "shop.example", "", "/\\evil.example/", false)
	f.Add("text/html", "", "", "503", "/\t/evil.example", "", "shop.example", "", "\\\\evil.example", true)
	f.Fuzz(func(t *testing.T, accept, xformat, lang, code, uri, rid, host, query, path string, trusted bool) {
		r := httptest.NewRequest("GET", "/fuzz", nil)
		r.RequestURI = path
		if u, err := url.ParseRequestURI(path); err == nil {
			r.URL = u
		} else {
			r.URL = &url.URL{Path: path}
		}
		r.URL.RawQuery = query
		r.RemoteAddr = "192.0.2.1:1"
		if trusted {
			r.RemoteAddr = "127.0.0.1:1"
		}
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
		body := w.Body.String()
		if strings.Contains(body, "<script>") {
			t.Fatalf("body reflects <script>")
		}
		for _, m := range linkRE.FindAllStringSubmatch(body, -1) {
			if link := html.UnescapeString(m[1]); !onSite(link) {
				t.Fatalf("path %q, X-Original-URI %q: page links to %q, off the site", path, uri, link)
			}
		}
		if loc := w.Header().Get("Location"); loc != "" && !onSite(loc) {
			t.Fatalf("path %q: Location %q is off the site", path, loc)
		}

		form := url.Values{"back": {uri}}
		r = httptest.NewRequest("POST", "/_gatewatch/clear-site-data", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Host = "shop.example"
		w = httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("clear-site-data back=%q: status %d; want 303", uri, w.Code)
		}
		if loc := w.Header().Get("Location"); !onSite(loc) {
			t.Fatalf("clear-site-data back=%q: Location %q is off the site", uri, loc)
		}
	})
}
