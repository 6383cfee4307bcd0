//go:build e2e

package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserLiveRegionIsQuiet watches every live region of the page in
// Chromium while the countdown runs: a screen reader reads out whatever
// changes inside aria-live or role=status, so nothing that ticks (the
// countdown, "checking now") and not the visitor count may be there; the
// region speaks only when the verdict changes.
func TestBrowserLiveRegionIsQuiet(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 40*time.Second)
	// Registered before the page's own script: records each text a live
	// region holds after a change, as an assistive technology would hear it.
	watch := `window.__heard = []; window.__ticks = 0;
	new MutationObserver((ms) => {
		for (const m of ms) {
			const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
			if (el && el.closest("[data-live]")) window.__ticks++;
			const region = el && el.closest("[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log], [role=timer]");
			if (region) window.__heard.push(region.textContent.trim());
		}
	}).observe(document, { subtree: true, childList: true, characterData: true });`
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: watch}); err != nil {
		t.Fatal(err)
	}
	tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
	// A few seconds of countdown: at least five updates of the live line.
	if err := waitJS(tb.ctx, `window.__ticks >= 5`, 20*time.Second); err != nil {
		t.Fatalf("the countdown never ran: %v", err)
	}
	if got := eval[string](t, tb, `document.querySelector("[data-live]").textContent`); !regexp.MustCompile(`\d:\d\d|…`).MatchString(got) {
		t.Errorf("live line = %q; want a countdown or 'checking'", got)
	}
	countdown := regexp.MustCompile(`\p{Nd}+:\p{Nd}{2}`)
	heard := eval[[]string](t, tb, `window.__heard`)
	for _, h := range heard {
		if countdown.MatchString(h) || strings.Contains(h, "Checking") {
			t.Errorf("a live region said %q; want no countdown or checking message", h)
		}
	}
	// Each thing heard is a verdict (it changed from the server's) or
	// "the site is back", and the region never repeats itself per check.
	answers := eval[[]string](t, tb, `[document.querySelector("[data-testid=verdict-answer]").textContent, document.getElementById("gw").dataset.msgBack]`)
	for _, h := range heard {
		if h != "" && h != answers[0] && h != answers[1] {
			t.Errorf("a live region said %q; want only the verdict %q or %q", h, answers[0], answers[1])
		}
	}
	if len(heard) > 3 {
		t.Errorf("live regions changed %d times in a few seconds (%q); want at most a change of verdict", len(heard), heard)
	}
	// Whatever a live region holds now, at rest: no countdown, no count.
	for _, q := range []struct{ what, expr string }{
		{"live-region text", `Array.from(document.querySelectorAll("[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=timer]")).map((e) => e.textContent).join(" | ")`},
	} {
		if got := eval[string](t, tb, q.expr); countdown.MatchString(got) {
			t.Errorf("%s = %q; want no countdown", q.what, got)
		}
	}
	for _, sel := range []string{"[data-live]", "[data-testid=verdict-count]", "[data-testid=verdict-answer]"} {
		if in := eval[bool](t, tb, `!!document.querySelector("`+sel+`").closest("[aria-live], [role=status], [role=alert], [role=timer]")`); in {
			t.Errorf("%s is inside a live region; want it outside", sel)
		}
	}
	if n := eval[int](t, tb, `document.querySelectorAll("[role=status][data-announce]").length`); n != 1 {
		t.Errorf("%d announce regions; want 1", n)
	}
}
