//go:build e2e

package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// refID is the reference shown on the page in the tab.
func refID(t *testing.T, tb *tab) string {
	t.Helper()
	return eval[string](t, tb, `document.querySelector("[data-testid=ref-id]")?.textContent || ""`)
}

// waitNewPage waits until the tab shows an error page other than the one
// whose reference was old: nginx gives every request its own.
func waitNewPage(t *testing.T, tb *tab, old string) {
	t.Helper()
	if err := waitJS(tb.ctx, `(document.querySelector("[data-testid=ref-id]")?.textContent || "").length === 32 && document.querySelector("[data-testid=ref-id]").textContent !== "`+old+`"`, 10*time.Second); err != nil {
		t.Fatalf("no new page after %s: %v", old, err)
	}
}

// cookieNames lists the cookies the tab's browser context holds for the
// page.
func cookieNames(t *testing.T, tb *tab) []string {
	t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Cookies {
		names = append(names, c.Name)
	}
	return names
}

func setCookie(t *testing.T, tb *tab, base, name string) {
	t.Helper()
	if _, err := chromedp.Call(tb.ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: "1", URL: base + "/", Path: "/"}); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserButtons presses the page's buttons in Chromium through nginx:
// copy the reference, clear this site's data (cookies only when the box
// is ticked), with and without scripts, and try again, which never
// resubmits a form.
func TestBrowserButtons(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 60*time.Second)
	page := s.pageURL("/dead/cart", "en")

	t.Run("copy the reference", func(t *testing.T) {
		// Reading the clipboard back is the test's part; writing it on
		// a click needs no permission.
		bctx := chromedp.FromContext(tb.ctx).BrowserContextID
		if _, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted,
			Origin: s.base, BrowserContextID: bctx,
		}); err != nil {
			t.Fatal(err)
		}
		tb.load(t, desktop, page)
		id := refID(t, tb)
		label := eval[string](t, tb, `document.querySelector("[data-copy]").textContent`)
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("[data-copy]"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tb.ctx, `document.querySelector("[data-copy]").textContent === document.querySelector("[data-copy]").dataset.copied`, 3*time.Second); err != nil {
			t.Errorf("the button does not say it copied: %v", err)
		}
		got := eval[string](t, tb, `navigator.clipboard.readText()`)
		want := eval[string](t, tb, `document.querySelector("[data-copy]").dataset.copy`)
		if got != want || !strings.Contains(got, id) {
			t.Errorf("clipboard = %q; want %q with the reference %s", got, want, id)
		}
		if err := waitJS(tb.ctx, `document.querySelector("[data-copy]").textContent === `+jsString(label), 4*time.Second); err != nil {
			t.Errorf("the button's label did not come back: %v", err)
		}
	})

	t.Run("clear site data, cookies only when asked", func(t *testing.T) {
		tb.load(t, desktop, page)
		setCookie(t, tb, s.base, "session")
		eval[bool](t, tb, `localStorage.setItem("cart", "3"), true`)
		done := eval[string](t, tb, `document.querySelector("[data-clear]").dataset.done`)
		// The site is down for everyone: the visitor's own steps are
		// folded, and a visitor unfolds them first.
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("details.folded > summary"), chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS("[data-clear] button"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tb.ctx, `document.querySelector("[data-clear-result]").textContent === `+jsString(done), 10*time.Second); err != nil {
			t.Fatalf("no confirmation after clearing: %v", err)
		}
		if n := eval[int](t, tb, `localStorage.length`); n != 0 {
			t.Errorf("localStorage holds %d items after clearing; want none", n)
		}
		if !slices.Contains(cookieNames(t, tb), "session") {
			t.Error("the cookies went although the box was not ticked")
		}
		if lang := eval[string](t, tb, `document.documentElement.lang`); lang != "en" || refID(t, tb) == "" {
			t.Error("the page did not stay put while clearing")
		}
		if err := chromedp.Do(tb.ctx,
			chromedp.Click(chromedp.CSS("[data-clear] input[name=cookies]"), chromedp.NodeVisible),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-clear-result]").textContent = ""`),
			chromedp.Click(chromedp.CSS("[data-clear] button"), chromedp.NodeVisible),
		); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tb.ctx, `document.querySelector("[data-clear-result]").textContent === `+jsString(done), 10*time.Second); err != nil {
			t.Fatalf("no confirmation after clearing with cookies: %v", err)
		}
		if names := cookieNames(t, tb); slices.Contains(names, "session") {
			t.Errorf("cookies after clearing with the box ticked: %v; want none", names)
		}
	})

	t.Run("clear site data without scripts", func(t *testing.T) {
		tb.load(t, desktop.withoutJS(), page)
		setCookie(t, tb, s.base, "session")
		id := refID(t, tb)
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("details.folded > summary"), chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS("[data-clear] button"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, tb, id) // posted, then sent back to the page
		if !slices.Contains(cookieNames(t, tb), "session") {
			t.Error("the cookies went although the box was not ticked")
		}
		id = refID(t, tb)
		if err := chromedp.Do(tb.ctx,
			chromedp.Click(chromedp.CSS("details.folded > summary"), chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS("[data-clear] input[name=cookies]"), chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS("[data-clear] button"), chromedp.NodeVisible),
		); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, tb, id)
		if names := cookieNames(t, tb); slices.Contains(names, "session") {
			t.Errorf("cookies after clearing with the box ticked: %v; want none", names)
		}
		if loc := eval[string](t, tb, `location.pathname`); loc != "/dead/cart" {
			t.Errorf("after clearing the visitor is on %s; want back on /dead/cart", loc)
		}
		var posts []sent
		for _, r := range tb.requestLog() {
			if r.Method == "POST" {
				posts = append(posts, r)
			}
		}
		if len(posts) < 2 || posts[len(posts)-1].Status != 303 || !strings.HasSuffix(posts[len(posts)-1].URL, "/_gatewatch/clear-site-data") {
			t.Errorf("POSTs = %v; want the form posted to /_gatewatch/clear-site-data and redirected back", posts)
		}
	})

	t.Run("try again reloads the page", func(t *testing.T) {
		tb.load(t, desktop, page)
		id := refID(t, tb)
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("[data-retry-button]"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, tb, id)
		if loc := eval[string](t, tb, `location.pathname + location.search`); loc != "/dead/cart?lang=en" {
			t.Errorf("retry went to %s; want the failed address again", loc)
		}
	})

	t.Run("try again after a POST does not resubmit it", func(t *testing.T) {
		tb.load(t, desktop, page)
		id := refID(t, tb)
		// A visitor's checkout form that the dead origin failed.
		if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const f = document.createElement("form");
			f.method = "post"; f.action = "/dead/checkout";
			f.innerHTML = '<input name="card" value="4242">';
			document.body.append(f); f.submit();
		})()`)); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, tb, id)
		if m := eval[string](t, tb, `document.getElementById("gw").dataset.method`); m != "POST" {
			t.Fatalf("page after the POST says method %q", m)
		}
		before := len(tb.requestLog())
		id = refID(t, tb)
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("[data-retry-button]"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, tb, id)
		for _, r := range tb.requestLog()[before:] {
			if r.Method == "POST" {
				t.Errorf("retry resubmitted the form: %s", r)
			}
		}
		if m := eval[string](t, tb, `document.getElementById("gw").dataset.method`); m != "GET" {
			t.Errorf("retry after a POST loaded the page with %s; want a plain GET", m)
		}
	})

	t.Run("every request stayed under /_gatewatch/", func(t *testing.T) {
		checkRequests(t, tb, s)
	})
}

// jsString quotes s for a script.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
