package pages_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// hostile is text that would break out of an element or an attribute if
// it were not escaped.
const hostile = `"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;`

// render renders c and parses the result; it fails the test when Render
// does.
func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatalf("Render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc, b.String()
}

// noInjectedMarkup fails when the hostile text became markup: an img
// with an event handler, or a script that says alert.
func noInjectedMarkup(t *testing.T, doc *goquery.Document) {
	t.Helper()
	if n := doc.Find("img[onerror]").Length(); n != 0 {
		t.Errorf("%d img[onerror] in the page; hostile text became markup", n)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "alert") {
			t.Errorf("script %q in the page; hostile text became markup", s.Text())
		}
	})
}

// noInlineScript fails on a script without src, or on any on* event
// handler attribute: the pages' CSP allows neither.
func noInlineScript(t *testing.T, doc *goquery.Document) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, ok := s.Attr("src"); !ok || src == "" || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline script (src %q, body %q)", src, s.Text())
		}
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s %s=%q>: event handler attribute", goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
	doc.Find("[href]").Each(func(_ int, s *goquery.Selection) {
		if h, _ := s.Attr("href"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), "javascript:") {
			t.Errorf("<%s href=%q>: script URL", goquery.NodeName(s), h)
		}
	})
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return v
}
