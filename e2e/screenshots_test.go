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
	shots := []struct {
		file, lang string
		look       look
		full       bool
	}{
		{"502-desktop-light.png", "en", desktop, true},
		{"502-desktop-dark.png", "en", desktop.inDark(), true},
		{"502-phone.png", "en", look{name: "phone", width: 390, height: 844, mobile: true}, false},
		{"502-ar.png", "ar", desktop, true},
		{"502-nojs.png", "en", desktop.withoutJS(), true},
	}
	for _, sh := range shots {
		t.Run(sh.file, func(t *testing.T) {
			tb := openTab(t, 25*time.Second)
			tb.load(t, sh.look, s.pageURL("/dead/cart", sh.lang))
			// Let the live status settle: the first check is due seconds
			// later, so the picture shows the page as it was served.
			var png []byte
			var err error
			if sh.full {
				png, err = chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
			} else {
				png, err = chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
			}
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
