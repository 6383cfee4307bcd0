package public_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// User agents of the browsers whose hard-refresh keys differ.
const (
	uaWinChrome   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	uaLinuxFF     = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaMacSafari   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
	uaMacChrome   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	uaMacFirefox  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaIPhone      = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
	uaAndroidCrom = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36"
)

// shortcuts lists the hard-refresh step's shortcuts, each as its keys
// joined by "+", and its text.
func shortcuts(d *goquery.Document) (keys []string, text string) {
	step := d.Find("[data-step=hard-refresh]")
	step.Find(".keys").Each(func(_ int, s *goquery.Selection) {
		var k []string
		s.Find("kbd").Each(func(_ int, kb *goquery.Selection) { k = append(k, kb.Text()) })
		keys = append(keys, strings.Join(k, "+"))
	})
	return keys, step.Text()
}

func TestHardRefreshByPlatformAndBrowser(t *testing.T) {
	s := mustServer(t)
	for _, tc := range []struct {
		name, ua, lang string
		want           []string // shortcuts, in order
		text           string   // part of the step's text
	}{
		{"windows chrome en", uaWinChrome, "en", []string{"Ctrl+F5", "Ctrl+Shift+R"}, "Press"},
		{"windows chrome de", uaWinChrome, "de", []string{"Strg+F5", "Strg+Umschalt+R"}, ""},
		{"linux firefox fr", uaLinuxFF, "fr", []string{"Ctrl+F5", "Ctrl+Maj+R"}, ""},
		{"windows es", uaWinChrome, "es", []string{"Ctrl+F5", "Ctrl+Mayús+R"}, ""},
		{"windows it", uaWinChrome, "it", []string{"Ctrl+F5", "Ctrl+Maiusc+R"}, ""},
		// Safari's ⌘⇧R opens Reader; ⌥⌘R reloads from the origin.
		{"mac safari en", uaMacSafari, "en", []string{"⌥ Option+⌘ Cmd+R"}, ""},
		{"mac safari de", uaMacSafari, "de", []string{"⌥ Wahl+⌘ Befehl+R"}, ""},
		{"mac chrome en", uaMacChrome, "en", []string{"⌘ Cmd+⇧ Shift+R"}, ""},
		{"mac firefox fr", uaMacFirefox, "fr", []string{"⌘ Commande+⇧ Maj+R"}, ""},
		{"iphone", uaIPhone, "en", nil, "address bar"},
		{"android", uaAndroidCrom, "en", nil, "menu ⋮"},
		{"unknown", "", "en", []string{"Ctrl+F5", "Ctrl+Shift+R", "⌘ Cmd+⇧ Shift+R"}, "on a Mac"},
		// In a right-to-left page the keys stay in an isolated LTR run.
		{"windows ar", uaWinChrome, "ar", []string{"Ctrl+F5", "Ctrl+Shift+R"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := doc(t, s.do(nginxReq("GET", "/", map[string]string{"User-Agent": tc.ua, "Accept-Language": tc.lang})))
			got, text := shortcuts(d)
			if strings.Join(got, " | ") != strings.Join(tc.want, " | ") {
				t.Errorf("shortcuts = %q; want %q", got, tc.want)
			}
			if !strings.Contains(text, tc.text) {
				t.Errorf("hard-refresh step = %q; want it to contain %q", text, tc.text)
			}
			d.Find("[data-step=hard-refresh] .keys").Each(func(_ int, k *goquery.Selection) {
				if goquery.NodeName(k) != "bdi" || k.AttrOr("dir", "") != "ltr" {
					t.Errorf("shortcut in <%s dir=%q>; want <bdi dir=ltr>", goquery.NodeName(k), k.AttrOr("dir", ""))
				}
			})
		})
	}
}

// TestNoHardRefreshAfterPost keeps the failed form submission's steps free
// of a hard reload, which would send the form again.
func TestNoHardRefreshAfterPost(t *testing.T) {
	s := mustServer(t)
	for _, ua := range []string{uaWinChrome, uaMacSafari, uaIPhone} {
		d := doc(t, s.do(nginxReq("POST", "/checkout", map[string]string{"User-Agent": ua, "X-Original-Method": "POST"})))
		if n := d.Find("[data-step=hard-refresh]").Length(); n != 0 {
			t.Errorf("POST from %.30q: %d hard-refresh steps; want none", ua, n)
		}
	}
}
