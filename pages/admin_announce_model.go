package pages

// AdminAnnouncements is the page where staff publish and end
// announcements.
type AdminAnnouncements struct {
	Frame   AdminFrame
	Heading string
	Intro   string
	Error   string // why the last submission was refused
	Form    AnnounceForm
	Empty   string // shown when none is active
	Items   []AdminAnnouncement
}

// AnnounceForm is the CSRF-protected form that publishes one.
type AnnounceForm struct {
	Action      string
	CSRF        string
	TargetLabel string
	Targets     []Option // "site" or "site/upstream"
	TextLabel   string
	Text        string
	MaxLen      int
	UntilLabel  string
	Until       string // datetime-local value, UTC
	LangLabel   string
	Langs       []Option
	Submit      string
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Text     string
	Selected bool
}

// AdminAnnouncement is one active announcement with its end button.
type AdminAnnouncement struct {
	ID    string
	Where string
	Text  string
	Lang  string
	Meta  string // posted, until, by
	End   PostForm
}

// Timeline is an incident's history on its page.
type Timeline struct {
	Heading string
	Entries []TimelineRow
}

// TimelineRow is one entry of a Timeline.
type TimelineRow struct {
	Kind string
	Time string
	Text string
}

// NotifyBlock is the dashboard's account of notification targets.
type NotifyBlock struct {
	Heading string
	Rows    []NotifyRow
}

// NotifyRow is one target's counts and latest failure.
type NotifyRow struct {
	Text    string
	Error   string
	Failing bool
}
