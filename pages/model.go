package pages

import "github.com/a-h/templ"

// ErrorPage is the view model of the public error page.
type ErrorPage struct {
	Lang string // BCP 47 tag for <html lang>
	Dir  string // "ltr" or "rtl"
	Code int
	// Method is the failed request's method: the page reloads itself
	// only for GET, and never resubmits anything else.
	Method string

	Title    string // <title>
	Badge    string // "Error 502"
	Headline string
	Lead     string

	Brand     Brand
	StyleURL  string
	ScriptURL string
	IconURL   string
	// InlineStyle, when set, replaces the style sheet, brand style and
	// script: the self-contained page nginx serves when gatewatch itself
	// is down. The include's CSP allows it by its hash.
	InlineStyle string

	// Announcement is the AnnouncementSection shown above the verdict,
	// nil for none.
	Announcement templ.Component
	// Verdict is the VerdictSection, nil on pages that are not about the
	// site being down (4xx).
	Verdict templ.Component
	Steps   Steps
	Ref     Reference
	Langs   LangSwitch
	Live    Live
}

// Brand is the site's identity in the page header.
type Brand struct {
	Title    string
	Initial  string // monogram shown when there is no logo
	LogoURL  string
	HomeURL  string
	Primary  string // CSS hex colors, validated by the config
	PrimaryD string
}

// Verdict answers "is it down for everyone?".
type Verdict struct {
	State    string // down_for_everyone, not_everyone, recovering, unknown
	Heading  string
	Answer   string
	Detail   string
	Affected string // may be empty
	Label    string // accessible name of the chain
	Hops     []Hop
}

// Hop is one link of the chain You → gateway → site's server.
type Hop struct {
	ID    string // visitor, gateway, origin
	Name  string
	State string // ok, down, slow, error, maintenance, unknown
	Text  string
	Icon  string
}

// Steps is the list of things the visitor can do, most useful first.
type Steps struct {
	Heading string
	// Warning leads the steps when the failed request was a form
	// submission: it may or may not have arrived.
	Warning *Notice
	Items   []Step
	// Folded are steps on the visitor's own side, shown folded when the
	// evidence puts the fault on the site's side.
	Folded      []Step
	FoldedLabel string
}

// Notice is a short titled message.
type Notice struct {
	Title string
	Body  string
}

// Step is one thing to try.
type Step struct {
	ID    string
	Title string
	Body  []Segment
	// List holds further lines, such as browser-specific instructions,
	// the visitor's own browser first.
	List   []string
	Action *Action
	Clear  *ClearForm
}

// Segment is a run of text, or a keyboard shortcut when Keys is set
// (shown as key caps, left to right even in right-to-left languages).
type Segment struct {
	Text string
	Keys []string
}

// Action is a button-like link.
type Action struct {
	Label     string
	URL       string
	Secondary bool
	Retry     bool // the retry button: reloads in place when scripts run
	Label2    string
	URL2      string // a second link (e-mail and contact page)
}

// ClearForm posts to the clear-site-data endpoint.
type ClearForm struct {
	Action  string
	Back    string // where the form returns to without scripts
	Button  string
	Cookies string
	Done    string
	Failed  string
}

// Reference is what the visitor quotes to support.
type Reference struct {
	Label     string
	ID        string
	TimeLabel string
	Time      string
	ISO       string // the same time in RFC 3339, for the script to show it in the visitor's zone
	Copy      string
	Copied    string
	CopyText  string
	Hint      string
	StaffURL  string // empty unless the admin URL is configured
	StaffText string
}

// LangSwitch is the language picker, a GET form that works without
// scripts.
type LangSwitch struct {
	Label  string
	Submit string
	Action string
	// Hidden is the hidden inputs that keep the failed URL's other query
	// parameters (HiddenInputs), nil for none.
	Hidden  templ.Component
	Options []LangOption
}

// LangOption is one language in the picker.
type LangOption struct {
	Code     string
	Name     string
	Selected bool
}

// Param is one query parameter kept by a form (HiddenInputs).
type Param struct {
	Name, Value string
}

// Live configures the script's polling; empty StatusURL turns it off.
type Live struct {
	StatusURL  string
	RetryAfter string // seconds
	Next       string // contains {time}
	Checking   string
	Back       string
	BackPost   string
	Continue   string
	Stopped    string
	CheckAgain string
	Initial    string
}
