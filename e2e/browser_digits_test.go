//go:build e2e

package e2e

import (
	"regexp"
	"testing"
	"time"
)

// TestBrowserDigitsAgree: where a language writes its own digits (CLDR's
// default numbering: Persian ۰–۹, Bengali ০–৯), the server's
// reference time, the script's countdown and the script's local time all
// use them; German and Arabic keep Latin digits everywhere.
func TestBrowserDigitsAgree(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 60*time.Second)
	latin := regexp.MustCompile(`[0-9]`)
	for _, tc := range []struct {
		lang   string
		digits *regexp.Regexp
	}{
		{"fa", regexp.MustCompile(`[۰-۹]`)},
		{"ar", latin}, // CLDR 42 made "ar" Latin ("ar-EG" keeps ٠–٩)
		{"bn", regexp.MustCompile(`[০-৯]`)},
		{"de", latin},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			tb.load(t, desktop, s.pageURL("/dead/cart", tc.lang))
			if err := waitJS(tb.ctx, `/:/.test(document.querySelector("[data-live]").textContent) && !!document.querySelector("[data-testid=ref-local]")`, 15*time.Second); err != nil {
				t.Fatalf("no countdown or local time: %v", err)
			}
			for _, sel := range []string{"[data-live]", "[data-testid=ref-local]", "[data-testid=ref-time]", "[data-testid=badge]"} {
				text := eval[string](t, tb, `(document.querySelector("`+sel+`").firstChild || {}).textContent || document.querySelector("`+sel+`").textContent`)
				if !tc.digits.MatchString(text) {
					t.Errorf("%s %s = %q; want the language's own digits", tc.lang, sel, text)
				}
				if tc.digits != latin && latin.MatchString(text) {
					t.Errorf("%s %s = %q; has Latin digits", tc.lang, sel, text)
				}
			}
		})
	}
}

// TestBrowserShortcutsKeepOrderInRTL: in right-to-left pages each
// shortcut still reads Ctrl, Shift, R from left to right, as on the keys.
func TestBrowserShortcutsKeepOrderInRTL(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 40*time.Second)
	for _, lang := range []string{"fa", "ar", "he"} {
		tb.load(t, desktop, s.pageURL("/dead/cart", lang))
		visual := eval[string](t, tb, `document.querySelectorAll("details").forEach((d) => { d.open = true; });
			Array.from(document.querySelectorAll("[data-step=hard-refresh] .keys")).map((b) => Array.from(b.querySelectorAll("kbd"))
				.sort((a, c) => a.getBoundingClientRect().x - c.getBoundingClientRect().x).map((k) => k.textContent).join("+")).join(" | ")`)
		logical := eval[string](t, tb, `Array.from(document.querySelectorAll("[data-step=hard-refresh] .keys")).map((b) =>
			Array.from(b.querySelectorAll("kbd")).map((k) => k.textContent).join("+")).join(" | ")`)
		if visual == "" || visual != logical {
			t.Errorf("%s: shortcuts read %q left to right; want %q", lang, visual, logical)
		}
	}
}
