//go:build e2e

package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshotDir = flag.String("screenshots", "", "write the README's screenshots of the 502 page into this directory (env GATEWATCH_SCREENSHOTS)")

// TestScreenshots is the generator behind make screenshots, not a check:
// it writes PNGs of the 502 page, through nginx and Chromium, into the
// directory given by -screenshots or GATEWATCH_SCREENSHOTS.
func TestScreenshots(t *testing.T) {
	dir := *screenshotDir
	if dir == "" {
		dir = os.Getenv("GATEWATCH_SCREENSHOTS")
	}
	if dir == "" {
		t.Skip("generator: run `go test -count=1 -run '^TestScreenshots$' ./e2e -args -screenshots=../docs` (make screenshots) to write the PNGs")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startPageStack(t, brand{Title: "Example Shop"})
	tb := openTab(t, 50*time.Second)
	shots := []struct {
		file, lang string
		look       look
	}{
		{"502-desktop-light.png", "en", desktop},
		{"502-desktop-dark.png", "en", desktop.inDark()},
		{"502-phone.png", "en", look{name: "phone", width: 390, height: 844, mobile: true, scale: 2}},
		{"502-ar.png", "ar", desktop},
		{"502-nojs.png", "en", desktop.withoutJS()},
	}
	// A first visit, so that every picture counts the same one visitor.
	tb.load(t, desktop, s.pageURL("/dead/cart", "en"))
	for _, sh := range shots {
		t.Run(sh.file, func(t *testing.T) {
			tb.load(t, sh.look, s.pageURL("/dead/cart", sh.lang))
			// A phone shows its first screen; a desktop the whole page
			// column, without the empty margins beside it.
			shoot := chromedp.Screenshot(chromedp.CSS("#gw"))
			if sh.look.mobile {
				shoot = chromedp.CaptureScreenshot()
			}
			png, err := chromedp.Run(tb.ctx, shoot)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, sh.file)
			if err := os.WriteFile(path, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", path, len(png))
		})
	}
}
