//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// platformFonts names the fonts Chromium drew the text of sel with.
func platformFonts(ctx context.Context, sel string) (map[string]float64, error) {
	fonts := map[string]float64{}
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, dom.Enable, dom.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, css.Enable, cdp.Empty{}); err != nil {
			return err
		}
		doc, err := cdp.Call(ctx, t, dom.GetDocument, dom.GetDocumentParams{})
		if err != nil {
			return err
		}
		n, err := cdp.Call(ctx, t, dom.QuerySelector, dom.QuerySelectorParams{NodeID: doc.Root.NodeID, Selector: sel})
		if err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: n.NodeID})
		if err != nil {
			return err
		}
		for _, f := range res.Fonts {
			fonts[f.FamilyName] += f.GlyphCount
		}
		return nil
	}))
	return fonts, err
}

// TestBrowserFontsCoverScripts: the page's headline and lead are drawn
// with fonts that have their script: Noto (Debian's fonts-noto-core and
// fonts-noto-cjk, installed by .ci/deps.sh) for CJK, Devanagari, Bengali
// (Hindi, Marathi), Bengali, Tamil, Telugu and Thai, which DejaVu lacks and
// once showed as boxes in the screenshots; DejaVu Sans, fontconfig's first
// sans, has Arabic (Urdu's letters too) and Hebrew.
func TestBrowserFontsCoverScripts(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 60*time.Second)
	dejavu := map[string]bool{"ar": true, "fa": true, "he": true, "ur": true}
	for _, lang := range []string{"ja", "zh-Hans", "zh-Hant", "ko", "hi", "mr", "bn", "ta", "te", "th", "ar", "fa", "ur", "he"} {
		t.Run(lang, func(t *testing.T) {
			tb.load(t, desktop, s.pageURL("/dead/cart", lang))
			for _, sel := range []string{"[data-testid=headline]", "[data-testid=lead]"} {
				fonts, err := platformFonts(tb.ctx, sel)
				if err != nil {
					t.Fatal(err)
				}
				if len(fonts) == 0 {
					t.Errorf("%s %s: no fonts reported", lang, sel)
				}
				for family, glyphs := range fonts {
					if !strings.Contains(family, "Noto") && !(dejavu[lang] && family == "DejaVu Sans") {
						t.Errorf("%s %s: %.0f glyphs in %q; want Noto fonts (apt-get install fonts-noto-core fonts-noto-cjk)", lang, sel, glyphs, family)
					}
				}
			}
		})
	}
}
