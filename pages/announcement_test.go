package pages_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/pages"
)

func TestAnnouncementSectionEmptyIsHidden(t *testing.T) {
	doc, _ := render(t, pages.AnnouncementSection(&pages.Announcements{Label: "Messages from the site", Upstream: "app"}))
	sec := doc.Find("section[data-testid=announcements]")
	if sec.Length() != 1 {
		t.Fatalf("announcements section: %d; want 1 even when empty (the script fills it)", sec.Length())
	}
	if _, hidden := sec.Attr("hidden"); !hidden {
		t.Error("empty announcements section is not hidden")
	}
	if got := attr(sec, "data-upstream"); got != "app" {
		t.Errorf("data-upstream = %q; want app", got)
	}
}

func TestAnnouncementSectionItems(t *testing.T) {
	a := &pages.Announcements{Label: "Messages", Posted: "Posted {time}", Until: "until {time}", Items: []pages.Announcement{{
		ID: "7", Source: "staff", Lang: "de",
		Parts:  []pages.TextPart{{Text: hostile}, {Text: "status.example", Href: "https://status.example/"}},
		Posted: pages.TimeText{Before: "Posted ", Time: "10:00", ISO: "2026-12-07T10:00:00Z"},
		Until:  &pages.TimeText{Before: "until ", Time: "11:00", ISO: "2026-12-07T11:00:00Z"},
	}}}
	doc, _ := render(t, pages.AnnouncementSection(a))
	sec := doc.Find("section[data-testid=announcements]")
	if _, hidden := sec.Attr("hidden"); hidden {
		t.Error("announcements section with an item is hidden")
	}
	art := doc.Find("article[data-testid=announcement]")
	if attr(art, "data-announcement") != "7" || attr(art, "data-source") != "staff" {
		t.Errorf("article data-announcement %q data-source %q; want 7, staff", attr(art, "data-announcement"), attr(art, "data-source"))
	}
	if got := attr(art.Find("p.text"), "lang"); got != "de" {
		t.Errorf("text lang = %q; want de", got)
	}
	link := art.Find("p.text a")
	if attr(link, "href") != "https://status.example/" || attr(link, "rel") != "nofollow noopener noreferrer ugc" || attr(link, "dir") != "ltr" {
		t.Errorf("link href %q rel %q dir %q", attr(link, "href"), attr(link, "rel"), attr(link, "dir"))
	}
	if got := art.Find("p.text").Contents().First().Text(); got != hostile {
		t.Errorf("text part = %q; want %q", got, hostile)
	}
	for which, iso := range map[string]string{"posted": "2026-12-07T10:00:00Z", "until": "2026-12-07T11:00:00Z"} {
		if got := attr(art.Find("[data-when="+which+"] time"), "datetime"); got != iso {
			t.Errorf("%s datetime = %q; want %q", which, got, iso)
		}
	}
	noInjectedMarkup(t, doc)
	noInlineScript(t, doc)
}

// Without a known language the text inherits the page's.
func TestAnnouncementSectionNoLang(t *testing.T) {
	doc, _ := render(t, pages.AnnouncementSection(&pages.Announcements{Items: []pages.Announcement{{ID: "1", Parts: []pages.TextPart{{Text: "x"}}}}}))
	if _, ok := doc.Find("p.text").Attr("lang"); ok {
		t.Error("p.text has a lang attribute although the language is unknown")
	}
}
