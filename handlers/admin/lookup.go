package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/pages"
)

// Search bounds: a pasted reference is short; anything long is a paste
// gone wrong, and each candidate costs a query.
const (
	maxQuery      = 512
	maxCandidates = 8
	// nginxIDLen is the length of nginx's $request_id: 32 hex digits.
	nginxIDLen = 32
)

// recordSettle bounds how long an event takes from the page to the store:
// the recorder's flush interval (500 ms) and a batch write, with room.
const recordSettle = 10 * time.Second

func refPath(rid string) string {
	return adminRefPrefix + url.PathEscape(rid)
}

// handleRequestRef serves GET /admin/r/{request-id}: the request a visitor
// quoted, with its incident's diagnosis below it. It is the target of the
// public page's "for site staff" link.
func handleRequestRef(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := d.view(r)
		rid := mux.Vars(r)["rid"]
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		e, data, err := d.loadEvent(ctx, rid)
		if errors.Is(err, incident.ErrNotFound) && httpx.ValidRequestID(rid) {
			if data, at, ok := d.incidentAt(ctx, r.URL.Query(), v.now); ok {
				v.countedRequest(w, r, rid, at, data)
				return
			}
		}
		if err != nil {
			v.d.Error(w, r, storeFailed(err, v.tr.T("admin.search.not_found", map[string]any{"Query": httpx.Clip(rid, 100)})))
			return
		}
		title := v.tr.T("admin.event.title", map[string]any{"Reference": e.RequestID})
		m := &pages.AdminIncident{Frame: v.frame(title, e.RequestID), Heading: title, Event: v.eventSection(e)}
		if data != nil {
			m.Event.Facts = append(m.Event.Facts, pages.Fact{
				Label: v.tr.T("admin.col.incident", nil),
				Value: v.tr.T("admin.incident.title", map[string]any{"ID": data.inc.ID}),
				URL:   incidentPath(data.inc.ID),
			})
			m.Incident = v.incidentDetail(*data, e.RequestID)
		} else {
			m.NoIncident = v.tr.T("admin.event.no_incident", nil)
		}
		d.render(w, r, http.StatusOK, v.lang.Code, pages.AdminIncidentView(m))
	})
}

// incidentAt finds the incident a request without a record of its own
// belongs to, from the site and time the public page's staff link
// carries (?site=&at=, RFC 3339): past store.event_rows_per_second a
// request is only counted in its incident. The time has whole seconds,
// so the incident must have been open during that second. A request of
// the last recordSettle may still be on its way to the store: it is not
// claimed to be counted only.
func (d *adminDeps) incidentAt(ctx context.Context, q url.Values, now time.Time) (*incidentData, time.Time, bool) {
	site := q.Get("site")
	at, err := time.Parse(time.RFC3339, q.Get("at"))
	if err != nil || !slices.ContainsFunc(d.Config.Sites, func(s config.Site) bool { return s.Name == site }) ||
		now.Sub(at) < recordSettle {
		return nil, time.Time{}, false
	}
	incs, err := d.Store.Incidents(ctx, incident.Filter{Site: site, Limit: 1000})
	if err != nil {
		return nil, time.Time{}, false
	}
	for _, in := range incs {
		if in.OpenedAt.Before(at.Add(time.Second)) && !in.LastSeen.Before(at) {
			data, err := d.loadIncident(ctx, in.ID)
			if err != nil {
				return nil, time.Time{}, false
			}
			return &data, at, true
		}
	}
	return nil, time.Time{}, false
}

// countedRequest is the reference page of a request that was counted in
// its incident without a record of its own: what the link said about it,
// why there is no more, and the incident.
func (v *adminView) countedRequest(w http.ResponseWriter, r *http.Request, rid string, at time.Time, data *incidentData) {
	title := v.tr.T("admin.event.title", map[string]any{"Reference": rid})
	m := &pages.AdminIncident{Frame: v.frame(title, rid), Heading: title, Event: &pages.AdminEvent{
		Heading: v.tr.T("admin.event.heading", map[string]any{"Reference": rid}),
		Notice:  v.tr.T("admin.event.count_only", map[string]any{"Rate": v.d.Config.Store.EventRowsPerSecond}),
		Facts: []pages.Fact{
			{Label: v.tr.T("admin.col.time", nil), Value: v.time(at)},
			{Label: v.tr.T("admin.col.reference", nil), Value: rid, Code: true},
			{Label: v.tr.T("admin.col.site", nil), Value: data.inc.Site},
			{Label: v.tr.T("admin.col.incident", nil), Value: v.tr.T("admin.incident.title", map[string]any{"ID": data.inc.ID}),
				URL: incidentPath(data.inc.ID)},
		},
	}}
	m.Incident = v.incidentDetail(*data, "")
	v.d.render(w, r, http.StatusOK, v.lang.Code, pages.AdminIncidentView(m))
}

// handleSearch serves GET /admin/search?q=: the dashboard's reference box.
// Staff paste whatever the visitor sent, so it finds the reference inside
// it, and redirects to the request's page (or to an incident for "#12").
func handleSearch(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := d.view(r)
		q := strings.ToValidUTF8(httpx.Clip(strings.TrimSpace(r.URL.Query().Get("q")), maxQuery), "")
		title := v.tr.T("admin.search.label", nil)
		if q == "" {
			v.message(w, r, http.StatusOK, title, v.tr.T("admin.search.hint", nil), "")
			return
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		for _, c := range referenceCandidates(q) {
			_, err := d.Store.Event(ctx, c)
			switch {
			case err == nil:
				seeOther(w, refPath(c))
				return
			case !errors.Is(err, incident.ErrNotFound):
				v.d.Error(w, r, storeFailed(err, ""))
				return
			}
		}
		if id, ok := incidentNumber(q); ok {
			_, err := d.Store.Incident(ctx, id)
			switch {
			case err == nil:
				seeOther(w, incidentPath(id))
				return
			case !errors.Is(err, incident.ErrNotFound):
				v.d.Error(w, r, storeFailed(err, ""))
				return
			}
		}
		v.message(w, r, http.StatusNotFound, title,
			v.tr.T("admin.search.not_found", map[string]any{"Query": httpx.Clip(q, 100)}), q)
	})
}

// referenceCandidates finds what may be a request ID in pasted text, most
// likely first: the whole text; then runs of 32 hex digits, nginx's
// $request_id, which survive a paste of the page's copied block ("Reference:
// 4f…e1Time (UTC): …", whose line break a search box drops); then each word.
func referenceCandidates(q string) []string {
	var out []string
	add := func(s string) {
		if len(out) < maxCandidates && httpx.ValidRequestID(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(q)
	words := strings.FieldsFunc(q, func(r rune) bool { return !idRune(r) })
	for _, w := range words {
		for _, run := range hexRuns(w) {
			if len(run) >= nginxIDLen {
				// A label glued after the ID may start with hex letters
				// ("Datum"): the ID is the run's first 32 digits.
				add(run[:nginxIDLen])
			}
		}
	}
	for _, w := range words {
		add(w)
	}
	return out
}

func idRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

func hexRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		hex := i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f' || s[i] >= 'A' && s[i] <= 'F')
		switch {
		case hex && start < 0:
			start = i
		case !hex && start >= 0:
			runs = append(runs, s[start:i])
			start = -1
		}
	}
	return runs
}

// incidentNumber reads "12" or "#12" as an incident number.
func incidentNumber(q string) (int64, bool) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "#")
	if q == "" || len(q) > 18 {
		return 0, false
	}
	id, err := strconv.ParseInt(q, 10, 64)
	return id, err == nil && id > 0
}
