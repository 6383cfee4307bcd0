//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// describeJS names an element for a failure message.
const describeJS = `const describe = (e) => e.tagName.toLowerCase() +
  (e.dataset.testid ? "[" + e.dataset.testid + "]" : "") +
  (e.type && e.tagName !== "A" ? "[type=" + e.type + "]" : "") +
  ' "' + (e.textContent || e.value || "").trim().replace(/\s+/g, " ").slice(0, 30) + '"';`

// tabbablesJS lists, in document order, every control that a visitor can
// see and reach with the Tab key, and keeps the list for focusJS.
const tabbablesJS = `(() => {` + describeJS + `
  const all = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, [tabindex], summary")]
    .filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")
    // Inside folded steps only the summary is reachable until it opens.
    .filter((e) => e.matches("summary") || !e.closest("details:not([open])"));
  window.__tabbables = all;
  return all.map(describe);
})()`

// focusJS describes the focused element: its place in the tab list, its
// position on the page, and the focus ring drawn around it with the
// contrast of the ring against the background it is drawn on.
const focusJS = `(() => {` + describeJS + `
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return {index: -1, name: "the page itself"};
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    const [r, g, b] = rgb(c);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = "rgb(255, 255, 255)";
  for (let a = e.parentElement; a; a = a.parentElement) {
    const c = getComputedStyle(a).backgroundColor;
    const v = rgb(c);
    if (v.length === 3 || v[3] > 0) { bg = c; break; }
  }
  const cs = getComputedStyle(e);
  const width = cs.outlineStyle === "none" ? 0 : parseFloat(cs.outlineWidth) || 0;
  const l1 = lum(cs.outlineColor), l2 = lum(bg);
  const r = e.getBoundingClientRect();
  const out = width + Math.max(0, parseFloat(cs.outlineOffset) || 0);
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  return {
    index: (window.__tabbables || []).indexOf(e), name: describe(e),
    focusVisible: e.matches(":focus-visible"),
    ringWidth: width, ringStyle: cs.outlineStyle,
    contrast: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05),
    ringInView: r.left - out >= -0.5 && r.right + out <= vw + 0.5 && r.top - out >= -0.5 && r.bottom + out <= vh + 0.5,
    top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right,
  };
})()`

type focused struct {
	Index                    int
	Name                     string
	FocusVisible             bool
	RingWidth                float64
	RingStyle                string
	Contrast                 float64
	RingInView               bool
	Top, Bottom, Left, Right float64
}

// press sends keys to the page as a keyboard would.
func press(t *testing.T, tb *tab, keys string) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(keys)); err != nil {
		t.Fatalf("press %q: %v", keys, err)
	}
}

// TestBrowserKeyboard walks the 502 page with the Tab key alone: every
// control is reached once, in reading order, each with a focus ring that
// is visible (at least 2 px, 3:1 against its background, on screen); and
// the language switcher, retry and clear-site-data work from the keyboard.
func TestBrowserKeyboard(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 50*time.Second)
	for _, c := range []struct {
		lang string
		look look
		want []string // controls, in order, by data-testid or text
	}{
		// The site is down for everyone: contacting it leads, then Try
		// again; the visitor's own steps are folded behind their summary.
		{"en", desktop, []string{"brand", "select", "Change", "Send an e-mail", "Try again", "summary", "Copy"}},
		{"en", desktop.inDark(), []string{"brand", "select", "Change", "Send an e-mail", "Try again", "summary", "Copy"}},
		{"ar", desktop, []string{"brand", "select", "تغيير", "أرسل", "حاول مرة أخرى", "summary", "نسخ"}},
		{"he", phone, []string{"brand", "select", "החלפה", "שליחת", "ניסיון נוסף", "summary", "העתקה"}},
		{"en", phone.withoutJS(), []string{"brand", "select", "Change", "Send an e-mail", "Try again", "summary"}},
	} {
		t.Run(c.lang+"/"+c.look.name, func(t *testing.T) {
			tb.load(t, c.look, s.pageURL("/dead/cart", c.lang))
			controls := eval[[]string](t, tb, tabbablesJS)
			if len(controls) != len(c.want) {
				t.Errorf("controls = %q; want %d of them (%q)", controls, len(c.want), c.want)
			}
			for i := range min(len(controls), len(c.want)) {
				if !strings.Contains(controls[i], c.want[i]) {
					t.Errorf("control %d = %s; want %q", i, controls[i], c.want[i])
				}
			}
			rtl := c.lang == "ar" || c.lang == "he"
			var seen []int
			var prev *focused
			for range len(controls) + 2 {
				press(t, tb, kb.Tab)
				f := eval[focused](t, tb, focusJS)
				if f.Index < 0 || len(seen) > 0 && f.Index == seen[0] {
					break // past the last control: the browser's own UI, or round again
				}
				seen = append(seen, f.Index)
				if !f.FocusVisible {
					t.Errorf("%s has focus but not :focus-visible", f.Name)
				}
				if f.RingWidth < 2 || f.Contrast < 3 {
					t.Errorf("%s: focus ring %s %.1fpx with contrast %.2f:1; want at least 2px and 3:1", f.Name, f.RingStyle, f.RingWidth, f.Contrast)
				}
				if !f.RingInView {
					t.Errorf("%s: focus ring is not entirely on screen", f.Name)
				}
				// Reading order: the next control is on a later line, or
				// on the same line further along the reading direction.
				if prev != nil {
					sameLine := f.Top < prev.Bottom-2
					along := f.Left >= prev.Right-2
					if rtl {
						along = f.Right <= prev.Left+2
					}
					if sameLine && !along || f.Top < prev.Top-2 {
						t.Errorf("focus went from %s back to %s, against the reading order", prev.Name, f.Name)
					}
				}
				prev = &f
			}
			want := make([]int, len(controls))
			for i := range want {
				want[i] = i
			}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Errorf("Tab visited controls %v; want each of the %d once, in order %v", seen, len(controls), want)
			}
		})
	}

	t.Run("language switcher", func(t *testing.T) {
		tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
		if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS("#gw-lang"))); err != nil {
			t.Fatal(err)
		}
		// Arrowing through the languages must not leave the page: a
		// change of context needs the visitor to ask for it.
		press(t, tb, kb.ArrowDown)
		// Elapsed time is the point: a navigation the keypress started
		// would show within it; its absence can only be waited out.
		time.Sleep(300 * time.Millisecond)
		if lang := eval[string](t, tb, `document.documentElement.lang`); lang != "en" {
			t.Fatalf("ArrowDown on the language list loaded the %q page", lang)
		}
		if got := eval[string](t, tb, `document.querySelector("select").value`); got != "ar" {
			t.Fatalf("ArrowDown selected %q; want ar, the next language", got)
		}
		press(t, tb, kb.Tab)
		press(t, tb, kb.Enter)
		if err := waitJS(tb.ctx, `document.documentElement.lang === "ar"`, 5*time.Second); err != nil {
			t.Fatalf("Tab, Enter after choosing Arabic: %v", err)
		}
	})

	t.Run("retry and clear with keys", func(t *testing.T) {
		tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
		ref := eval[string](t, tb, `document.querySelector("[data-testid=ref-id]").textContent`)
		if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS("[data-retry-button]"))); err != nil {
			t.Fatal(err)
		}
		press(t, tb, kb.Enter)
		if err := waitJS(tb.ctx, `document.querySelector("[data-testid=ref-id]")?.textContent.length === 32 && document.querySelector("[data-testid=ref-id]").textContent !== "`+ref+`"`, 5*time.Second); err != nil {
			t.Fatalf("Enter on Try again did not load the page again: %v", err)
		}
		// Enter on the summary unfolds the visitor's own steps.
		if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS("details.folded > summary"))); err != nil {
			t.Fatal(err)
		}
		press(t, tb, kb.Enter)
		if !eval[bool](t, tb, `document.querySelector("details.folded").open`) {
			t.Fatal("Enter on the summary did not unfold the steps")
		}
		if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS("[data-clear] input[type=checkbox]"))); err != nil {
			t.Fatal(err)
		}
		press(t, tb, " ")
		if !eval[bool](t, tb, `document.querySelector("[data-clear] input[type=checkbox]").checked`) {
			t.Error("Space did not tick the cookies box")
		}
		press(t, tb, kb.Tab)
		press(t, tb, kb.Enter)
		if err := waitJS(tb.ctx, `document.querySelector("[data-clear-result]").textContent === document.querySelector("[data-clear]").dataset.done`, 10*time.Second); err != nil {
			t.Fatalf("Enter on the clear button: %v", err)
		}
	})
}
