//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// checkRequests fails for every request the tab made that was not a page
// the visitor asked for or under /_gatewatch/ on the same origin, and for
// every asset or API call that did not succeed.
func checkRequests(t *testing.T, tb *tab, s *pageStack) {
	t.Helper()
	log := tb.requestLog()
	if len(log) == 0 {
		t.Fatal("the request log is empty")
	}
	for _, r := range log {
		u, err := url.Parse(r.URL)
		switch {
		case err != nil || u.Scheme+"://"+u.Host != s.base:
			t.Errorf("request to another origin: %s", r)
		case r.Type == network.ResourceTypeDocument:
			// The page itself, a retry, the language form, the no-JS
			// clear form: navigations the visitor made.
		case !strings.HasPrefix(u.Path, "/_gatewatch/"):
			t.Errorf("request outside /_gatewatch/: %s", r)
		case r.Status != 200 && r.Status != 204 && r.Status != 0:
			t.Errorf("request failed: %s", r)
		}
	}
}

// TestBrowserRequestsStayUnderGatewatch reads Chromium's network log of
// the 502 page, its assets and its live status polling: nothing goes
// anywhere but the site's own /_gatewatch/.
func TestBrowserRequestsStayUnderGatewatch(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 25*time.Second)
	tb.load(t, phone.inDark(), s.pageURL("/dead/cart", "ar"))
	tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
	// The first status check is due after Retry-After (5 s at least).
	if err := waitJS(tb.ctx, `document.querySelector("[data-live]").textContent !== "" && !!performance.getEntriesByType("resource").find((e) => e.name.includes("/_gatewatch/api/v1/status"))`, 15*time.Second); err != nil {
		t.Fatalf("the page never polled the status API: %v", err)
	}
	// The response's network event may arrive after the script saw it.
	polled := poll(5*time.Second, func() bool {
		for _, r := range tb.requestLog() {
			if strings.Contains(r.URL, "/_gatewatch/api/v1/status") && r.Status == 200 {
				return true
			}
		}
		return false
	})
	if !polled {
		t.Errorf("no successful status API call in the network log: %v", tb.requestLog())
	}
	checkRequests(t, tb, s)
}

// TestBrowserFirstPaintBudget loads the 502 page in every language with
// every request but the page and its style sheet held back until the page
// has painted: the first paint needs nothing else, the only other
// requests by then are one script and the page's icon, and page, style
// sheet and script weigh at most 14 KB gzipped, the first round trip.
func TestBrowserFirstPaintBudget(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 40*time.Second)
	var (
		mu       sync.Mutex
		passed   []*fetch.EventRequestPaused
		held     []*fetch.EventRequestPaused
		released = true
	)
	release := func(ev *fetch.EventRequestPaused) {
		chromedp.Call(tb.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
	}
	paused := chromedp.Events(tb.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			mu.Lock()
			hold := !released && ev.ResourceType != network.ResourceTypeDocument && ev.ResourceType != network.ResourceTypeStylesheet
			if hold {
				held = append(held, &ev)
			} else {
				passed = append(passed, &ev)
			}
			mu.Unlock()
			if !hold {
				release(&ev)
			}
		}
	}()
	if _, err := chromedp.Call(tb.ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// Every language is a first visit: nothing comes from the cache.
	if _, err := chromedp.Call(tb.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, desktop.apply()); err != nil {
		t.Fatal(err)
	}
	smallest, largest := 1<<30, 0
	for _, lang := range []string{"en", "ar", "de", "es", "fr", "he", "it", "ja", "nl", "pl", "pt-BR", "zh-Hans"} {
		t.Run(lang, func(t *testing.T) {
			u := s.pageURL("/dead/cart", lang)
			mu.Lock()
			passed, held, released = nil, nil, false
			mu.Unlock()
			// Navigate without waiting for the load event: it cannot
			// come while the script is held.
			if _, err := chromedp.Call(tb.ctx, page.Navigate, page.NavigateParams{URL: u}); err != nil {
				t.Fatal(err)
			}
			painted := waitJS(tb.ctx, `location.href === `+jsString(u)+` && performance.getEntriesByName("first-contentful-paint").length > 0`, 5*time.Second)
			mu.Lock()
			released = true
			before, waiting := passed, held
			mu.Unlock()
			for _, ev := range waiting {
				release(ev)
			}
			if painted != nil {
				t.Fatalf("no first paint while %v were held back: %v", describePaused(waiting), painted)
			}
			var css, js []string
			for _, ev := range before {
				switch ev.ResourceType {
				case network.ResourceTypeDocument:
				case network.ResourceTypeStylesheet:
					css = append(css, ev.Request.URL)
				default:
					t.Errorf("%s was answered before the first paint", ev.Request.URL)
				}
			}
			icon := eval[string](t, tb, `document.querySelector("link[rel=icon]")?.href || ""`)
			for _, ev := range waiting {
				switch {
				case ev.ResourceType == network.ResourceTypeScript:
					js = append(js, ev.Request.URL)
				case ev.Request.URL == icon:
					// The browser fetches the tab's icon on its own and
					// never waits for it.
				default:
					t.Errorf("%s (%s) was requested before the first paint", ev.Request.URL, ev.ResourceType)
				}
			}
			if len(css) != 1 || len(js) > 1 {
				t.Errorf("before the first paint: style sheets %v, scripts %v; want one style sheet and at most one script", css, js)
			}
			if err := waitJS(tb.ctx, `document.readyState === "complete"`, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			// Weigh what the visitor downloads, gzipped as nginx would.
			total := gzipped(t, u, map[string]string{"Accept": "text/html", "Accept-Language": lang})
			for _, a := range append(css, js...) {
				total += gzipped(t, a, nil)
			}
			if total > 14*1024 {
				t.Errorf("page, style sheet and script weigh %d bytes gzipped; budget 14336", total)
			}
			smallest, largest = min(smallest, total), max(largest, total)
			t.Logf("%s: %d bytes gzipped; painted with %d request(s) held: %v", lang, total, len(waiting), describePaused(waiting))
		})
	}
	if largest > 0 {
		t.Logf("page weight: %d to %d bytes gzipped (HTML+CSS+JS)", smallest, largest)
	}
}

func describePaused(evs []*fetch.EventRequestPaused) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.ResourceType)+" "+ev.Request.URL)
	}
	return out
}

// gzipped fetches u with the headers and returns the body's size
// gzipped.
func gzipped(t *testing.T, u string, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode >= 400 && resp.StatusCode != 502 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}
