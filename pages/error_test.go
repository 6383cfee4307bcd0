package pages_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatewatch/gatewatch/pages"
)

func errorPage() *pages.ErrorPage {
	return &pages.ErrorPage{
		Lang: "en", Dir: "ltr", Code: 502, Method: "GET",
		Title: "Error 502 – Shop", Badge: "Error 502", Headline: "The site is not answering", Lead: "Not your fault.",
		Brand:     pages.Brand{Title: "Shop", Initial: "S", HomeURL: "https://shop.test/", Primary: "#123456", PrimaryD: "#abc"},
		StyleURL:  "/_gatewatch/static/style.abc.css",
		ScriptURL: "/_gatewatch/static/page.abc.js",
		IconURL:   "/_gatewatch/static/icon.abc.svg",
		Steps: pages.Steps{
			Heading: "What you can do",
			Items: []pages.Step{
				{ID: "refresh", Title: "Refresh", Body: []pages.Segment{{Text: "Press "}, {Keys: []string{"Ctrl", "F5"}}}},
				{ID: "later", Title: "Try again later", Action: &pages.Action{Label: "Retry", URL: "/cart", Retry: true}},
			},
			Folded:      []pages.Step{{ID: "network", Title: "Restart your router", List: []string{"Unplug it", "Wait"}}},
			FoldedLabel: "On your side",
		},
		Ref: pages.Reference{Label: "Reference", ID: "abc123", TimeLabel: "Time", Time: "10:00 UTC", ISO: "2026-12-07T10:00:00Z",
			Copy: "Copy", Copied: "Copied", CopyText: "abc123 10:00 UTC", Hint: "Quote it"},
		Langs: pages.LangSwitch{Label: "Language", Submit: "Go", Action: "/cart",
			Options: []pages.LangOption{{Code: "en", Name: "English", Selected: true}, {Code: "ar", Name: "العربية"}}},
		Live: pages.Live{StatusURL: "/_gatewatch/api/v1/status?site=shop&upstream=app", RetryAfter: "5", Initial: "Checking…"},
	}
}

func TestErrorPageStructure(t *testing.T) {
	doc, _ := render(t, pages.ErrorPageView(errorPage()))
	root := doc.Find("#gw[data-testid=page]")
	if root.Length() != 1 {
		t.Fatalf("#gw[data-testid=page]: %d elements; want 1", root.Length())
	}
	for name, want := range map[string]string{
		"data-code":        "502",
		"data-method":      "GET",
		"data-status-url":  "/_gatewatch/api/v1/status?site=shop&upstream=app",
		"data-retry-after": "5",
	} {
		if got := attr(root, name); got != want {
			t.Errorf("#gw %s = %q; want %q", name, got, want)
		}
	}
	for sel, want := range map[string]string{
		"title":                               "Error 502 – Shop",
		"[data-testid=badge]":                 "Error 502",
		"[data-testid=headline]":              "The site is not answering",
		"[data-testid=ref-id]":                "abc123",
		"[data-testid=brand] span:not(.mono)": "Shop",
		"#gw-lang option[selected]":           "English",
	} {
		if got := strings.TrimSpace(doc.Find(sel).First().Text()); got != want {
			t.Errorf("%s text = %q; want %q", sel, got, want)
		}
	}
	var ids []string
	doc.Find("[data-testid=steps] > ol.steps > li[data-step]").Each(func(_ int, s *goquery.Selection) { ids = append(ids, attr(s, "data-step")) })
	if want := []string{"refresh", "later"}; !slices.Equal(ids, want) {
		t.Errorf("steps = %q; want %q, in that order", ids, want)
	}
	if got := attr(doc.Find("[data-testid=folded-steps] li[data-step]"), "data-step"); got != "network" {
		t.Errorf("folded step = %q; want network, inside the details", got)
	}
	if got := doc.Find("li[data-step=refresh] bdi.keys[dir=ltr] kbd").Length(); got != 2 {
		t.Errorf("refresh step has %d kbd in a ltr bdi; want 2", got)
	}
	if doc.Find("a[data-retry-button][href='/cart']").Length() != 1 {
		t.Error("no retry button linking /cart")
	}
	if doc.Find("[data-testid=staff-link]").Length() != 0 {
		t.Error("staff link shown without StaffURL")
	}
	if doc.Find("[data-testid=verdict]").Length() != 0 {
		t.Error("verdict section shown without Verdict")
	}
	if got := attr(doc.Find(`link[rel=stylesheet]`), "href"); got != "/_gatewatch/static/style.abc.css" {
		t.Errorf("stylesheet = %q", got)
	}
	if got := doc.Find("head style").Text(); got != ":root{--brand-light:#123456;--brand-dark:#abc;}" {
		t.Errorf("brand style = %q", got)
	}
	noInlineScript(t, doc)
}

func TestErrorPageLangAndDir(t *testing.T) {
	for _, tt := range []struct{ lang, dir string }{{"en", "ltr"}, {"ar", "rtl"}, {"he", "rtl"}, {"ja", "ltr"}} {
		t.Run(tt.lang, func(t *testing.T) {
			m := errorPage()
			m.Lang, m.Dir = tt.lang, tt.dir
			doc, _ := render(t, pages.ErrorPageView(m))
			html := doc.Find("html")
			if got := attr(html, "lang"); got != tt.lang {
				t.Errorf("<html lang> = %q; want %q", got, tt.lang)
			}
			if got := attr(html, "dir"); got != tt.dir {
				t.Errorf("<html dir> = %q; want %q", got, tt.dir)
			}
			// Each language's name is marked with its own language.
			if got := attr(doc.Find("#gw-lang option[value=ar]"), "lang"); got != "ar" {
				t.Errorf("option ar lang = %q; want ar", got)
			}
		})
	}
}

func TestErrorPageEscapesHostileText(t *testing.T) {
	m := errorPage()
	m.Title, m.Headline, m.Lead = hostile, hostile, hostile
	m.Brand.Title = hostile
	m.Ref.ID, m.Ref.CopyText = hostile, hostile // the request ID comes from a header
	m.Live.StatusURL, m.Live.Next = hostile, hostile
	m.Steps.Items[0].Body = []pages.Segment{{Text: hostile}, {Keys: []string{hostile}}}
	m.Steps.Folded[0].List = []string{hostile}
	m.Langs.Options[1].Name = hostile
	doc, out := render(t, pages.ErrorPageView(m))
	noInjectedMarkup(t, doc)
	noInlineScript(t, doc)
	for sel, got := range map[string]string{
		"[data-testid=headline]":                  doc.Find("[data-testid=headline]").Text(),
		"title":                                   doc.Find("title").Text(),
		"[data-testid=ref-id]":                    doc.Find("[data-testid=ref-id]").Text(),
		"li[data-step=refresh] kbd":               doc.Find("li[data-step=refresh] kbd").Text(),
		"[data-testid=folded-steps] ul li":        doc.Find("[data-testid=folded-steps] ul li").Text(),
		"#gw[data-status-url]":                    attr(doc.Find("#gw"), "data-status-url"),
		"button[data-copy]":                       attr(doc.Find("button[data-copy]"), "data-copy"),
		"#gw-lang option[value=ar] (option name)": doc.Find("#gw-lang option[value=ar]").Text(),
	} {
		if got != hostile {
			t.Errorf("%s = %q; want the hostile text as text, %q", sel, got, hostile)
		}
	}
	if strings.Contains(out, "<script>alert") {
		t.Errorf("raw <script>alert in the output:\n%s", out)
	}
}

// A brand color is only ever a hex color: anything else is dropped, so
// nothing can leave the style element.
func TestErrorPageDropsHostileBrandColors(t *testing.T) {
	m := errorPage()
	m.Brand.Primary = "red;}</style><script>alert(1)</script>"
	m.Brand.PrimaryD = "#12345g"
	doc, out := render(t, pages.ErrorPageView(m))
	if n := doc.Find("head style").Length(); n != 0 {
		t.Errorf("%d style elements for invalid colors; want none: %s", n, doc.Find("head style").Text())
	}
	if strings.Contains(out, "alert(1)") {
		t.Errorf("hostile color in the output:\n%s", out)
	}
}

// The self-contained fallback page carries its style inline and nothing
// else: no script, no style sheet, and a "</style>" in the CSS cannot end
// the element.
func TestErrorPageInlineStyleFallback(t *testing.T) {
	m := errorPage()
	m.InlineStyle = "body{color:red}</style><script>alert(1)</script>"
	doc, _ := render(t, pages.ErrorPageView(m))
	if n := doc.Find("script").Length(); n != 0 {
		t.Errorf("%d scripts on the fallback page; want none", n)
	}
	if n := doc.Find("link[rel=stylesheet]").Length(); n != 0 {
		t.Errorf("%d style sheets on the fallback page; want none", n)
	}
	styles := doc.Find("style")
	if styles.Length() != 1 || !strings.HasPrefix(styles.Text(), "body{color:red}") {
		t.Fatalf("style elements = %d, first %q; want one with the inline CSS", styles.Length(), styles.First().Text())
	}
	noInjectedMarkup(t, doc)
}

func TestVerdictSection(t *testing.T) {
	v := &pages.Verdict{State: "down_for_everyone", Heading: "Is it just you?", Answer: "No: it is down for everyone.",
		Detail: hostile, Affected: "12 visitors", Label: "Path of your request",
		Hops: []pages.Hop{{ID: "visitor", Name: "You", State: "ok"}, {ID: "gateway", Name: "Gateway", State: "ok"}, {ID: "origin", Name: "Server", State: "down", Text: hostile}}}
	doc, _ := render(t, pages.VerdictSection(v, &pages.Live{Initial: "Next check in 5 s", CheckAgain: "Check now", Continue: "Continue"}))
	sec := doc.Find("section[data-testid=verdict]")
	if got := attr(sec, "data-state"); got != "down_for_everyone" {
		t.Errorf("verdict data-state = %q; want down_for_everyone", got)
	}
	var hops []string
	doc.Find("[data-testid=chain] li.hop").Each(func(_ int, s *goquery.Selection) {
		hops = append(hops, attr(s, "data-hop")+"="+attr(s, "data-state"))
	})
	if want := []string{"visitor=ok", "gateway=ok", "origin=down"}; !slices.Equal(hops, want) {
		t.Errorf("chain = %q; want %q", hops, want)
	}
	if got := attr(doc.Find("[data-testid=chain]"), "aria-label"); got != "Path of your request" {
		t.Errorf("chain aria-label = %q", got)
	}
	// The one live region starts empty: the script fills it on a change,
	// and the ticking countdown is outside it.
	announce := doc.Find("[data-testid=announce]")
	if attr(announce, "role") != "status" || announce.Text() != "" {
		t.Errorf("announce region: role %q, text %q; want status, empty", attr(announce, "role"), announce.Text())
	}
	if _, ok := doc.Find("[data-testid=live]").Attr("role"); ok {
		t.Error("the countdown line is a live region")
	}
	if got := doc.Find("li[data-hop=origin] .state").Text(); got != hostile {
		t.Errorf("origin state text = %q; want %q", got, hostile)
	}
	noInjectedMarkup(t, doc)
	noInlineScript(t, doc)
}
