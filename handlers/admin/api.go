package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
)

// The admin API's JSON: the dashboard's and incident page's data, with
// stable snake_case names and machine-readable ids where the pages show
// localized text. Times are RFC 3339 in UTC.

type apiSites struct {
	GeneratedAt time.Time `json:"generated_at"`
	Sites       []apiSite `json:"sites"`
}

type apiSite struct {
	Site            string        `json:"site"`
	Title           string        `json:"title"`
	Verdict         string        `json:"verdict"`
	Origin          string        `json:"origin"`
	CheckedAt       *time.Time    `json:"checked_at"`
	Affected        int           `json:"affected"`
	WindowSeconds   int           `json:"window_seconds"`
	Counts          apiCounts     `json:"counts"`
	ErrorsPerMinute []int64       `json:"errors_per_minute"`
	Upstreams       []apiUpstream `json:"upstreams"`
}

type apiCounts struct {
	Errors5m        int64 `json:"errors_5m"`
	Errors1h        int64 `json:"errors_1h"`
	Visitors5m      int64 `json:"visitors_5m"`
	Visitors1h      int64 `json:"visitors_1h"`
	ErrorsAtLeast   bool  `json:"errors_at_least,omitempty"`
	VisitorsAtLeast bool  `json:"visitors_at_least,omitempty"`
}

type apiUpstream struct {
	Name            string     `json:"name"`
	State           string     `json:"state"` // up, down, unknown
	Since           *time.Time `json:"since"`
	Checks          int        `json:"checks"`
	LastCheck       *apiCheck  `json:"last_check"`
	Category        string     `json:"category,omitempty"`
	Counts          apiCounts  `json:"counts"`
	ErrorsPerMinute []int64    `json:"errors_per_minute"`
	OpenIncident    *int64     `json:"open_incident"`
}

type apiCheck struct {
	URL        string     `json:"url"`
	Addr       string     `json:"addr,omitempty"`
	Class      string     `json:"class"`
	StatusCode int        `json:"status_code,omitempty"`
	Started    time.Time  `json:"started"`
	DurationMS float64    `json:"duration_ms"`
	Detail     string     `json:"detail,omitempty"`
	Stages     []apiStage `json:"stages"`
}

type apiStage struct {
	Name       string  `json:"name"`
	DurationMS float64 `json:"duration_ms"`
	OK         bool    `json:"ok"`
	Error      string  `json:"error,omitempty"`
}

type apiIncident struct {
	ID       int64            `json:"id"`
	Site     string           `json:"site"`
	Upstream string           `json:"upstream"`
	Open     bool             `json:"open"`
	OpenedAt time.Time        `json:"opened_at"`
	LastSeen time.Time        `json:"last_seen"`
	ClosedAt *time.Time       `json:"closed_at"`
	Requests int64            `json:"requests"`
	Visitors int64            `json:"visitors"`
	Codes    map[string]int64 `json:"codes"`
	TopPaths []apiCount       `json:"top_paths"`
	Locales  []apiCount       `json:"locales"`
	Cause    apiCause         `json:"cause"`
	Category string           `json:"category"`
	URL      string           `json:"url"`
}

type apiCount struct {
	Key string `json:"key"`
	N   int64  `json:"n"`
}

type apiCause struct {
	Source   string `json:"source"`
	Class    string `json:"class"`
	Detail   string `json:"detail"`
	Evidence string `json:"evidence"`
}

type apiIncidentDetail struct {
	Incident  apiIncident        `json:"incident"`
	Checklist []string           `json:"checklist"`
	LastCheck *apiCheck          `json:"last_check"`
	LogLines  []string           `json:"log_lines"`
	Events    []apiEvent         `json:"events"`
	Timeline  []apiTimelineEntry `json:"timeline"`
}

type apiEvent struct {
	Time                 time.Time `json:"time"`
	RequestID            string    `json:"request_id"`
	Site                 string    `json:"site"`
	Upstream             string    `json:"upstream"`
	Host                 string    `json:"host"`
	Method               string    `json:"method"`
	Path                 string    `json:"path"`
	Code                 int       `json:"code"`
	NginxConn            int64     `json:"nginx_connection,omitempty"`
	UpstreamAddr         string    `json:"upstream_addr"`
	UpstreamStatus       string    `json:"upstream_status"`
	UpstreamConnectTime  string    `json:"upstream_connect_time"`
	UpstreamResponseTime string    `json:"upstream_response_time"`
	Locale               string    `json:"locale"`
	Browser              string    `json:"browser"`
	NginxLog             string    `json:"nginx_log,omitempty"`
	Cause                apiCause  `json:"cause"`
	IncidentID           int64     `json:"incident_id,omitempty"`
	URL                  string    `json:"url"`
}

type apiEventDetail struct {
	Event    apiEvent           `json:"event"`
	LogLines []string           `json:"log_lines"`
	Incident *apiIncidentDetail `json:"incident"`
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func apiCountsOf(c windowCounts) apiCounts {
	return apiCounts{Errors5m: c.errors5m, Errors1h: c.errors1h, Visitors5m: c.visitors5m, Visitors1h: c.visitors1h,
		ErrorsAtLeast: c.errorsAtLeast, VisitorsAtLeast: c.visitorsAtLeast}
}

func apiCheckOf(u monitor.UpstreamStatus) *apiCheck {
	r := u.Last
	c := &apiCheck{URL: r.Target.URL, Addr: r.Target.Addr, Class: string(r.Class), StatusCode: r.StatusCode,
		Started: r.Started.UTC(), DurationMS: msf(r.Duration), Detail: r.Detail, Stages: []apiStage{}}
	for _, s := range r.Stages {
		c.Stages = append(c.Stages, apiStage{Name: s.Name, DurationMS: msf(s.Duration), OK: s.OK, Error: s.Err})
	}
	return c
}

// handleAPISites serves GET /admin/api/v1/sites: the dashboard's data.
func handleAPISites(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := d.Clock.Now()
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		data, err := d.gatherDashboard(ctx, now)
		if err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		out := apiSites{GeneratedAt: now.UTC(), Sites: []apiSite{}}
		for _, sd := range data.sites {
			s := apiSite{
				Site: sd.site.Name, Title: sd.site.Brand.Title, Verdict: string(sd.status.Verdict),
				Origin: string(sd.status.Origin), CheckedAt: utcPtr(sd.status.CheckedAt), Affected: sd.status.Affected,
				WindowSeconds: int(sd.status.Window / time.Second), Counts: apiCountsOf(sd.counts),
				ErrorsPerMinute: sd.perMinute, Upstreams: []apiUpstream{},
			}
			for _, ud := range sd.upstreams {
				u := apiUpstream{Name: ud.name, State: ud.state(), Checks: ud.st.Checks, Category: string(ud.category()),
					Counts: apiCountsOf(ud.counts), ErrorsPerMinute: ud.perMinute}
				if ud.checked {
					u.Since, u.LastCheck = utcPtr(ud.st.Since), apiCheckOf(ud.st)
				}
				if ud.open != nil {
					id := ud.open.ID
					u.OpenIncident = &id
				}
				s.Upstreams = append(s.Upstreams, u)
			}
			out.Sites = append(out.Sites, s)
		}
		d.writeJSON(w, r, out)
	})
}

func apiIncidentOf(in incident.Incident) apiIncident {
	a := apiIncident{
		ID: in.ID, Site: in.Site, Upstream: in.Upstream, Open: in.Open(), OpenedAt: in.OpenedAt.UTC(),
		LastSeen: in.LastSeen.UTC(), Requests: in.Requests, Visitors: in.Visitors, Codes: map[string]int64{},
		TopPaths: []apiCount{}, Locales: []apiCount{}, Cause: apiCause(in.Cause),
		Category: string(causeCategory(in.Cause, nil)), URL: incidentPath(in.ID),
	}
	if in.ClosedAt != nil {
		a.ClosedAt = utcPtr(*in.ClosedAt)
	}
	for c, n := range in.Codes {
		a.Codes[strconv.Itoa(c)] = n
	}
	for _, c := range in.TopPaths {
		a.TopPaths = append(a.TopPaths, apiCount(c))
	}
	for _, c := range in.Locales {
		a.Locales = append(a.Locales, apiCount(c))
	}
	return a
}

func apiEventOf(e incident.Event) apiEvent {
	return apiEvent{
		Time: e.Time.UTC(), RequestID: e.RequestID, Site: e.Site, Upstream: e.Upstream, Host: e.Host,
		Method: e.Method, Path: e.Path, Code: e.Code, NginxConn: e.NginxConn, UpstreamAddr: e.UpstreamAddr,
		UpstreamStatus: e.UpstreamStatus, UpstreamConnectTime: e.UpstreamConnectTime,
		UpstreamResponseTime: e.UpstreamResponseTime, Locale: e.Locale, Browser: e.Browser, NginxLog: e.NginxLog,
		Cause: apiCause(e.Cause), IncidentID: e.IncidentID, URL: refPath(e.RequestID),
	}
}

func apiIncidentDetailOf(data incidentData) *apiIncidentDetail {
	out := &apiIncidentDetail{
		Incident:  apiIncidentOf(data.inc),
		Checklist: data.checklist,
		LogLines:  append([]string{}, data.lines...),
		Events:    []apiEvent{},
		Timeline:  apiTimelineOf(data.timeline),
	}
	out.Incident.Category = string(data.category)
	if data.check != nil {
		out.LastCheck = apiCheckOf(*data.check)
	}
	for _, e := range data.events {
		out.Events = append(out.Events, apiEventOf(e))
	}
	return out
}

// handleAPIIncidents serves GET /admin/api/v1/incidents?site=&upstream=&open=&limit=:
// incidents, most recently seen first.
func handleAPIIncidents(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := incident.Filter{Site: httpx.Clip(q.Get("site"), httpx.MaxHeaderVal), Upstream: httpx.Clip(q.Get("upstream"), httpx.MaxHeaderVal)}
		switch q.Get("open") {
		case "":
		case "true", "1":
			t := true
			f.Open = &t
		case "false", "0":
			t := false
			f.Open = &t
		default:
			d.Error(w, r, httpx.Errorf(http.StatusBadRequest, "open must be true or false"))
			return
		}
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 {
				d.Error(w, r, httpx.Errorf(http.StatusBadRequest, "limit must be a positive number"))
				return
			}
			f.Limit = n
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		list, err := d.Store.Incidents(ctx, f)
		if err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		out := struct {
			Incidents []apiIncident `json:"incidents"`
		}{Incidents: []apiIncident{}}
		for _, in := range list {
			out.Incidents = append(out.Incidents, apiIncidentOf(in))
		}
		d.writeJSON(w, r, out)
	})
}

// handleAPIIncident serves GET /admin/api/v1/incidents/{id}: what the
// incident page shows.
func handleAPIIncident(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		if err != nil {
			d.Error(w, r, httpx.Errorf(http.StatusNotFound, "not found"))
			return
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		data, err := d.loadIncident(ctx, id)
		if err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		d.writeJSON(w, r, apiIncidentDetailOf(data))
	})
}

// handleAPIEvent serves GET /admin/api/v1/events/{request-id}: what
// /admin/r/{request-id} shows.
func handleAPIEvent(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		e, data, err := d.loadEvent(ctx, mux.Vars(r)["rid"])
		if err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		_, lines := d.evidence([]incident.Event{e})
		out := apiEventDetail{Event: apiEventOf(e), LogLines: append([]string{}, lines...)}
		if data != nil {
			out.Incident = apiIncidentDetailOf(*data)
		}
		d.writeJSON(w, r, out)
	})
}
