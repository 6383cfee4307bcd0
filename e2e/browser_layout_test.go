//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// layoutJS lists what a visitor would see broken: a page that scrolls
// sideways, boxes that stick out of the viewport, and text that is cut
// off by a box that clips it or spills out of the box it belongs to.
const layoutJS = `(() => {
  // Folded steps are laid out as a visitor who opens them sees them.
  for (const d of document.querySelectorAll("details")) d.open = true;
  const out = [];
  const vw = document.documentElement.clientWidth;
  const sw = document.documentElement.scrollWidth;
  if (sw > vw) out.push("the page scrolls sideways: " + sw + "px wide in a " + vw + "px viewport");
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "");
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -0.5 || r.right > vw + 0.5) out.push(name(e) + " sticks out of the viewport: " + Math.round(r.left) + ".." + Math.round(r.right) + " of " + vw);
    const cs = getComputedStyle(e);
    if (cs.overflowX !== "visible" && e.scrollWidth > e.clientWidth + 1) out.push(name(e) + " cuts its content: " + e.scrollWidth + "px in " + e.clientWidth + "px");
  }
  // Boxes that clip (overflow) or paint (border, background) must hold
  // the text inside them.
  const holders = (el) => {
    const hs = [];
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      const clips = cs.overflowX !== "visible" || cs.overflowY !== "visible";
      const paints = parseFloat(cs.borderTopWidth) > 0 || parseFloat(cs.borderInlineStartWidth) > 0 || cs.backgroundColor !== "rgba(0, 0, 0, 0)";
      if (clips || paints) hs.push(a);
    }
    return hs;
  };
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = w.nextNode()); ) {
    const text = n.data.trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const b of range.getClientRects()) {
      if (b.width < 1 || b.height < 1) continue;
      if (b.left < -0.5 || b.right > vw + 0.5) out.push("text " + JSON.stringify(text.slice(0, 40)) + " runs out of the viewport: " + Math.round(b.left) + ".." + Math.round(b.right) + " of " + vw);
      for (const h of holders(n.parentElement)) {
        const c = h.getBoundingClientRect();
        if (b.left < c.left - 1 || b.right > c.right + 1 || b.top < c.top - 1 || b.bottom > c.bottom + 1) {
          out.push("text " + JSON.stringify(text.slice(0, 40)) + " spills out of " + name(h));
          break;
        }
      }
    }
  }
  return out;
})()`

// mirrorJS lists where the page does not follow its reading direction:
// the brand, the chain (visitor first, arrows pointing along it), the
// verdict's colored edge and the step numbers sit on the start side, and
// what must stay left to right (shortcuts, the reference's time) does.
const mirrorJS = `(() => {
  const out = [];
  const dir = document.documentElement.dir;
  const rtl = dir === "rtl";
  if (getComputedStyle(document.body).direction !== dir) out.push("body direction " + getComputedStyle(document.body).direction + " in a " + dir + " page");
  const rect = (s) => document.querySelector(s).getBoundingClientRect();
  const startGap = (inner, outer) => rtl ? outer.right - inner.right : inner.left - outer.left;

  const top = rect(".top"), brand = rect("[data-testid=brand]"), lang = rect("[data-testid=lang]");
  if (Math.abs(startGap(brand, top)) > 1) out.push("the brand is not at the start of the header");
  if (lang.top < brand.bottom && (rtl ? lang.right > brand.left : lang.left < brand.right)) out.push("the language switcher is not after the brand");

  const card = rect("[data-testid=headline]");
  const h1 = document.createRange();
  h1.selectNodeContents(document.querySelector("[data-testid=headline]"));
  if (Math.abs(startGap(h1.getClientRects()[0], card)) > 1) out.push("the headline does not start at the start side");

  const hops = [...document.querySelectorAll(".hop")];
  // A chain is a row, or (Tamil on a phone) a column read top to bottom.
  const column = getComputedStyle(document.querySelector(".chain")).flexDirection === "column";
  for (let i = 1; i < hops.length; i++) {
    const a = hops[i - 1].getBoundingClientRect(), b = hops[i].getBoundingClientRect();
    if (column) {
      if (b.top < a.bottom - 1) out.push(hops[i].dataset.hop + " is not below " + hops[i - 1].dataset.hop + " in the chain's column");
      if (Math.abs(startGap(b, a)) > 1) out.push(hops[i].dataset.hop + " does not line up with " + hops[i - 1].dataset.hop + " in the chain's column");
      continue;
    }
    if (Math.abs(a.top - b.top) > 1) out.push("the chain wraps before " + hops[i].dataset.hop);
    if (rtl ? b.right > a.left + 1 : b.left < a.right - 1) out.push(hops[i].dataset.hop + " is not after " + hops[i - 1].dataset.hop + " in reading order");
    const arrow = getComputedStyle(hops[i], "::before");
    if (arrow.display === "none") continue;
    if (arrow.content !== (rtl ? '"←"' : '"→"')) out.push("the arrow before " + hops[i].dataset.hop + " is " + arrow.content);
    // The arrow sits in the gap between the hops, touching neither:
    // its box is the hop's padding box plus its left offset, moved by
    // its transform.
    const hs = getComputedStyle(hops[i]);
    const tx = new DOMMatrix(arrow.transform).m41;
    const left = b.left + parseFloat(hs.borderLeftWidth) + parseFloat(arrow.left) + tx, right = left + parseFloat(arrow.width);
    const [lo, hi] = rtl ? [b.right, a.left] : [a.right, b.left];
    if (left < lo - 0.5 || right > hi + 0.5) out.push("the arrow before " + hops[i].dataset.hop + " (" + left.toFixed(1) + ".." + right.toFixed(1) + ") overlaps the hops around the gap " + lo.toFixed(1) + ".." + hi.toFixed(1));
  }

  const v = getComputedStyle(document.querySelector(".verdict"));
  const vs = parseFloat(rtl ? v.borderRightWidth : v.borderLeftWidth), ve = parseFloat(rtl ? v.borderLeftWidth : v.borderRightWidth);
  if (!(vs > ve)) out.push("the verdict's colored edge is not on the start side");

  const li = getComputedStyle(document.querySelector(".steps > li"));
  if (!(parseFloat(rtl ? li.paddingRight : li.paddingLeft) > parseFloat(rtl ? li.paddingLeft : li.paddingRight))) out.push("the step numbers are not on the start side");

  for (const k of document.querySelectorAll(".keys")) {
    const xs = [...k.querySelectorAll("kbd")].map((e) => e.getBoundingClientRect().left);
    for (let i = 1; i < xs.length; i++) if (xs[i] < xs[i - 1]) out.push("shortcut " + JSON.stringify(k.textContent) + " does not read left to right");
  }

  // "2026-11-22 02:25:36 UTC" keeps its order in every language.
  const time = document.querySelector("[data-testid=ref-time]");
  const tw = document.createTreeWalker(time, NodeFilter.SHOW_TEXT);
  let tn = tw.nextNode();
  while (tn && !tn.data.includes("UTC")) tn = tw.nextNode();
  if (tn) {
    const r = (from, to) => { const g = document.createRange(); g.setStart(tn, from); g.setEnd(tn, to); return g.getBoundingClientRect(); };
    const u = tn.data.indexOf("UTC"), d = tn.data.search(/\d{4}-/);
    if (d >= 0 && r(d, d + 4).left > r(u, u + 3).left) out.push("the reference's time reads " + JSON.stringify(time.textContent) + " backwards");
  } else out.push("no UTC time in the reference");

  // The time in the visitor's zone, in their language, lays out as the
  // same text does on its own, in the direction of its content.
  const local = document.querySelector("[data-testid=ref-local]");
  if (local) {
    const alone = document.createElement("div");
    alone.dir = "auto";
    alone.style.cssText = "position: absolute; inset-inline-start: 0; top: 0; white-space: nowrap; visibility: hidden";
    alone.textContent = local.textContent;
    local.after(alone);
    const order = (el) => {
      const tn = el.firstChild, xs = [];
      for (let i = 0; i < tn.data.length; i++) {
        if (/\s/.test(tn.data[i])) continue;
        const g = document.createRange(); g.setStart(tn, i); g.setEnd(tn, i + 1);
        xs.push([g.getBoundingClientRect().left, i]);
      }
      return xs.sort((a, b) => a[0] - b[0]).map((x) => x[1]).join(",");
    };
    const lines = new Set([...local.getClientRects()].map((r) => Math.round(r.top))).size;
    if (lines === 1 && order(local) !== order(alone)) out.push("the local time " + JSON.stringify(local.textContent) + " is laid out out of order");
    alone.remove();
  }
  return out;
})()`

// colorsJS tells the page's background and text luminance.
const colorsJS = `(() => {
  const lum = (c) => {
    const m = c.match(/[\d.]+/g).map(Number);
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]);
  };
  const cs = getComputedStyle(document.body);
  return [lum(cs.backgroundColor), lum(cs.color)];
})()`

// splitWordsJS lists the words of the chain that a line break cuts in
// two ("இயங்கு|கிறது"), in the form "இயங்கு|கிறது".
const splitWordsJS = `(() => {
  const out = [];
  for (const el of document.querySelectorAll(".hop .name, .hop .state")) {
    const n = el.firstChild;
    if (!n) continue;
    const lines = (from, to) => {
      const r = document.createRange();
      r.setStart(n, from);
      r.setEnd(n, to);
      return new Set([...r.getClientRects()].filter((b) => b.width > 0.5).map((b) => Math.round(b.top))).size;
    };
    for (const m of n.data.matchAll(/\S+/g)) {
      if (lines(m.index, m.index + m[0].length) < 2) continue;
      let at = 1;
      while (at < m[0].length && lines(m.index, m.index + at + 1) < 2) at++;
      out.push(m[0].slice(0, at) + "|" + m[0].slice(at));
    }
  }
  return out;
})()`

// TestBrowserLayout loads the 502 page through nginx in a 320 px phone and
// a 1280 px desktop, light and dark, left to right and right to left:
// nothing scrolls sideways or is cut off, the colors follow
// prefers-color-scheme, and ar, he and ur mirror the whole layout.
func TestBrowserLayout(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 50*time.Second)
	type page struct {
		lang string
		look look
	}
	var pages []page
	for _, lang := range []string{"en", "ar", "he", "ja"} {
		for _, l := range []look{desktop, desktop.inDark(), phone, phone.inDark()} {
			pages = append(pages, page{lang, l})
		}
	}
	// Every other language in the narrowest viewport, where long words
	// break first.
	for _, lang := range []string{"de", "es", "fr", "it", "nl", "pl", "pt-BR", "pt-PT", "zh-Hans", "zh-Hant",
		"cs", "sv", "da", "nb", "fi", "ru", "uk", "tr", "el", "hu", "ro", "fa", "hi", "bn", "id", "vi", "th", "ko",
		"bg", "fil", "mr", "ms", "sk", "sw", "ta", "te", "ur", "hr", "sl", "sr", "sr-Latn", "ca", "es-419", "et", "lt", "lv"} {
		pages = append(pages, page{lang, phone})
	}
	for _, p := range pages {
		t.Run(p.lang+"/"+p.look.name, func(t *testing.T) {
			tb.load(t, p.look, s.pageURL("/dead/cart", p.lang))
			if got := eval[string](t, tb, `document.documentElement.lang`); got != p.lang {
				t.Fatalf("html lang = %q; want %q", got, p.lang)
			}
			// A phone zooms out of a page that is too wide for it.
			if got := eval[int](t, tb, `window.innerWidth`); got != int(p.look.width) {
				t.Errorf("the layout viewport is %d px wide; want %d: the page is too wide for the screen", got, p.look.width)
			}
			for _, problem := range eval[[]string](t, tb, layoutJS) {
				t.Error(problem)
			}
			for _, problem := range eval[[]string](t, tb, mirrorJS) {
				t.Error(problem)
			}
			// The chain keeps every word whole, in every language and
			// viewport (on a phone it is a column).
			for _, w := range eval[[]string](t, tb, splitWordsJS) {
				t.Errorf("the chain cuts %q mid-word", w)
			}
			wantDir := "ltr"
			if p.lang == "ar" || p.lang == "he" || p.lang == "ur" || p.lang == "fa" {
				wantDir = "rtl"
			}
			if got := eval[string](t, tb, `document.documentElement.dir`); got != wantDir {
				t.Errorf("dir = %q; want %q", got, wantDir)
			}
			lum := eval[[]float64](t, tb, colorsJS)
			if dark := lum[0] < lum[1]; dark != p.look.dark {
				t.Errorf("background luminance %.2f, text %.2f: dark = %v; want %v (prefers-color-scheme)", lum[0], lum[1], dark, p.look.dark)
			}
		})
	}
}

// motionJS makes every hop of the chain "unknown", the state whose icon
// pulses, and returns the animations then running in the page and the
// elements whose style asks for one.
const motionJS = `(() => {
  for (const h of document.querySelectorAll(".hop")) h.setAttribute("data-state", "unknown");
  const styled = [];
  for (const e of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const cs = getComputedStyle(e, pseudo);
      if (cs.animationName !== "none") styled.push(e.tagName.toLowerCase() + "." + e.className + (pseudo || "") + " animation " + cs.animationName);
      if (cs.transitionDuration.split(",").some((d) => parseFloat(d) > 0)) styled.push(e.tagName.toLowerCase() + "." + e.className + (pseudo || "") + " transition " + cs.transitionProperty);
    }
  }
  if (getComputedStyle(document.documentElement).scrollBehavior === "smooth") styled.push("html scroll-behavior smooth");
  return {running: document.getAnimations().length, styled};
})()`

// TestBrowserReducedMotion: the unknown hop's icon pulses for visitors who
// do not mind motion, and nothing moves for those who asked for less.
func TestBrowserReducedMotion(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 20*time.Second)
	type motion struct {
		Running int
		Styled  []string
	}
	tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
	m := eval[motion](t, tb, motionJS)
	if m.Running == 0 {
		t.Fatalf("no animation runs without prefers-reduced-motion; the check would prove nothing (styled: %v)", m.Styled)
	}
	for _, l := range []look{desktop, phone.inDark(), desktop.withoutJS()} {
		l.reducedMotion, l.name = true, l.name+"-reduced"
		t.Run(l.name, func(t *testing.T) {
			tb.load(t, l, s.pageURL("/dead/cart", "en"))
			m := eval[motion](t, tb, motionJS)
			if m.Running != 0 || len(m.Styled) != 0 {
				t.Errorf("with prefers-reduced-motion: reduce, %d animations run; moving: %s", m.Running, strings.Join(m.Styled, "; "))
			}
		})
	}
}
