package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatewatch/gatewatch/handlers/admin"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// checkAdminHeaders checks what every admin page sends: no caching, a CSP
// without inline scripts or styles, no framing.
func checkAdminHeaders(t *testing.T, w interface{ Header() http.Header }) {
	t.Helper()
	h := w.Header()
	for _, tc := range []struct{ name, want string }{
		{"Cache-Control", "no-store"},
		{"X-Frame-Options", "DENY"},
		{"X-Content-Type-Options", "nosniff"},
		{"Content-Type", "text/html; charset=utf-8"},
	} {
		if got := h.Get(tc.name); got != tc.want {
			t.Errorf("%s = %q; want %q", tc.name, got, tc.want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts or inline code; the admin pages have none", csp)
	}
}

func TestAdminDashboard(t *testing.T) {
	e := mustAdmin(t)
	w := e.get(t, "/admin/", e.login(t))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /admin/ = %d; want 200", w.Code)
	}
	checkAdminHeaders(t, w)
	d := parseDoc(t, w.Body.String())
	shop := d.Find(`[data-testid=site][data-site=shop]`)
	if got, _ := shop.Attr("data-state"); got != "down" {
		t.Errorf("shop data-state = %q; want down", got)
	}
	if got := shop.Find(`[data-testid=site-state]`).Text(); got != "Down for everyone" {
		t.Errorf("shop state = %q; want %q", got, "Down for everyone")
	}
	app := shop.Find(`[data-testid=upstream][data-upstream=app]`)
	if got, _ := app.Attr("data-state"); got != "down" {
		t.Errorf("shop/app data-state = %q; want down", got)
	}
	if got := app.Find(`[data-testid=cause]`).Text(); got != "Upstream down or in maintenance" {
		t.Errorf("shop/app cause = %q; want the upstream-down cause", got)
	}
	if got := app.Text(); !strings.Contains(got, "since 2026-11-22 09:18:15 UTC (12 minutes)") {
		t.Errorf("shop/app row %q; want since when it is down", got)
	}
	if ok, _ := app.Find(`[data-stage=dns]`).Attr("data-ok"); ok != "true" {
		t.Errorf("dns stage data-ok = %q; want true", ok)
	}
	connect := app.Find(`[data-stage=connect]`)
	if ok, _ := connect.Attr("data-ok"); ok != "false" || !strings.Contains(connect.Text(), "1.5 ms") || !strings.Contains(connect.Text(), "connection refused") {
		t.Errorf("connect stage = %q (ok=%s); want 1.5 ms, failed, with the error", connect.Text(), ok)
	}
	// Three shop errors: two in the last 5 minutes, three in the hour,
	// from three visitors.
	if got := strings.TrimSpace(shop.Find(`[data-testid=site-errors]`).Text()); got != "2 / 3" {
		t.Errorf("shop errors 5m / 1h = %q; want 2 / 3", got)
	}
	if got := strings.TrimSpace(shop.Find(`[data-testid=site-visitors]`).Text()); got != "2 / 3" {
		t.Errorf("shop visitors 5m / 1h = %q; want 2 / 3", got)
	}
	spark := shop.Find(`tfoot [data-testid=sparkline] polyline`)
	if pts, _ := spark.Attr("points"); len(strings.Fields(pts)) != 60 {
		t.Errorf("site sparkline has %d points; want 60 (one per minute)", len(strings.Fields(pts)))
	}
	if label, _ := shop.Find(`tfoot [data-testid=sparkline]`).Attr("aria-label"); !strings.Contains(label, "peak 1") {
		t.Errorf("sparkline label = %q; want the peak", label)
	}
	if app.Find(`[data-testid=sparkline]`).Length() != 1 {
		t.Error("upstream row has no sparkline")
	}
	blog := d.Find(`[data-testid=site][data-site=blog]`)
	if got, _ := blog.Find(`[data-upstream=web]`).Attr("data-state"); got != "up" {
		t.Errorf("blog/web data-state = %q; want up", got)
	}
	open := d.Find(`[data-testid=open-incidents] tbody tr`)
	if open.Length() != 1 || !strings.Contains(open.Find("a").AttrOr("href", ""), "/admin/incidents/"+strconv.FormatInt(e.incID, 10)) {
		t.Errorf("open incidents = %q; want shop/app's, linked", open.Text())
	}
	if recent := d.Find(`[data-testid=recent-incidents] tbody tr`); recent.Length() != 1 || !strings.Contains(recent.Text(), "blog") {
		t.Errorf("recent incidents = %q; want blog's closed one", recent.Text())
	}
	if d.Find(`[data-testid=search] input[name=q]`).Length() != 1 {
		t.Error("dashboard has no reference search box")
	}
}

func TestAdminIncidentPage(t *testing.T) {
	for _, tc := range []struct {
		name, adminURL, permalink string
	}{
		{"relative permalink", "", "/admin/incidents/"},
		{"admin_url permalink", "https://ops.example/", "https://ops.example/admin/incidents/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustAdmin(t, func(c *config.Config) { c.Server.AdminURL = tc.adminURL })
			id := strconv.FormatInt(e.incID, 10)
			w := e.get(t, "/admin/incidents/"+id, e.login(t))
			if w.Code != http.StatusOK {
				t.Fatalf("GET incident = %d; want 200", w.Code)
			}
			checkAdminHeaders(t, w)
			body := w.Body.String()
			d := parseDoc(t, body)
			if got := d.Find(`[data-testid=incident-state]`).Text(); got != "Open" {
				t.Errorf("incident state = %q; want Open", got)
			}
			if got, _ := d.Find(`[data-testid=cause]`).Attr("data-category"); got != "upstream_down" {
				t.Errorf("cause category = %q; want upstream_down", got)
			}
			var steps []string
			d.Find(`[data-testid=checklist] li`).Each(func(_ int, s *goquery.Selection) {
				steps = append(steps, s.AttrOr("data-step", ""))
			})
			if want := admin.Checklist(nginxlog.CategoryUpstreamDown); !slices.Equal(steps, want) {
				t.Errorf("checklist = %v; want %v", steps, want)
			}
			log := d.Find(`[data-testid=log]`).Text()
			if !strings.Contains(log, "(111: Connection refused)") || !strings.Contains(log, "prematurely closed") {
				t.Errorf("log lines = %q; want both matched nginx lines", log)
			}
			if got := d.Find(`[data-testid=vars]`).Text(); !strings.Contains(got, "$upstream_addr") || !strings.Contains(got, "127.0.0.1:9") {
				t.Errorf("nginx variables = %q; want $upstream_addr 127.0.0.1:9", got)
			}
			probe := d.Find(`[data-testid=probe]`)
			if !strings.Contains(probe.Text(), "http://127.0.0.1:9/health") || probe.Find(`[data-stage=connect][data-ok=false]`).Length() != 1 {
				t.Errorf("probe evidence = %q; want the check URL and the failed connect stage", probe.Text())
			}
			paths := d.Find(`[data-testid=paths]`).Text()
			if !strings.Contains(paths, "/cart") || !strings.Contains(paths, hostilePath) {
				t.Errorf("paths = %q; want /cart and the hostile path as text", paths)
			}
			if got := d.Find(`[data-testid=locales]`).Text(); !strings.Contains(got, "de · Deutsch") {
				t.Errorf("locales = %q; want de · Deutsch", got)
			}
			if got := d.Find(`[data-testid=events] tbody tr`).Length(); got != 3 {
				t.Errorf("events listed = %d; want 3", got)
			}
			pl := d.Find(`[data-testid=permalink]`)
			if href := pl.AttrOr("href", ""); href != "/admin/incidents/"+id || pl.Text() != tc.permalink+id {
				t.Errorf("permalink = %q (href %q); want %q", pl.Text(), href, tc.permalink+id)
			}
			checkEscaped(t, body)
		})
	}
}

// checkEscaped fails when visitor-controlled text reached the page as
// markup.
func checkEscaped(t *testing.T, body string) {
	t.Helper()
	for _, raw := range []string{"<script>alert(1)", "<img src=x onerror"} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains %q unescaped", raw)
		}
	}
}

func TestAdminIncidentNotFound(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	for _, target := range []string{"/admin/incidents/999", "/admin/incidents/99999999999999999999999"} {
		if w := e.get(t, target, session); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", target, w.Code)
		}
	}
	if w := e.get(t, "/admin/incidents/abc", session); w.Code != http.StatusNotFound {
		t.Errorf("GET /admin/incidents/abc = %d; want 404", w.Code)
	}
}

func TestAdminRequestReference(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	for _, tc := range []struct {
		name, rid string
		want      int
	}{
		{"nginx request id", seedRID, http.StatusOK},
		{"hostile path", hostileRID, http.StatusOK},
		{"unknown", "ffffffffffffffffffffffffffffffff", http.StatusNotFound},
		{"not a reference", "a b<c>", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get(t, "/admin/r/"+url.PathEscape(tc.rid), session)
			if w.Code != tc.want {
				t.Fatalf("GET /admin/r/%s = %d; want %d", tc.rid, w.Code, tc.want)
			}
			checkAdminHeaders(t, w)
			checkEscaped(t, w.Body.String())
			if tc.want != http.StatusOK {
				return
			}
			d := parseDoc(t, w.Body.String())
			ev := d.Find(`[data-testid=event]`)
			if !strings.Contains(ev.Text(), tc.rid) {
				t.Errorf("event section = %q; want the reference", ev.Text())
			}
			if d.Find(`[data-testid=events] tr[aria-current=true]`).Length() != 1 {
				t.Error("the quoted request is not marked in the incident's request list")
			}
			if d.Find(`[data-testid=cause]`).Length() != 1 {
				t.Error("reference page lacks the incident's cause")
			}
		})
	}
	w := e.get(t, "/admin/r/"+seedRID, session)
	if got := parseDoc(t, w.Body.String()).Find(`[data-testid=event-log]`).Text(); !strings.Contains(got, "*17 connect() failed") {
		t.Errorf("event log lines = %q; want the line of connection 17", got)
	}
}

func TestAdminSearch(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	id := strconv.FormatInt(e.incID, 10)
	for _, tc := range []struct {
		name, q  string
		code     int
		location string
	}{
		{"empty", "", http.StatusOK, ""},
		{"reference", seedRID, http.StatusSeeOther, "/admin/r/" + seedRID},
		{"padded", "  " + seedRID + "\n", http.StatusSeeOther, "/admin/r/" + seedRID},
		{"pasted copy block", "Reference: " + seedRID + "Time (UTC): 2026-11-22 09:29:15 UTC", http.StatusSeeOther, "/admin/r/" + seedRID},
		{"label glued with hex letters", "Referenz: " + seedRID + "Datum", http.StatusSeeOther, "/admin/r/" + seedRID},
		{"other reference", hostileRID, http.StatusSeeOther, "/admin/r/" + hostileRID},
		{"incident number", "#" + id, http.StatusSeeOther, "/admin/incidents/" + id},
		{"unknown", "nothing-here", http.StatusNotFound, ""},
		{"hostile", "<script>alert(1)</script>", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get(t, "/admin/search?q="+url.QueryEscape(tc.q), session)
			if w.Code != tc.code || w.Header().Get("Location") != tc.location {
				t.Errorf("search %q = %d to %q; want %d to %q", tc.q, w.Code, w.Header().Get("Location"), tc.code, tc.location)
			}
			checkEscaped(t, w.Body.String())
		})
	}
}

func TestAdminReferenceCandidates(t *testing.T) {
	for _, tc := range []struct {
		q     string
		first string
	}{
		{seedRID, seedRID},
		{"Reference: " + seedRID + "Time (UTC): 2026", seedRID},
		{"Referenz: " + seedRID + "Datum (UTC)", seedRID},
		{"my-ref_1.2", "my-ref_1.2"},
	} {
		got := admin.ReferenceCandidates(tc.q)
		if len(got) == 0 || got[0] != tc.first {
			t.Errorf("ReferenceCandidates(%q) = %q; want %q first", tc.q, got, tc.first)
		}
	}
	if got := admin.ReferenceCandidates(strings.Repeat("a1 ", 100)); len(got) > 8 {
		t.Errorf("ReferenceCandidates(long) = %d candidates; want at most 8", len(got))
	}
}

func TestAdminChecklistOrder(t *testing.T) {
	all := admin.Checklist(nginxlog.CategoryUnknown)
	for _, tc := range []struct {
		cat   nginxlog.Category
		first string
	}{
		{nginxlog.CategoryOverload, "upstream"},
		{nginxlog.CategoryNetwork, "network"},
		{nginxlog.CategoryUpstreamDown, "upstream"},
		{nginxlog.CategoryFirewall, "network"},
		{nginxlog.CategoryMisconfiguration, "config"},
		{nginxlog.CategoryDNS, "dns"},
		{nginxlog.CategoryAppError, "logs"},
		{nginxlog.CategoryUnknown, "logs"},
	} {
		got := admin.Checklist(tc.cat)
		if len(got) == 0 || got[0] != tc.first {
			t.Errorf("Checklist(%s) = %v; want %q first", tc.cat, got, tc.first)
		}
		// Every cause keeps every step: a derived cause can be wrong.
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(all))) {
			t.Errorf("Checklist(%s) = %v; want a permutation of %v", tc.cat, got, all)
		}
	}
}

func TestAdminCauseCategory(t *testing.T) {
	line := func(s string) []nginxlog.Entry { return []nginxlog.Entry{mustLogLine(t, s)} }
	permission := `2026/11/22 09:29:14 [crit] 12#12: *17 connect() to 127.0.0.1:9 failed (13: Permission denied) while connecting to upstream, client: 10.0.0.1, server: x, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:9/", host: "x"`
	for _, tc := range []struct {
		name  string
		cause incident.Cause
		logs  []nginxlog.Entry
		want  nginxlog.Category
	}{
		{"probe refused", incident.Cause{Source: incident.SourceProbe, Class: "refused"}, nil, nginxlog.CategoryUpstreamDown},
		{"probe wins over log", incident.Cause{Source: incident.SourceProbe, Class: "dns_failure"}, line(refusedLog), nginxlog.CategoryDNS},
		{"probe bad_response is protocol", incident.Cause{Source: incident.SourceProbe, Class: "bad_response"}, nil, nginxlog.CategoryMisconfiguration},
		{"nginx bad_response is a crash", incident.Cause{Source: incident.SourceNginxVar, Class: incident.ClassBadResponse}, nil, nginxlog.CategoryAppError},
		{"log refines nginx var", incident.Cause{Source: incident.SourceNginxVar, Class: incident.ClassConnectFailed}, line(permission), nginxlog.CategoryFirewall},
		{"read timeout", incident.Cause{Source: incident.SourceNginxVar, Class: incident.ClassReadTimeout}, nil, nginxlog.CategoryOverload},
		{"log evidence", incident.Cause{Source: incident.SourceNginxLog, Class: incident.ClassUnknown, Evidence: permission}, nil, nginxlog.CategoryFirewall},
		{"nothing", incident.Cause{}, nil, nginxlog.CategoryUnknown},
	} {
		if got := admin.CauseCategory(tc.cause, tc.logs); got != tc.want {
			t.Errorf("CauseCategory(%s) = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestAdminStaffLanguage(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	for _, tc := range []struct {
		accept, lang, dir, heading string
	}{
		{"", "en", "ltr", "Sites and upstreams"},
		{"de-DE,de;q=0.9", "de", "ltr", "Websites und Upstreams"},
		{"ar", "ar", "rtl", "المواقع والخوادم الخلفية"},
		{"he-IL", "he", "rtl", "אתרים ושרתי upstream"},
		{"xx", "en", "ltr", "Sites and upstreams"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			w := e.get(t, "/admin/", session, "Accept-Language", tc.accept)
			d := parseDoc(t, w.Body.String())
			html := d.Find("html")
			if html.AttrOr("lang", "") != tc.lang || html.AttrOr("dir", "") != tc.dir {
				t.Errorf("Accept-Language %q: <html lang=%q dir=%q>; want %q %q", tc.accept, html.AttrOr("lang", ""), html.AttrOr("dir", ""), tc.lang, tc.dir)
			}
			if got := d.Find("h1").First().Text(); got != tc.heading {
				t.Errorf("Accept-Language %q: heading %q; want %q", tc.accept, got, tc.heading)
			}
		})
	}
}

func TestAdminStoreDown(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	if w := e.get(t, "/readyz", nil); w.Code != http.StatusOK {
		t.Fatalf("GET /readyz = %d; want 200", w.Code)
	}
	e.store.Close()
	for _, target := range []string{"/readyz", "/admin/", "/admin/incidents/1", "/admin/r/" + seedRID, "/admin/api/v1/sites"} {
		if w := e.get(t, target, session); w.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s with the store down = %d; want 503", target, w.Code)
		}
	}
	if w := e.get(t, "/healthz", nil); w.Code != http.StatusOK {
		t.Errorf("GET /healthz with the store down = %d; want 200: the process is alive", w.Code)
	}
}

// TestAdminCountedReference: a request past store.event_rows_per_second
// has no record of its own; the staff link's site and time still lead to
// its incident.
func TestAdminCountedReference(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	const rid = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
	at := adminNow.Add(-90 * time.Second)
	if err := e.store.AddEvents(context.Background(), []incident.Event{{Time: at.Add(300 * time.Millisecond), Site: "shop",
		Upstream: "app", Host: "shop.example", Path: "/cart", Method: "GET", Code: 502, RequestID: rid, CountOnly: true}}); err != nil {
		t.Fatal(err)
	}
	stamp := url.QueryEscape(at.UTC().Format(time.RFC3339))
	w := e.get(t, "/admin/r/"+rid+"?site=shop&at="+stamp, session)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /admin/r/%s?site=shop&at=… = %d; want 200", rid, w.Code)
	}
	checkEscaped(t, w.Body.String())
	d := parseDoc(t, w.Body.String())
	if got := d.Find(`[data-testid=event-notice]`).Text(); !strings.Contains(got, "1000") {
		t.Errorf("notice = %q; want it to explain the row cap (1000/s)", got)
	}
	if got := d.Find(`[data-testid=permalink]`).Text(); got != "/admin/incidents/"+strconv.FormatInt(e.incID, 10) {
		t.Errorf("incident shown = %q; want shop/app's incident %d", got, e.incID)
	}
	for _, q := range []string{
		"",                                   // no site and time: not found, as before
		"?site=shop",                         // no time
		"?site=nope&at=" + stamp,             // a site the config does not name
		"?site=shop&at=2020-01-01T00:00:00Z", // no incident then
		"?site=shop&at=yesterday",
		"?site=shop&at=" + url.QueryEscape(adminNow.Add(-2*time.Second).UTC().Format(time.RFC3339)), // may still be on its way
	} {
		if w := e.get(t, "/admin/r/"+rid+q, session); w.Code != http.StatusNotFound {
			t.Errorf("GET /admin/r/%s%s = %d; want 404", rid, q, w.Code)
		}
	}
}

// TestAdminDashboardCountedRequests: errors and visitors counted without
// a row (past store.event_rows_per_second) still count exactly.
func TestAdminDashboardCountedRequests(t *testing.T) {
	e := mustAdmin(t)
	if err := e.store.AddEvents(context.Background(), []incident.Event{{Time: adminNow.Add(-30 * time.Second), Site: "shop",
		Upstream: "app", Host: "shop.example", Path: "/cart", Method: "GET", Code: 502, RequestID: "counted",
		VisitorHash: "v-new", CountOnly: true}}); err != nil {
		t.Fatal(err)
	}
	shop := parseDoc(t, e.get(t, "/admin/", e.login(t)).Body.String()).Find(`[data-testid=site][data-site=shop]`)
	if got := strings.TrimSpace(shop.Find(`[data-testid=site-errors]`).Text()); got != "3 / 4" {
		t.Errorf("shop errors 5m / 1h = %q; want 3 / 4, the counted request included", got)
	}
	if got := strings.TrimSpace(shop.Find(`[data-testid=site-visitors]`).Text()); got != "3 / 4" {
		t.Errorf("shop visitors 5m / 1h = %q; want 3 / 4, the counted visitor included", got)
	}
}
