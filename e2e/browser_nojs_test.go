//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatewatch/gatewatch/locales"
)

// msg is the message id in the language, as the server renders it.
func msg(t *testing.T, lang, id string) string {
	t.Helper()
	c, err := locales.New("en")
	if err != nil {
		t.Fatal(err)
	}
	l, ok := c.Lookup(lang)
	if !ok {
		t.Fatalf("no language %s", lang)
	}
	return c.Translator(l).T(id, nil)
}

// seenJS tells whether the element is rendered with a size, on screen
// and not transparent: what a visitor can actually see.
const seenJS = `((sel) => {
  const e = document.querySelector(sel);
  if (!e) return false;
  const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && cs.visibility === "visible" && cs.opacity !== "0" && r.left >= 0 && r.right <= document.documentElement.clientWidth;
})`

// TestBrowserWithoutJavaScript loads the 502 page with scripts off: the
// verdict, the steps, the reference and the language switcher are there
// and visible, nothing on the page needs a script to work, and the
// switcher and retry work by plain HTML.
func TestBrowserWithoutJavaScript(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 40*time.Second)
	seen := func(t *testing.T, sel string) bool {
		t.Helper()
		return eval[bool](t, tb, seenJS+`(`+jsString(sel)+`)`)
	}
	for _, c := range []struct {
		lang string
		look look
	}{
		{"en", desktop.withoutJS()},
		{"ar", phone.withoutJS()},
		{"ja", desktop.inDark().withoutJS()},
	} {
		t.Run(c.lang+"/"+c.look.name, func(t *testing.T) {
			tb.load(t, c.look, s.pageURL("/dead/cart", c.lang))
			if got, want := eval[string](t, tb, `document.querySelector("[data-testid=verdict-answer]").textContent`), msg(t, c.lang, "verdict.down_for_everyone"); got != want {
				t.Errorf("verdict = %q; want %q", got, want)
			}
			for _, sel := range []string{"[data-testid=headline]", "[data-testid=verdict-answer]", "[data-testid=chain]",
				"[data-testid=steps] h2", "[data-testid=ref-id]", "[data-testid=ref-time]", "#gw-lang", "[data-testid=lang] button",
				"[data-retry-button]", "[data-clear] button", "[data-clear] input[type=checkbox]"} {
				if !seen(t, sel) {
					t.Errorf("%s is not visible without scripts", sel)
				}
			}
			if n := eval[int](t, tb, `[...document.querySelectorAll("[data-step]")].filter((e) => e.getClientRects().length).length`); n != 6 {
				t.Errorf("visible steps = %d; want 6", n)
			}
			if id := eval[string](t, tb, `document.querySelector("[data-testid=ref-id]").textContent`); !hex32.MatchString(id) {
				t.Errorf("reference = %q; want nginx's request id", id)
			}
			// Controls that only a script can work stay out of sight.
			for _, sel := range []string{"[data-copy]", "[data-check-again]", "[data-continue]"} {
				if seen(t, sel) {
					t.Errorf("%s shows without scripts, where it cannot work", sel)
				}
			}
			if live := eval[string](t, tb, `document.querySelector("[data-live]").textContent`); live != "" {
				t.Errorf("live line %q promises a check that will not run without scripts", live)
			}
		})
	}

	t.Run("switch language and retry", func(t *testing.T) {
		tb.load(t, desktop.withoutJS(), s.pageURL("/dead/cart", "en"))
		if err := chromedp.Do(tb.ctx,
			chromedp.SetValue(chromedp.CSS("#gw-lang"), "ja"),
			chromedp.Click(chromedp.CSS("[data-testid=lang] button"), chromedp.NodeVisible),
		); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tb.ctx, `document.documentElement.lang === "ja"`, 5*time.Second); err != nil {
			t.Fatalf("the language form did not bring the Japanese page: %v", err)
		}
		if got, want := eval[string](t, tb, `document.querySelector("[data-testid=headline]").textContent`), headline(t, "ja", "502"); got != want {
			t.Errorf("headline = %q; want %q", got, want)
		}
		if path := eval[string](t, tb, `location.pathname`); path != "/dead/cart" {
			t.Errorf("the language form went to %s; want the failed address /dead/cart", path)
		}
		id := refID(t, tb)
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("[data-retry-button]"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, tb, id)
		if lang := eval[string](t, tb, `document.documentElement.lang`); lang != "ja" {
			t.Errorf("after retry the page is in %q; want the chosen ja (cookie)", lang)
		}
	})
}
