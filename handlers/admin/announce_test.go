package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/notify"
)

type fakeNotify struct{ stats []notify.TargetStats }

func (f *fakeNotify) Stats() []notify.TargetStats { return f.stats }

func apiJSON(method, target, body string) *http.Request {
	r := adminReq(method, target, nil)
	if body != "" {
		r = adminReq(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.SetBasicAuth(adminUser, adminPassword)
	return r
}

func TestAnnouncementAPI(t *testing.T) {
	e := mustAdmin(t)
	until := adminNow.Add(time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"unknown site", `{"site":"nope","text":"x","until":"` + until + `"}`, http.StatusUnprocessableEntity},
		{"unknown upstream", `{"site":"shop","upstream":"nope","text":"x","until":"` + until + `"}`, http.StatusUnprocessableEntity},
		{"empty text", `{"site":"shop","text":"  ","until":"` + until + `"}`, http.StatusUnprocessableEntity},
		{"too long", `{"site":"shop","text":"` + strings.Repeat("a", 501) + `","until":"` + until + `"}`, http.StatusUnprocessableEntity},
		{"past end", `{"site":"shop","text":"x","until":"2020-01-01T00:00:00Z"}`, http.StatusUnprocessableEntity},
		{"far end", `{"site":"shop","text":"x","until":"` + adminNow.Add(40*24*time.Hour).Format(time.RFC3339) + `"}`, http.StatusUnprocessableEntity},
		{"unknown field", `{"site":"shop","text":"x","until":"` + until + `","x":1}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := e.do(apiJSON(http.MethodPost, "/admin/api/v1/announcements", tc.body)); w.Code != tc.want {
				t.Errorf("POST = %d; want %d\n%s", w.Code, tc.want, w.Body)
			}
		})
	}

	// A form post (what a cross-site page could send) is refused.
	r := adminReq(http.MethodPost, "/admin/api/v1/announcements", strings.NewReader(`{"site":"shop","text":"x","until":"`+until+`"}`))
	r.Header.Set("Content-Type", "text/plain")
	r.SetBasicAuth(adminUser, adminPassword)
	if w := e.do(r); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain POST = %d; want 415", w.Code)
	}
	// Without credentials: 401.
	r = adminReq(http.MethodPost, "/admin/api/v1/announcements", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	if w := e.do(r); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous POST = %d; want 401", w.Code)
	}

	w := e.do(apiJSON(http.MethodPost, "/admin/api/v1/announcements", `{"site":"shop","upstream":"app","text":"DB upgrade <b>","until":"`+until+`"}`))
	var created struct {
		ID     int64
		Author string
		Lang   string
		Active bool
	}
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &created) != nil || created.ID == 0 || created.Author != adminUser || created.Lang != "en" || !created.Active {
		t.Fatalf("POST = %d %s; want 201 with an id, the author and the default language", w.Code, w.Body)
	}
	w = e.do(apiJSON(http.MethodGet, "/admin/api/v1/announcements?site=shop", ""))
	if !strings.Contains(w.Body.String(), `"text":"DB upgrade \u003cb\u003e"`) {
		t.Errorf("GET = %s; want the announcement, escaped", w.Body)
	}
	// It is in the open incident's timeline.
	w = e.do(apiJSON(http.MethodGet, "/admin/api/v1/incidents/"+itoa(e.incID), ""))
	var inc struct {
		Timeline []struct{ Kind, Detail string }
	}
	if json.Unmarshal(w.Body.Bytes(), &inc); len(inc.Timeline) < 2 || inc.Timeline[0].Kind != "opened" || inc.Timeline[len(inc.Timeline)-1].Kind != "announcement" {
		t.Errorf("incident timeline = %+v; want opened … announcement", inc.Timeline)
	}
	if w := e.do(apiJSON(http.MethodDelete, "/admin/api/v1/announcements/"+itoa(created.ID), "")); w.Code != http.StatusNoContent {
		t.Errorf("DELETE = %d; want 204", w.Code)
	}
	if w := e.do(apiJSON(http.MethodDelete, "/admin/api/v1/announcements/999999", "")); w.Code != http.StatusNotFound {
		t.Errorf("DELETE unknown = %d; want 404", w.Code)
	}
	w = e.do(apiJSON(http.MethodGet, "/admin/api/v1/announcements", ""))
	if !strings.Contains(w.Body.String(), `"active":false`) {
		t.Errorf("GET after DELETE = %s; want it listed as ended", w.Body)
	}
}

func itoa(n int64) string { return jsonInt(n) }

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestAnnouncementForm(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	w := e.get(t, "/admin/announcements", session)
	d := parseDoc(t, w.Body.String())
	tok, _ := d.Find(`[data-testid=announce-form] input[name=csrf]`).Attr("value")
	if w.Code != http.StatusOK || tok == "" || d.Find(`select[name=target] option[value="shop/app"]`).Length() != 1 {
		t.Fatalf("GET /admin/announcements = %d (token %q); want the form with shop/app", w.Code, tok)
	}
	post := func(form url.Values) int {
		r := adminReq(http.MethodPost, "/admin/announcements", strings.NewReader(form.Encode()))
		return e.do(r, session).Code
	}
	until := adminNow.Add(time.Hour).Format("2006-01-02T15:04")
	if code := post(url.Values{"target": {"shop"}, "text": {"hi"}, "until": {until}}); code != http.StatusForbidden {
		t.Errorf("POST without CSRF = %d; want 403", code)
	}
	if code := post(url.Values{"csrf": {tok}, "target": {"shop"}, "text": {"hi"}, "until": {"2001-01-01T00:00"}}); code != http.StatusBadRequest {
		t.Errorf("POST with a past end = %d; want 400", code)
	}
	if code := post(url.Values{"csrf": {tok}, "target": {"shop"}, "text": {"<script>x</script> back soon"}, "until": {until}, "lang": {"de"}}); code != http.StatusSeeOther {
		t.Fatalf("POST = %d; want 303", code)
	}
	w = e.get(t, "/admin/announcements", session)
	d = parseDoc(t, w.Body.String())
	item := d.Find(`[data-testid=announce-list] [data-announcement]`)
	if item.Length() != 1 || !strings.Contains(item.Find(".text").Text(), "<script>x</script> back soon") || item.Find(".text").AttrOr("lang", "") != "de" {
		t.Fatalf("list = %q; want the announcement as text, lang de", item.Text())
	}
	if strings.Contains(w.Body.String(), "<script>x") {
		t.Errorf("announcement text is live markup on the admin page")
	}
	end, _ := item.Find(`form`).Attr("action")
	r := adminReq(http.MethodPost, end, strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
	if w := e.do(r, session); w.Code != http.StatusSeeOther {
		t.Errorf("POST %s = %d; want 303", end, w.Code)
	}
	if n := parseDoc(t, e.get(t, "/admin/announcements", session).Body.String()).Find(`[data-testid=announce-list] [data-announcement]`).Length(); n != 0 {
		t.Errorf("after ending it, %d announcements listed", n)
	}
}

func TestDashboardShowsNotifyFailures(t *testing.T) {
	e := mustAdmin(t)
	e.deps.Notify.(*fakeNotify).stats = []notify.TargetStats{{Name: "webhook hooks.example", Sent: 3, Failed: 1, LastError: "answered 500", LastErrAt: adminNow}}
	w := e.get(t, "/admin/", e.login(t))
	got := parseDoc(t, w.Body.String()).Find(`[data-testid=notify]`).Text()
	if !strings.Contains(got, "webhook hooks.example: 3 sent, 1 failed, 0 dropped") || !strings.Contains(got, "answered 500") {
		t.Errorf("dashboard notify block = %q", got)
	}
}
