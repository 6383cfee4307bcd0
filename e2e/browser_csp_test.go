//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserCSPAllowsThePage loads the 502 page in Chromium, which
// enforces its Content-Security-Policy: the inline brand style (allowed
// by its hash) applies, the script (from 'self') runs, and the browser
// reports no violation.
func TestBrowserCSPAllowsThePage(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 25*time.Second)
	// Registered before any of the page's own code, outside its CSP.
	watch := `window.__csp = []; document.addEventListener("securitypolicyviolation",
		(e) => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline")));`
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: watch}); err != nil {
		t.Fatal(err)
	}
	tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
	if err := waitJS(tb.ctx, `document.querySelector("[data-live]").textContent !== ""`, 10*time.Second); err != nil {
		t.Errorf("the page's script never ran: %v", err)
	}
	if got := strings.TrimSpace(eval[string](t, tb, `getComputedStyle(document.documentElement).getPropertyValue("--brand-light")`)); got != e2eBrand.Primary {
		t.Errorf("--brand-light = %q; want the site's %q from the inline style", got, e2eBrand.Primary)
	}
	if v := eval[[]string](t, tb, `window.__csp`); len(v) > 0 {
		t.Errorf("CSP violations: %q", v)
	}
}
