package pages

import (
	"strconv"
	"strings"
)

// AdminFrame is what every admin page shares: the document's language and
// the navigation bar. Strings arrive localized; values that came from
// requests (paths, hosts, log lines) arrive verbatim and are escaped by
// templ when rendered.
type AdminFrame struct {
	Lang      string // BCP 47 tag for <html lang>
	Dir       string // "ltr" or "rtl"
	Title     string // <title>
	StyleURLs []string
	IconURL   string

	Product   string // "gatewatch"
	HomeURL   string
	HomeLabel string
	// Search is nil on the login page, which shows no data.
	Search *SearchBox
	// User is the signed-in user's line ("Signed in as …"), empty on the
	// login page.
	User string
	// Logout is nil when there is no session to end (login page, or a user
	// an authenticating proxy vouched for).
	Logout *PostForm
	// Nav links the other admin pages (announcements).
	Nav []Link
}

// SearchBox is the reference look-up: a GET form, so that a pasted
// reference works without scripts and its result can be bookmarked.
type SearchBox struct {
	Action      string
	Name        string // query parameter
	Label       string
	Placeholder string
	Submit      string
	Value       string
}

// PostForm is a one-button POST form carrying the CSRF token.
type PostForm struct {
	Action string
	CSRF   string
	Button string
}

// AdminLogin is the sign-in page.
type AdminLogin struct {
	Frame         AdminFrame
	Heading       string
	Action        string
	CSRF          string
	Next          string // where to go after signing in
	UserLabel     string
	PasswordLabel string
	Submit        string
	User          string // kept after a failed attempt
	Error         string
}

// AdminMessage is a page that only says something, such as "no request
// has this reference", with the search box to try again.
type AdminMessage struct {
	Frame   AdminFrame
	Heading string
	Text    string
}

// AdminDashboard is the overview of every site and upstream.
type AdminDashboard struct {
	Frame   AdminFrame
	Heading string
	AsOf    string
	Empty   string // shown when no site is configured
	Cols    DashboardCols
	Sites   []AdminSite
	Open    IncidentList
	Recent  IncidentList
	// Notify is nil when no notification target is configured.
	Notify *NotifyBlock
	// EventLoss is nil unless events lost their records.
	EventLoss *EventLoss
}

// EventLoss says how many error pages this instance could not record in
// full. Text (records lost) or Shed (counted without a record) may be
// empty.
type EventLoss struct {
	Heading string
	Text    string
	Shed    string
}

// DashboardCols are the dashboard's table headers.
type DashboardCols struct {
	Upstream, State, Cause, Timings, Errors, Visitors, Last5m, Last1h, Trend string
}

// AdminSite is one site's row group on the dashboard.
type AdminSite struct {
	Name      string
	Title     string
	State     string // down, up, degraded, unknown: for styling
	StateText string
	CheckedAt string
	Counts    Counts
	Spark     Sparkline
	Upstreams []AdminUpstream
}

// Counts are errors and distinct visitors over the last 5 minutes and hour,
// already formatted ("≥ 1000" when a bound was hit).
type Counts struct {
	Errors5m, Errors1h, Visitors5m, Visitors1h string
}

// AdminUpstream is one upstream of a site with its latest check.
type AdminUpstream struct {
	Name      string
	State     string // up, down, unknown
	StateText string
	Since     string
	Cause     string // localized cause category, empty when up
	Class     string // the probe's class, verbatim
	Detail    string // the probe's detail, verbatim (admin-only evidence)
	Stages    []AdminStage
	Counts    Counts
	Spark     Sparkline
	Incident  *Link // the open incident, if any
}

// AdminStage is one stage of a check with its duration.
type AdminStage struct {
	ID       string // probe stage name: dns, connect, tls, http
	Name     string // localized
	Duration string
	OK       bool
	Err      string
}

// Link is a labelled link.
type Link struct {
	URL  string
	Text string
}

// Sparkline is a small inline SVG line of a series, most recent last.
type Sparkline struct {
	Label  string // accessible description, e.g. the peak value
	Values []int64
}

// Sparkline geometry, in SVG user units: wide and short so that it sits in
// a table cell.
const (
	sparkWidth  = 120
	sparkHeight = 24
)

// ViewBox is the SVG viewBox attribute.
func (s Sparkline) ViewBox() string {
	return "0 0 " + strconv.Itoa(sparkWidth) + " " + strconv.Itoa(sparkHeight)
}

// Points is the polyline's points attribute: the values scaled to the box,
// the peak touching the top and zero on the bottom line (one unit of
// margin keeps the stroke inside).
func (s Sparkline) Points() string {
	n := len(s.Values)
	if n == 0 {
		return ""
	}
	var peak int64
	for _, v := range s.Values {
		peak = max(peak, v)
	}
	var b strings.Builder
	for i, v := range s.Values {
		x := 0.0
		if n > 1 {
			x = float64(i) * sparkWidth / float64(n-1)
		}
		y := float64(sparkHeight - 1)
		if peak > 0 {
			y -= float64(v) * (sparkHeight - 2) / float64(peak)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}

// IncidentList is a table of incidents.
type IncidentList struct {
	Heading string
	Empty   string
	Cols    IncidentCols
	Rows    []IncidentRow
}

// IncidentCols are an incident table's headers.
type IncidentCols struct {
	Incident, Site, Upstream, Cause, Opened, LastSeen, Requests, Visitors string
}

// IncidentRow is one incident in a table.
type IncidentRow struct {
	ID        string // "#12"
	URL       string
	Open      bool
	Site      string
	Upstream  string
	Cause     string
	Opened    string
	LastSeen  string
	Requests  string
	Visitors  string
	StateText string
}

// AdminIncident is the diagnosis of one incident; on /admin/r/{id} it also
// shows the request the visitor quoted.
type AdminIncident struct {
	Frame   AdminFrame
	Heading string
	// Event is the quoted request, nil on the plain incident page.
	Event *AdminEvent
	// Incident is nil when the quoted request belongs to no incident.
	Incident *IncidentDetail
	// NoIncident explains a missing Incident.
	NoIncident string
}

// AdminEvent is one request as gatewatch recorded it.
type AdminEvent struct {
	Heading string
	// Notice explains what is shown when the request itself was not
	// stored (counted only, during a storm).
	Notice string
	Facts  []Fact
	Vars   Facts
	Log    LogLines
}

// Fact is a labelled value. Code marks values shown verbatim in a
// monospace, left-to-right run (paths, addresses, IDs).
type Fact struct {
	Label string
	Value string
	Code  bool
	URL   string // makes the value a link when set
}

// Facts is a titled list of facts.
type Facts struct {
	Heading string
	Empty   string
	Rows    []Fact
}

// IncidentDetail is the incident part of the page.
type IncidentDetail struct {
	State     string // open, closed
	StateText string
	Facts     []Fact
	Permalink Fact
	Cause     AdminCause
	Probe     ProbeEvidence
	Vars      Facts
	Log       LogLines
	Checklist Checklist
	Paths     CountTable
	Locales   CountTable
	Events    EventTable
	Timeline  Timeline
}

// AdminCause is the incident's cause with what to check for it.
type AdminCause struct {
	Heading       string
	Category      string // stable id, for tests and styling
	Title         string
	Check         string
	Source        string
	ClassLabel    string
	Class         string
	Detail        string
	EvidenceLabel string
	Evidence      string
}

// ProbeEvidence is the latest check of the incident's upstream.
type ProbeEvidence struct {
	Heading string
	Empty   string // shown instead when there is no check
	Facts   []Fact
	Stages  []AdminStage
}

// LogLines are nginx's own error.log lines for the requests.
type LogLines struct {
	Heading string
	Empty   string
	Lines   []string
}

// Checklist is the admin steps, ordered for the cause.
type Checklist struct {
	Heading string
	Items   []ChecklistItem
}

// ChecklistItem is one thing for staff to check.
type ChecklistItem struct {
	ID    string
	Title string
	Body  string
}

// CountTable is a two-column table of keys and counts.
type CountTable struct {
	Heading  string
	KeyLabel string
	NLabel   string
	Code     bool // keys are verbatim values (paths)
	Rows     []CountRow
}

// CountRow is one key with its count.
type CountRow struct {
	Key string
	N   string
}

// EventTable lists requests of an incident, newest first.
type EventTable struct {
	Heading string
	Cols    EventCols
	Rows    []EventRow
}

// EventCols are the headers of an EventTable.
type EventCols struct {
	Time, Code, Method, Host, Path, Reference, Language, Browser string
}

// EventRow is one request in an EventTable.
type EventRow struct {
	Time      string
	Code      string
	Method    string
	Host      string
	Path      string
	Reference string
	URL       string
	Language  string
	Browser   string
	Current   bool // the request the page is about
}
