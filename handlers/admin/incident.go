package admin

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/pages"
)

const (
	// evidenceWindow joins an event to nginx's log lines for its
	// connection: nginx logs whole seconds, just before it hands the
	// request over (see nginxlog.Index.LookupNear).
	evidenceWindow = 5 * time.Second
	// incidentEvents is how many of an incident's latest requests the
	// page lists and looks up log lines for.
	incidentEvents = 50
	// maxLogLines bounds the log lines shown; the latest are kept.
	maxLogLines = 100
)

// incidentData is one incident with its evidence, as the page and the API
// show it.
type incidentData struct {
	inc       incident.Incident
	events    []incident.Event // latest first
	entries   []nginxlog.Entry // matched error.log entries, oldest first
	lines     []string         // log lines to show, oldest first
	category  nginxlog.Category
	checklist []string
	check     *monitor.UpstreamStatus // latest check of the upstream, if any
	timeline  []incident.TimelineEntry
}

func (d *adminDeps) loadIncident(ctx context.Context, id int64) (incidentData, error) {
	in, err := d.Store.Incident(ctx, id)
	if err != nil {
		return incidentData{}, err
	}
	events, err := d.Store.EventsForIncident(ctx, id, incidentEvents)
	if err != nil {
		return incidentData{}, err
	}
	timeline, err := d.Store.Timeline(ctx, id)
	if err != nil {
		return incidentData{}, err
	}
	data := incidentData{inc: in, events: events, timeline: timeline}
	data.entries, data.lines = d.evidence(events)
	data.category = causeCategory(in.Cause, data.entries)
	data.checklist = checklistFor(data.category)
	data.check = d.latestCheck(in.Site, in.Upstream)
	return data, nil
}

// latestCheck is the monitor's latest check of an upstream, or nil.
func (d *adminDeps) latestCheck(site, upstream string) *monitor.UpstreamStatus {
	if upstream == "" {
		return nil
	}
	for _, u := range d.Status.Status(site).Upstreams {
		if u.Name == upstream && (u.Checks > 0 || !u.Last.Started.IsZero()) {
			return &u
		}
	}
	return nil
}

// evidence collects nginx's error.log lines for events: those the index
// still holds near each event's time, and those stored with the events
// (which outlive the index). Lines are deduplicated, oldest first.
func (d *adminDeps) evidence(events []incident.Event) ([]nginxlog.Entry, []string) {
	type line struct {
		at  time.Time
		raw string
	}
	var (
		entries []nginxlog.Entry
		all     []line
		seen    = map[string]bool{}
	)
	for _, e := range events {
		if e.NginxConn > 0 {
			near := d.Evidence.LookupNear(e.NginxConn, e.Time, evidenceWindow)
			for _, en := range nginxlog.ForRequest(near, e.Method, e.Path) {
				if !seen[en.Raw] {
					seen[en.Raw] = true
					entries = append(entries, en)
					all = append(all, line{en.Time, en.Raw})
				}
			}
		}
		if e.NginxLog != "" && !seen[e.NginxLog] {
			seen[e.NginxLog] = true
			all = append(all, line{e.Time, e.NginxLog})
			// Stored with the event by whichever instance recorded it:
			// the diagnosis is the same on every instance and after a
			// restart, when this one's index does not have the line.
			if en, err := nginxlog.ParseLine(e.NginxLog, time.UTC); err == nil {
				entries = append(entries, en)
			}
		}
	}
	slices.SortStableFunc(entries, func(a, b nginxlog.Entry) int { return a.Time.Compare(b.Time) })
	slices.SortStableFunc(all, func(a, b line) int { return a.at.Compare(b.at) })
	if len(all) > maxLogLines {
		all = all[len(all)-maxLogLines:]
	}
	out := make([]string, len(all))
	for i, l := range all {
		out[i] = l.raw
	}
	return entries, out
}

// handleIncident serves GET /admin/incidents/{id}: the incident's cause,
// evidence, checklist, affected paths and languages, and latest requests.
func handleIncident(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := d.view(r)
		idText := mux.Vars(r)["id"]
		notFound := v.tr.T("admin.incident.not_found", map[string]any{"ID": idText})
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			v.d.Error(w, r, storeFailed(incident.ErrNotFound, notFound))
			return
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		data, err := d.loadIncident(ctx, id)
		if err != nil {
			v.d.Error(w, r, storeFailed(err, notFound))
			return
		}
		title := v.tr.T("admin.incident.title", map[string]any{"ID": id})
		m := &pages.AdminIncident{
			Frame:    v.frame(title, ""),
			Heading:  title + " · " + data.inc.Site + " / " + v.upstreamName(data.inc.Upstream),
			Incident: v.incidentDetail(data, ""),
		}
		m.Incident.Timeline = v.timeline(data.timeline)
		d.render(w, r, http.StatusOK, v.lang.Code, pages.AdminIncidentView(m))
	})
}

// loadEvent finds a request by reference, with its incident when it has
// one (data is nil otherwise).
func (d *adminDeps) loadEvent(ctx context.Context, rid string) (incident.Event, *incidentData, error) {
	if !httpx.ValidRequestID(rid) {
		return incident.Event{}, nil, incident.ErrNotFound
	}
	e, err := d.Store.Event(ctx, rid)
	if err != nil {
		return incident.Event{}, nil, err
	}
	if e.IncidentID == 0 {
		return e, nil, nil
	}
	data, err := d.loadIncident(ctx, e.IncidentID)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		// Pruned between the two reads: the event alone still helps.
		return e, nil, nil
	case err != nil:
		return incident.Event{}, nil, err
	}
	return e, &data, nil
}

func (v *adminView) upstreamName(name string) string {
	if name == "" {
		return v.tr.T("admin.upstream.unmatched", nil)
	}
	return name
}

func (v *adminView) incidentDetail(data incidentData, current string) *pages.IncidentDetail {
	tr, in := v.tr, data.inc
	det := &pages.IncidentDetail{State: "closed", StateText: tr.T("admin.incident.closed", nil)}
	if in.Open() {
		det.State, det.StateText = "open", tr.T("admin.incident.open", nil)
	}
	end := v.now
	facts := []pages.Fact{
		{Label: tr.T("admin.col.site", nil), Value: in.Site},
		{Label: tr.T("admin.col.upstream", nil), Value: v.upstreamName(in.Upstream), Code: in.Upstream != ""},
		{Label: tr.T("admin.col.opened", nil), Value: v.time(in.OpenedAt)},
		{Label: tr.T("admin.col.last_seen", nil), Value: v.time(in.LastSeen)},
	}
	if in.ClosedAt != nil {
		end = *in.ClosedAt
		facts = append(facts, pages.Fact{Label: tr.T("admin.incident.closed_at", nil), Value: v.time(*in.ClosedAt)})
	}
	facts = append(facts,
		// At least a minute: "lasted" takes the duration in a grammatical
		// case that "less than a minute" does not fit in every language,
		// and the exact times are listed above anyway.
		pages.Fact{Label: tr.T("admin.incident.duration", nil), Value: tr.T("admin.incident.lasted",
			map[string]any{"Duration": v.duration(max(end.Sub(in.OpenedAt), time.Minute))})},
		pages.Fact{Label: tr.T("admin.col.requests", nil), Value: strconv.FormatInt(in.Requests, 10)},
		pages.Fact{Label: tr.T("admin.col.visitors", nil), Value: strconv.FormatInt(in.Visitors, 10)},
		pages.Fact{Label: tr.T("admin.incident.codes", nil), Value: codesText(in.Codes), Code: true},
	)
	det.Facts = facts
	path := incidentPath(in.ID)
	det.Permalink = pages.Fact{Label: tr.T("admin.incident.permalink", nil), URL: path, Value: path}
	if base := strings.TrimSuffix(v.d.Config.Server.AdminURL, "/"); base != "" {
		det.Permalink.Value = base + path
	}

	cat := data.category
	source := in.Cause.Source
	if source == "" {
		source = "none"
	}
	det.Cause = pages.AdminCause{
		Heading:       tr.T("admin.cause.heading", nil),
		Category:      string(cat),
		Title:         tr.T("admin.cause."+string(cat)+".title", nil),
		Check:         tr.T("admin.cause."+string(cat)+".check", nil),
		Source:        tr.T("admin.cause.source."+source, nil),
		ClassLabel:    tr.T("admin.cause.class", nil),
		Class:         in.Cause.Class,
		Detail:        in.Cause.Detail,
		EvidenceLabel: tr.T("admin.cause.evidence", nil),
		Evidence:      in.Cause.Evidence,
	}
	det.Checklist = pages.Checklist{Heading: tr.T("admin.checklist.heading", nil)}
	for _, id := range data.checklist {
		det.Checklist.Items = append(det.Checklist.Items, pages.ChecklistItem{
			ID: id, Title: tr.T("admin.step."+id+".title", nil), Body: tr.T("admin.step."+id+".body", nil),
		})
	}
	det.Probe = v.probeEvidence(in.Upstream, data.check)
	var latest incident.Event
	if len(data.events) > 0 {
		latest = data.events[0]
	}
	det.Vars = v.nginxVars(latest)
	det.Log = v.logLines(data.lines)
	det.Paths = pages.CountTable{
		Heading: tr.T("admin.paths.heading", nil), KeyLabel: tr.T("admin.col.path", nil),
		NLabel: tr.T("admin.col.requests", nil), Code: true,
	}
	for _, c := range in.TopPaths {
		det.Paths.Rows = append(det.Paths.Rows, pages.CountRow{Key: c.Key, N: strconv.FormatInt(c.N, 10)})
	}
	det.Locales = pages.CountTable{
		Heading: tr.T("admin.locales.heading", nil), KeyLabel: tr.T("admin.col.language", nil),
		NLabel: tr.T("admin.col.requests", nil),
	}
	for _, c := range in.Locales {
		det.Locales.Rows = append(det.Locales.Rows, pages.CountRow{Key: v.localeName(c.Key), N: strconv.FormatInt(c.N, 10)})
	}
	det.Events = v.eventTable(data.events, current)
	return det
}

// codesText is "502 × 12, 504 × 3", most frequent first.
func codesText(codes map[int]int64) string {
	type kv struct {
		code int
		n    int64
	}
	var list []kv
	for c, n := range codes {
		list = append(list, kv{c, n})
	}
	slices.SortFunc(list, func(a, b kv) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.code, b.code))
	})
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = strconv.Itoa(c.code) + " × " + strconv.FormatInt(c.n, 10)
	}
	return strings.Join(parts, ", ")
}

func (v *adminView) localeName(code string) string {
	if l, ok := v.d.Catalog.Lookup(code); ok && l.Code == code {
		return code + " · " + l.Name
	}
	return code
}

func (v *adminView) probeEvidence(upstream string, u *monitor.UpstreamStatus) pages.ProbeEvidence {
	tr := v.tr
	p := pages.ProbeEvidence{
		Heading: tr.T("admin.probe.heading", map[string]any{"Upstream": v.upstreamName(upstream)}),
		Empty:   tr.T("admin.probe.none", nil),
	}
	if u == nil {
		return p
	}
	res := u.Last
	state := "down"
	if u.Up {
		state = "up"
	}
	p.Facts = []pages.Fact{
		{Label: tr.T("admin.col.state", nil), Value: tr.T("admin.upstream."+state, nil) + " · " + v.since(u.Since)},
		{Label: tr.T("admin.probe.time", nil), Value: v.time(res.Started)},
		{Label: tr.T("admin.probe.target", nil), Value: res.Target.URL, Code: true},
	}
	if res.Target.Addr != "" {
		p.Facts = append(p.Facts, pages.Fact{Label: tr.T("admin.probe.addr", nil), Value: res.Target.Addr, Code: true})
	}
	p.Facts = append(p.Facts, pages.Fact{Label: tr.T("admin.cause.class", nil), Value: string(res.Class), Code: true})
	if res.StatusCode > 0 {
		p.Facts = append(p.Facts, pages.Fact{Label: tr.T("admin.probe.status", nil), Value: strconv.Itoa(res.StatusCode), Code: true})
	}
	if res.Detail != "" {
		p.Facts = append(p.Facts, pages.Fact{Label: tr.T("admin.probe.detail", nil), Value: res.Detail, Code: true})
	}
	p.Stages = v.stages(res.Stages)
	return p
}

// nginxVars lists what nginx reported about the upstream for one request,
// under nginx's own variable names, which staff grep their configs for.
func (v *adminView) nginxVars(e incident.Event) pages.Facts {
	f := pages.Facts{Heading: v.tr.T("admin.nginx.vars", nil), Empty: v.tr.T("admin.nginx.vars_none", nil)}
	for _, kv := range []struct{ name, value string }{
		{"$upstream_addr", e.UpstreamAddr},
		{"$upstream_status", e.UpstreamStatus},
		{"$upstream_connect_time", e.UpstreamConnectTime},
		{"$upstream_response_time", e.UpstreamResponseTime},
	} {
		if kv.value != "" {
			f.Rows = append(f.Rows, pages.Fact{Label: v.ltr(kv.name), Value: kv.value, Code: true})
		}
	}
	if e.NginxConn > 0 && len(f.Rows) > 0 {
		f.Rows = append(f.Rows, pages.Fact{Label: v.ltr("$connection"), Value: strconv.FormatInt(e.NginxConn, 10), Code: true})
	}
	return f
}

func (v *adminView) logLines(lines []string) pages.LogLines {
	return pages.LogLines{Heading: v.tr.T("admin.nginx.log", nil), Empty: v.tr.T("admin.nginx.log_none", nil), Lines: lines}
}

func (v *adminView) eventTable(events []incident.Event, current string) pages.EventTable {
	tr := v.tr
	t := pages.EventTable{
		Heading: tr.T("admin.events.heading", nil),
		Cols: pages.EventCols{
			Time: tr.T("admin.col.time", nil), Code: tr.T("admin.col.code", nil), Method: tr.T("admin.col.method", nil),
			Host: tr.T("admin.col.host", nil), Path: tr.T("admin.col.path", nil), Reference: tr.T("admin.col.reference", nil),
			Language: tr.T("admin.col.language", nil), Browser: tr.T("admin.col.browser", nil),
		},
	}
	for _, e := range events {
		t.Rows = append(t.Rows, pages.EventRow{
			Time: v.time(e.Time), Code: strconv.Itoa(e.Code), Method: e.Method, Host: e.Host, Path: e.Path,
			Reference: e.RequestID, URL: refPath(e.RequestID), Language: e.Locale, Browser: e.Browser,
			Current: current != "" && e.RequestID == current,
		})
	}
	return t
}

// eventSection is the quoted request on a reference page.
func (v *adminView) eventSection(e incident.Event) *pages.AdminEvent {
	tr := v.tr
	cat := causeCategory(e.Cause, nil)
	entries, lines := v.d.evidence([]incident.Event{e})
	if len(entries) > 0 {
		cat = causeCategory(e.Cause, entries)
	}
	cause := tr.T("admin.cause."+string(cat)+".title", nil)
	if e.Cause.Class != "" {
		cause += " (" + e.Cause.Class + ")"
	}
	return &pages.AdminEvent{
		Heading: tr.T("admin.event.heading", map[string]any{"Reference": e.RequestID}),
		Facts: []pages.Fact{
			{Label: tr.T("admin.col.time", nil), Value: v.time(e.Time)},
			{Label: tr.T("admin.col.reference", nil), Value: e.RequestID, Code: true},
			{Label: tr.T("admin.col.site", nil), Value: e.Site},
			{Label: tr.T("admin.col.upstream", nil), Value: v.upstreamName(e.Upstream), Code: e.Upstream != ""},
			{Label: tr.T("admin.col.host", nil), Value: e.Host, Code: true},
			{Label: tr.T("admin.col.method", nil), Value: e.Method, Code: true},
			{Label: tr.T("admin.col.path", nil), Value: e.Path, Code: true},
			{Label: tr.T("admin.col.code", nil), Value: strconv.Itoa(e.Code)},
			{Label: tr.T("admin.col.cause", nil), Value: cause},
			{Label: tr.T("admin.col.language", nil), Value: v.localeName(e.Locale)},
			{Label: tr.T("admin.col.browser", nil), Value: e.Browser},
		},
		Vars: v.nginxVars(e),
		Log:  v.logLines(lines),
	}
}
