//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// TestBrowserAxe audits the 502 page with axe-core at WCAG 2.1 AA in
// Chromium through nginx: en, ar, he and ja, light and dark, on a phone
// and without scripts; Tamil (whose chain is a column on a phone) and
// the languages added since on a phone.
func TestBrowserAxe(t *testing.T) {
	s := startPageStack(t, e2eBrand)
	tb := openTab(t, 60*time.Second)
	for _, c := range []struct {
		lang string
		look look
	}{
		{"en", desktop}, {"en", desktop.inDark()}, {"en", phone}, {"en", desktop.withoutJS()},
		{"ar", desktop}, {"ar", desktop.inDark()}, {"ar", phone},
		{"he", desktop},
		{"ja", desktop}, {"ja", desktop.inDark()},
		// Soft hyphens in the hop names; Serbian in both scripts.
		{"hr", phone}, {"sl", phone}, {"sr", phone}, {"sr-Latn", phone},
		// Tamil's chain is a column on a phone.
		{"ta", phone}, {"ca", phone}, {"es-419", phone}, {"et", phone}, {"lt", phone}, {"lv", phone},
	} {
		t.Run(c.lang+"/"+c.look.name, func(t *testing.T) {
			tb.load(t, c.look, s.pageURL("/dead/cart", c.lang))
			for _, v := range auditAxe(t, tb.ctx) {
				t.Errorf("axe: %s", v)
			}
		})
	}
}
