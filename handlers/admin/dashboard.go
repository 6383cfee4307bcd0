package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/internal/probe"
	"github.com/gatewatch/gatewatch/pages"
)

// Dashboard windows and bounds.
const (
	shortWindow = 5 * time.Minute
	longWindow  = time.Hour
	sparkBucket = time.Minute
	// scanEvents bounds the events read per incident to count distinct
	// visitors; past it the counts show as "at least".
	scanEvents = 1000
	// listClosed bounds the closed incidents the dashboard reads; the most
	// recently seen come first, so the bound only drops old ones. Open
	// incidents (one per upstream at most) are all read.
	listClosed   = 200
	recentClosed = 20
)

// siteData is one site's state as the dashboard and the API show it.
type siteData struct {
	site      *config.Site
	status    monitor.SiteStatus
	counts    windowCounts
	perMinute []int64 // errors per minute over the last hour, oldest first
	upstreams []upstreamData
}

// upstreamData is one upstream's latest check and recent errors.
type upstreamData struct {
	name      string
	st        monitor.UpstreamStatus
	checked   bool
	counts    windowCounts
	perMinute []int64
	open      *incident.Incident
}

// windowCounts are errors and distinct visitors over the short and long
// windows. atLeast marks counts cut short by scanEvents.
type windowCounts struct {
	errors5m, errors1h     int64
	visitors5m, visitors1h int64
	errorsAtLeast          bool
	visitorsAtLeast        bool
}

// state is "up", "down" or "unknown" (never checked).
func (u upstreamData) state() string {
	switch {
	case !u.checked:
		return "unknown"
	case u.st.Up:
		return "up"
	}
	return "down"
}

// category is the cause of the upstream's latest failed check.
func (u upstreamData) category() nginxlog.Category {
	if !u.checked || u.st.Last.Class == "" {
		return ""
	}
	return u.st.Last.Class.Category()
}

// dashboardData is everything the dashboard shows.
type dashboardData struct {
	sites  []siteData
	open   []incident.Incident // most recently seen first
	closed []incident.Incident // most recently seen first
}

// tally accumulates one site's or upstream's events.
type tally struct {
	counts    windowCounts
	perMinute []int64
	v5, v1h   map[string]bool
}

func newTally() *tally {
	return &tally{perMinute: make([]int64, longWindow/sparkBucket), v5: map[string]bool{}, v1h: map[string]bool{}}
}

func (t *tally) add(e incident.Event, since, now time.Time) {
	if e.Time.Before(since) || e.Time.After(now) {
		return
	}
	if i := int(e.Time.Sub(since) / sparkBucket); i < len(t.perMinute) {
		t.perMinute[i]++
	}
	t.counts.errors1h++
	if e.VisitorHash != "" {
		t.v1h[e.VisitorHash] = true
	}
	if now.Sub(e.Time) <= shortWindow {
		t.counts.errors5m++
		if e.VisitorHash != "" {
			t.v5[e.VisitorHash] = true
		}
	}
}

func (t *tally) done(cut bool) {
	t.counts.visitors5m, t.counts.visitors1h = int64(len(t.v5)), int64(len(t.v1h))
	t.counts.errorsAtLeast, t.counts.visitorsAtLeast = cut, cut
}

// gatherDashboard reads the monitor's cache and the store. Errors and
// distinct visitors per site come from the store's counts, exact;
// per-upstream figures come from the events of the incidents seen in the
// last hour, bounded by scanEvents.
func (d *adminDeps) gatherDashboard(ctx context.Context, now time.Time) (dashboardData, error) {
	yes, no := true, false
	open, err := d.Store.Incidents(ctx, incident.Filter{Open: &yes, Limit: 1000})
	if err != nil {
		return dashboardData{}, err
	}
	closed, err := d.Store.Incidents(ctx, incident.Filter{Open: &no, Limit: listClosed})
	if err != nil {
		return dashboardData{}, err
	}
	incs := append(append([]incident.Incident{}, open...), closed...)
	since := now.Add(-longWindow)
	type key struct{ site, upstream string }
	tallies := map[key]*tally{}
	cut := map[string]bool{}
	for _, in := range incs {
		if in.LastSeen.Before(since) {
			continue
		}
		events, err := d.Store.EventsForIncident(ctx, in.ID, scanEvents)
		if err != nil {
			return dashboardData{}, err
		}
		k := key{in.Site, in.Upstream}
		if tallies[k] == nil {
			tallies[k] = newTally()
		}
		for _, e := range events {
			tallies[k].add(e, since, now)
		}
		// Figures from rows are lower bounds when the scan stopped inside
		// the window, or when the incident counted requests it kept no
		// row for (past store.event_rows_per_second, or pruned).
		scanCut := len(events) == scanEvents && !events[len(events)-1].Time.Before(since)
		if scanCut || (len(events) < scanEvents && in.Requests > int64(len(events))) {
			cut[in.Site+"\x00"+in.Upstream] = true
		}
	}
	openByKey := map[key]*incident.Incident{}
	for i := range open {
		if in := &open[i]; openByKey[key{in.Site, in.Upstream}] == nil {
			openByKey[key{in.Site, in.Upstream}] = in
		}
	}

	out := dashboardData{open: open, closed: closed}
	for i := range d.Config.Sites {
		site := &d.Config.Sites[i]
		sd := siteData{site: site, status: d.Status.Status(site.Name)}
		series, err := d.Store.Series(ctx, site.Name, since, sparkBucket)
		if err != nil {
			return dashboardData{}, err
		}
		for j, b := range incident.Fill(series, since, now, sparkBucket) {
			sd.perMinute = append(sd.perMinute, b.N)
			sd.counts.errors1h += b.N
			if j >= int((longWindow-shortWindow)/sparkBucket) {
				sd.counts.errors5m += b.N
			}
		}
		// Distinct visitors per site are counted from every event, by
		// whole minutes, shared by every instance: exact.
		if sd.counts.visitors5m, err = d.Store.Visitors(ctx, site.Name, now.Add(-shortWindow)); err != nil {
			return dashboardData{}, err
		}
		if sd.counts.visitors1h, err = d.Store.Visitors(ctx, site.Name, now.Add(-longWindow)); err != nil {
			return dashboardData{}, err
		}
		byName := map[string]monitor.UpstreamStatus{}
		for _, u := range sd.status.Upstreams {
			byName[u.Name] = u
		}
		names := make([]string, 0, len(site.Upstreams)+1)
		for _, u := range site.Upstreams {
			names = append(names, u.Name)
		}
		// Errors nginx reported for an address that matches no configured
		// upstream are grouped under "": show them rather than lose them.
		if tallies[key{site.Name, ""}] != nil || openByKey[key{site.Name, ""}] != nil {
			names = append(names, "")
		}
		for _, name := range names {
			st, checked := byName[name]
			// A status the monitor lists but has not checked yet is unknown,
			// not down.
			checked = checked && (st.Checks > 0 || !st.Last.Started.IsZero())
			ud := upstreamData{name: name, st: st, checked: checked, open: openByKey[key{site.Name, name}]}
			t := tallies[key{site.Name, name}]
			if t == nil {
				t = newTally()
			}
			t.done(cut[site.Name+"\x00"+name])
			ud.counts, ud.perMinute = t.counts, t.perMinute
			sd.upstreams = append(sd.upstreams, ud)
		}
		out.sites = append(out.sites, sd)
	}
	return out, nil
}

// handleDashboard serves GET /admin/: every site and upstream, then the
// open and recent incidents.
func handleDashboard(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := d.view(r)
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		data, err := d.gatherDashboard(ctx, v.now)
		if err != nil {
			v.d.Error(w, r, storeFailed(err, ""))
			return
		}
		d.render(w, r, http.StatusOK, v.lang.Code, pages.AdminDashboardView(v.dashboardPage(data)))
	})
}

func (v *adminView) dashboardPage(data dashboardData) *pages.AdminDashboard {
	tr := v.tr
	title := tr.T("admin.dashboard.title", nil)
	m := &pages.AdminDashboard{
		Frame:   v.frame(title, ""),
		Heading: tr.T("admin.dashboard.heading", nil),
		AsOf:    tr.T("admin.dashboard.as_of", map[string]any{"Time": v.time(v.now)}),
		Empty:   tr.T("admin.dashboard.no_sites", nil),
		Cols: pages.DashboardCols{
			Upstream: tr.T("admin.col.upstream", nil),
			State:    tr.T("admin.col.state", nil),
			Cause:    tr.T("admin.col.cause", nil),
			Timings:  tr.T("admin.col.timings", nil),
			Errors:   tr.T("admin.col.errors", nil),
			Visitors: tr.T("admin.col.visitors", nil),
			Last5m:   tr.T("admin.col.last_5m", nil),
			Last1h:   tr.T("admin.col.last_1h", nil),
			Trend:    tr.T("admin.col.trend", nil),
		},
	}
	for _, sd := range data.sites {
		m.Sites = append(m.Sites, v.sitePage(sd))
	}
	m.Open = v.incidentList(tr.T("admin.incidents.open", nil))
	m.Recent = v.incidentList(tr.T("admin.incidents.recent", nil))
	for _, in := range data.open {
		m.Open.Rows = append(m.Open.Rows, v.incidentRow(in))
	}
	for _, in := range data.closed[:min(len(data.closed), recentClosed)] {
		m.Recent.Rows = append(m.Recent.Rows, v.incidentRow(in))
	}
	m.Notify = v.notifyBlock()
	m.EventLoss = v.eventLoss()
	return m
}

func (v *adminView) sitePage(sd siteData) pages.AdminSite {
	tr := v.tr
	s := pages.AdminSite{
		Name:   sd.site.Name,
		Title:  sd.site.Brand.Title,
		Counts: pageCounts(sd.counts),
		Spark:  v.spark(sd.perMinute),
	}
	if s.Title == "" {
		s.Title = sd.site.Name
	}
	switch sd.status.Verdict {
	case monitor.VerdictDownForEveryone:
		s.State = "down"
	case monitor.VerdictNotEveryone:
		s.State = "degraded"
	case monitor.VerdictRecovering:
		s.State = "recovering"
	default:
		s.State = "unknown"
	}
	verdict := string(sd.status.Verdict)
	if s.State == "unknown" {
		verdict = string(monitor.VerdictUnknown)
	}
	s.StateText = tr.T("admin.verdict."+verdict, nil)
	if !sd.status.CheckedAt.IsZero() {
		s.CheckedAt = tr.T("admin.site.checked_at", map[string]any{"Time": v.time(sd.status.CheckedAt)})
	}
	for _, ud := range sd.upstreams {
		s.Upstreams = append(s.Upstreams, v.upstreamPage(ud))
	}
	return s
}

func (v *adminView) upstreamPage(ud upstreamData) pages.AdminUpstream {
	tr := v.tr
	u := pages.AdminUpstream{
		Name:      ud.name,
		State:     ud.state(),
		StateText: tr.T("admin.upstream."+ud.state(), nil),
		Counts:    pageCounts(ud.counts),
		Spark:     v.spark(ud.perMinute),
	}
	if ud.name == "" {
		u.Name = tr.T("admin.upstream.unmatched", nil)
	}
	if ud.checked {
		u.Since = v.since(ud.st.Since)
		u.Stages = v.stages(ud.st.Last.Stages)
		if ud.st.Last.Class != "" && ud.st.Last.Class != "ok" {
			u.Class = string(ud.st.Last.Class)
			u.Detail = ud.st.Last.Detail
			if cat := ud.category(); cat != "" && cat != nginxlog.CategoryUnknown {
				u.Cause = tr.T("admin.cause."+string(cat)+".title", nil)
			}
		}
	}
	if ud.open != nil {
		u.Incident = &pages.Link{URL: incidentPath(ud.open.ID), Text: tr.T("admin.incident.title", map[string]any{"ID": ud.open.ID})}
	}
	return u
}

func (v *adminView) stages(st []probe.Stage) []pages.AdminStage {
	var out []pages.AdminStage
	for _, s := range st {
		out = append(out, pages.AdminStage{
			ID:       s.Name,
			Name:     v.tr.T("admin.stage."+s.Name, nil),
			Duration: ms(s.Duration),
			OK:       s.OK,
			Err:      s.Err,
		})
	}
	return out
}

// ms formats a stage duration; sub-millisecond stages (a cached DNS
// answer) keep one decimal so that they do not read as "0 ms".
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + " ms"
}

func (v *adminView) spark(perMinute []int64) pages.Sparkline {
	var peak int64
	for _, n := range perMinute {
		peak = max(peak, n)
	}
	return pages.Sparkline{Values: perMinute, Label: v.tr.T("admin.spark.label", map[string]any{"Max": peak})}
}

func pageCounts(c windowCounts) pages.Counts {
	return pages.Counts{
		Errors5m:   count(c.errors5m, c.errorsAtLeast),
		Errors1h:   count(c.errors1h, c.errorsAtLeast),
		Visitors5m: count(c.visitors5m, c.visitorsAtLeast),
		Visitors1h: count(c.visitors1h, c.visitorsAtLeast),
	}
}

func (v *adminView) incidentList(heading string) pages.IncidentList {
	tr := v.tr
	return pages.IncidentList{
		Heading: heading,
		Empty:   tr.T("admin.incidents.none", nil),
		Cols: pages.IncidentCols{
			Incident: tr.T("admin.col.incident", nil),
			Site:     tr.T("admin.col.site", nil),
			Upstream: tr.T("admin.col.upstream", nil),
			Cause:    tr.T("admin.col.cause", nil),
			Opened:   tr.T("admin.col.opened", nil),
			LastSeen: tr.T("admin.col.last_seen", nil),
			Requests: tr.T("admin.col.requests", nil),
			Visitors: tr.T("admin.col.visitors", nil),
		},
	}
}

func (v *adminView) incidentRow(in incident.Incident) pages.IncidentRow {
	row := pages.IncidentRow{
		ID:       "#" + strconv.FormatInt(in.ID, 10),
		URL:      incidentPath(in.ID),
		Open:     in.Open(),
		Site:     in.Site,
		Upstream: in.Upstream,
		Cause:    v.tr.T("admin.cause."+string(causeCategory(in.Cause, nil))+".title", nil),
		Opened:   v.time(in.OpenedAt),
		LastSeen: v.time(in.LastSeen),
		Requests: strconv.FormatInt(in.Requests, 10),
		Visitors: strconv.FormatInt(in.Visitors, 10),
	}
	if row.Upstream == "" {
		row.Upstream = v.tr.T("admin.upstream.unmatched", nil)
	}
	row.StateText = v.tr.T("admin.incident.closed", nil)
	if in.Open() {
		row.StateText = v.tr.T("admin.incident.open", nil)
	}
	return row
}

func incidentPath(id int64) string {
	return adminIncPrefix + strconv.FormatInt(id, 10)
}

// eventLoss is the dashboard's account of error pages this instance could
// not record in full: rows lost to a full queue or store errors, and rows
// shed while the store's writer was behind (counted, without a record of
// their own); nil when there were none.
func (v *adminView) eventLoss() *pages.EventLoss {
	st := v.d.Events.Stats()
	if st.Dropped == 0 && st.Failed == 0 && st.Shed == 0 {
		return nil
	}
	l := &pages.EventLoss{Heading: v.tr.T("admin.recording.heading", nil)}
	if st.Dropped > 0 || st.Failed > 0 {
		l.Text = v.tr.T("admin.recording.lost", map[string]any{"Dropped": st.Dropped, "Failed": st.Failed,
			"Recorded": st.Recorded})
	}
	if st.Shed > 0 {
		l.Shed = v.tr.T("admin.recording.shed", map[string]any{"Shed": st.Shed})
	}
	return l
}
