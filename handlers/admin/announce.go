package admin

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/text/language"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/notify"
	"github.com/gatewatch/gatewatch/pages"
)

// Announcement paths.
const (
	adminAnnounce     = "/admin/announcements"
	adminAPIAnnounce  = "/admin/api/v1/announcements"
	maxAnnounceAhead  = 30 * 24 * time.Hour
	maxAnnounceBody   = 8 << 10
	announceFormUntil = "2006-01-02T15:04"
	// recentEnded is how long the API still lists an ended announcement.
	recentEnded = 24 * time.Hour
)

// NotifyStats is the notifier as the dashboard shows it; *notify.Notifier
// satisfies it.
type NotifyStats interface {
	Stats() []notify.TargetStats
}

// announceInput is a new announcement, from the API's JSON or the form.
type announceInput struct {
	Site     string `json:"site"`
	Upstream string `json:"upstream"`
	Text     string `json:"text"`
	Until    string `json:"until"`
	Lang     string `json:"lang"`
}

// announceError is a refused input, with the message key that explains it
// on the page and the sentence the API answers.
type announceError struct {
	key, detail string
}

func (e *announceError) Error() string { return e.detail }

// validate turns input into an announcement to store, or says why not.
func (d *adminDeps) validateAnnouncement(in announceInput, user string, now time.Time, untilLayout string) (incident.Announcement, error) {
	site := d.Config.Site(in.Site)
	if site == nil || (in.Upstream != "" && !slices.ContainsFunc(site.Upstreams, func(u config.Upstream) bool { return u.Name == in.Upstream })) {
		return incident.Announcement{}, &announceError{"admin.announce.err_site", "site must name a configured site, and upstream (optional) one of its upstreams"}
	}
	text, err := announce.Clean(in.Text)
	if err != nil {
		return incident.Announcement{}, &announceError{"admin.announce.err_text", "text must be 1 to 500 characters of plain text"}
	}
	var until time.Time
	if untilLayout == time.RFC3339 {
		until, err = time.Parse(time.RFC3339, in.Until)
	} else {
		until, err = time.ParseInLocation(untilLayout, in.Until, time.UTC)
	}
	if err != nil || !until.After(now) || until.After(now.Add(maxAnnounceAhead)) {
		return incident.Announcement{}, &announceError{"admin.announce.err_until", "until must be an RFC 3339 time in the future, at most 30 days ahead"}
	}
	lang := in.Lang
	if lang == "" {
		lang = cmpOr(site.DefaultLocale, d.Config.Server.DefaultLocale)
	}
	tag, err := language.Parse(lang)
	if err != nil || len(lang) > 35 {
		return incident.Announcement{}, &announceError{"admin.announce.err_text", "lang must be a language tag such as \"en\" or \"pt-BR\""}
	}
	return incident.Announcement{Site: site.Name, Upstream: in.Upstream, Text: text, Lang: tag.String(), Author: user,
		CreatedAt: now.UTC(), Until: until.UTC()}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// apiAnnouncement is an announcement in the admin API.
type apiAnnouncement struct {
	ID        int64      `json:"id"`
	Site      string     `json:"site"`
	Upstream  string     `json:"upstream"`
	Text      string     `json:"text"`
	Lang      string     `json:"lang"`
	Author    string     `json:"author"`
	CreatedAt time.Time  `json:"created_at"`
	Until     time.Time  `json:"until"`
	EndedAt   *time.Time `json:"ended_at"`
	Active    bool       `json:"active"`
}

func apiAnnouncementOf(a incident.Announcement, now time.Time) apiAnnouncement {
	out := apiAnnouncement{ID: a.ID, Site: a.Site, Upstream: a.Upstream, Text: a.Text, Lang: a.Lang, Author: a.Author,
		CreatedAt: a.CreatedAt.UTC(), Until: a.Until.UTC(), Active: a.ActiveAt(now)}
	if a.EndedAt != nil {
		out.EndedAt = utcPtr(*a.EndedAt)
	}
	return out
}

// handleAPIAnnouncements serves GET /admin/api/v1/announcements?site=:
// the announcements showing now and those ended in the last day.
func handleAPIAnnouncements(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := d.Clock.Now()
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		list, err := d.Store.Announcements(ctx, httpx.Clip(r.URL.Query().Get("site"), httpx.MaxHeaderVal), now.Add(-recentEnded), 0)
		if err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		out := struct {
			Announcements []apiAnnouncement `json:"announcements"`
		}{Announcements: []apiAnnouncement{}}
		for _, a := range list {
			out.Announcements = append(out.Announcements, apiAnnouncementOf(a, now))
		}
		d.writeJSON(w, r, out)
	})
}

// handleAPIAnnounce serves POST /admin/api/v1/announcements with a JSON
// body {"site", "upstream"?, "text", "until" (RFC 3339), "lang"?}: 201
// with the stored announcement. Only application/json is taken, which no
// cross-site form can send without a preflight this API never answers.
func handleAPIAnnounce(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			d.Error(w, r, httpx.Errorf(http.StatusUnsupportedMediaType, "send the announcement as application/json"))
			return
		}
		var in announceInput
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAnnounceBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			d.Error(w, r, httpx.Errorf(http.StatusBadRequest, "body must be a JSON object with site, upstream, text, until and lang"))
			return
		}
		p, _ := principalFrom(r)
		now := d.Clock.Now()
		a, err := d.validateAnnouncement(in, p.user, now, time.RFC3339)
		if err != nil {
			d.Error(w, r, httpx.Errorf(http.StatusUnprocessableEntity, err.Error()))
			return
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		if a.ID, err = d.Store.AddAnnouncement(ctx, a); err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		d.Logger.Info("announcement published", "id", a.ID, "site", a.Site, "upstream", a.Upstream, "user", p.user)
		b, _ := json.Marshal(apiAnnouncementOf(a, now))
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("Location", adminAPIAnnounce+"/"+strconv.FormatInt(a.ID, 10))
		w.WriteHeader(http.StatusCreated)
		w.Write(append(b, '\n'))
	})
}

// handleAPIEndAnnounce serves DELETE /admin/api/v1/announcements/{id}:
// the announcement stops showing (204), and stays in incident timelines.
func handleAPIEndAnnounce(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		if err != nil {
			d.Error(w, r, httpx.Errorf(http.StatusNotFound, "not found"))
			return
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		if err := d.Store.EndAnnouncement(ctx, id, d.Clock.Now()); err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		p, _ := principalFrom(r)
		d.Logger.Info("announcement ended", "id", id, "user", p.user)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleAnnouncements serves GET /admin/announcements: the form and the
// announcements showing now.
func handleAnnouncements(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.renderAnnouncements(w, r, http.StatusOK, announceInput{}, "")
	})
}

// handleAnnounce serves POST /admin/announcements (CSRF): publishes one
// and goes back to the page.
func handleAnnounce(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := r.PostForm
		site, upstream, _ := strings.Cut(f.Get("target"), "/")
		in := announceInput{Site: site, Upstream: upstream, Text: f.Get("text"), Until: f.Get("until"), Lang: f.Get("lang")}
		p, _ := principalFrom(r)
		a, err := d.validateAnnouncement(in, p.user, d.Clock.Now(), announceFormUntil)
		var ae *announceError
		if errors.As(err, &ae) {
			d.renderAnnouncements(w, r, http.StatusBadRequest, in, ae.key)
			return
		}
		ctx, cancel := d.storeCtx(r)
		defer cancel()
		if _, err := d.Store.AddAnnouncement(ctx, a); err != nil {
			d.Error(w, r, storeFailed(err, ""))
			return
		}
		d.Logger.Info("announcement published", "site", a.Site, "upstream", a.Upstream, "user", p.user)
		seeOther(w, adminAnnounce)
	})
}

// handleEndAnnounce serves POST /admin/announcements/{id}/end (CSRF).
func handleEndAnnounce(d *adminDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := d.view(r)
		id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		if err == nil {
			ctx, cancel := d.storeCtx(r)
			defer cancel()
			err = d.Store.EndAnnouncement(ctx, id, d.Clock.Now())
		}
		if err != nil {
			v.d.Error(w, r, storeFailed(err, v.tr.T("admin.announce.none", nil)))
			return
		}
		seeOther(w, adminAnnounce)
	})
}

func (d *adminDeps) renderAnnouncements(w http.ResponseWriter, r *http.Request, status int, in announceInput, errKey string) {
	v := d.view(r)
	tr := v.tr
	title := tr.T("admin.nav.announcements", nil)
	ctx, cancel := d.storeCtx(r)
	defer cancel()
	list, err := d.Store.Announcements(ctx, "", v.now, 0)
	if err != nil {
		v.d.Error(w, r, storeFailed(err, ""))
		return
	}
	until := in.Until
	if until == "" {
		until = v.now.UTC().Add(2 * time.Hour).Truncate(time.Minute).Format(announceFormUntil)
	}
	m := &pages.AdminAnnouncements{
		Frame:   v.frame(title, ""),
		Heading: title,
		Intro:   tr.T("admin.announce.intro", nil),
		Empty:   tr.T("admin.announce.none", nil),
		Form: pages.AnnounceForm{
			Action: adminAnnounce, CSRF: v.who.csrf,
			TargetLabel: tr.T("admin.col.site", nil) + " / " + tr.T("admin.col.upstream", nil),
			TextLabel:   tr.T("admin.announce.text", nil), Text: in.Text, MaxLen: announce.MaxRunes,
			UntilLabel: tr.T("admin.announce.until", nil), Until: until,
			LangLabel: tr.T("admin.announce.lang", nil),
			Submit:    tr.T("admin.announce.submit", nil),
		},
	}
	if errKey != "" {
		m.Error = tr.T(errKey, nil)
	}
	target := in.Site
	if in.Upstream != "" {
		target += "/" + in.Upstream
	}
	for _, s := range d.Config.Sites {
		m.Form.Targets = append(m.Form.Targets, pages.Option{Value: s.Name,
			Text: s.Brand.Title + " — " + tr.T("admin.announce.upstream_all", nil), Selected: target == s.Name})
		for _, u := range s.Upstreams {
			val := s.Name + "/" + u.Name
			m.Form.Targets = append(m.Form.Targets, pages.Option{Value: val, Text: s.Brand.Title + " / " + u.Name, Selected: target == val})
		}
	}
	lang := cmpOr(in.Lang, v.lang.Code)
	for _, l := range d.Catalog.Languages() {
		m.Form.Langs = append(m.Form.Langs, pages.Option{Value: l.Code, Text: l.Name, Selected: l.Code == lang})
	}
	for _, a := range list {
		where := a.Site
		if s := d.Config.Site(a.Site); s != nil {
			where = s.Brand.Title
		}
		if a.Upstream != "" {
			where += " / " + a.Upstream
		}
		meta := tr.T("announce.posted", map[string]any{"Time": v.time(a.CreatedAt)}) + " · " +
			tr.T("announce.until", map[string]any{"Time": v.time(a.End())})
		if a.Author != "" {
			meta += " · " + tr.T("admin.announce.by", map[string]any{"User": a.Author})
		}
		id := strconv.FormatInt(a.ID, 10)
		m.Items = append(m.Items, pages.AdminAnnouncement{ID: id, Where: where, Text: a.Text, Lang: a.Lang, Meta: meta,
			End: pages.PostForm{Action: adminAnnounce + "/" + id + "/end", CSRF: v.who.csrf, Button: tr.T("admin.announce.end", nil)}})
	}
	d.render(w, r, status, v.lang.Code, pages.AdminAnnouncementsView(m))
}

// timeline is an incident's history as its page shows it.
func (v *adminView) timeline(entries []incident.TimelineEntry) pages.Timeline {
	t := pages.Timeline{Heading: v.tr.T("admin.timeline.heading", nil)}
	for _, e := range entries {
		var text string
		switch e.Kind {
		case incident.KindOpened:
			text = v.tr.T("admin.timeline.opened", nil)
		case incident.KindCause:
			text = v.tr.T("admin.timeline.cause", map[string]any{"Cause": e.Detail})
		case incident.KindAnnouncement:
			text = v.tr.T("admin.timeline.announcement", map[string]any{"Text": e.Detail})
		case incident.KindNotified:
			text = v.tr.T("admin.timeline.notified", map[string]any{"Detail": e.Detail})
		case incident.KindNotifyFailed:
			text = v.tr.T("admin.timeline.notify_failed", map[string]any{"Detail": e.Detail})
		case incident.KindRecovered:
			text = v.tr.T("admin.timeline.recovered", nil)
		case incident.KindClosed:
			text = v.tr.T("admin.timeline.closed", nil)
		default:
			text = e.Kind + ": " + e.Detail
		}
		t.Entries = append(t.Entries, pages.TimelineRow{Kind: e.Kind, Time: v.time(e.At), Text: text})
	}
	return t
}

// notifyBlock is the dashboard's account of the notification targets, or
// nil when there are none.
func (v *adminView) notifyBlock() *pages.NotifyBlock {
	stats := v.d.Notify.Stats()
	if len(stats) == 0 {
		return nil
	}
	b := &pages.NotifyBlock{Heading: v.tr.T("admin.notify.heading", nil)}
	for _, s := range stats {
		row := pages.NotifyRow{Text: v.tr.T("admin.notify.row", map[string]any{"Target": s.Name, "Sent": s.Sent,
			"Failed": s.Failed, "Dropped": s.Dropped}), Failing: s.Failed+s.Dropped > 0}
		if s.LastError != "" {
			row.Error = v.tr.T("admin.notify.last_error", map[string]any{"Time": v.time(s.LastErrAt), "Error": s.LastError})
		}
		b.Rows = append(b.Rows, row)
	}
	return b
}

// apiTimelineEntry is a timeline entry in the admin API.
type apiTimelineEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
}

func apiTimelineOf(entries []incident.TimelineEntry) []apiTimelineEntry {
	out := make([]apiTimelineEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, apiTimelineEntry{At: e.At.UTC(), Kind: e.Kind, Detail: e.Detail})
	}
	return out
}
