package pages

// Announcements is the section of staff messages at the top of the error
// page. It is rendered even when empty (hidden), so that the page's
// script can fill it when an announcement starts while the page is open.
type Announcements struct {
	Label string // accessible name of the section
	// Upstream is the failed upstream, for the script to pick the
	// announcements that concern this page ("" when not known).
	Upstream string
	// Posted and Until are the localized "Posted {time}" and "until
	// {time}" with {time} where the time goes, for the script.
	Posted string
	Until  string
	Items  []Announcement
}

// Announcement is one staff message. Its text comes in parts, plain runs
// and http(s) links, which templ escapes.
type Announcement struct {
	ID     string
	Source string // staff, status_page
	Lang   string // language of the text; "" when unknown
	Parts  []TextPart
	Posted TimeText
	Until  *TimeText // nil when no end is known
}

// TextPart is a run of text, a link when Href is set.
type TextPart struct {
	Text string
	Href string
}

// TimeText is a localized sentence around a time: Before, the time as the
// server shows it (UTC) and After; ISO is the time for the script to show
// in the visitor's own zone.
type TimeText struct {
	Before, Time, After string
	ISO                 string
}
