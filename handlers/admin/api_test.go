package admin_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// decodeJSON checks an API answer's headers and decodes its body.
func decodeJSON(t *testing.T, w interface {
	Header() http.Header
}, body string, v any) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func TestAdminAPISites(t *testing.T) {
	e := mustAdmin(t)
	w := e.get(t, "/admin/api/v1/sites", e.login(t))
	if w.Code != http.StatusOK {
		t.Fatalf("GET sites = %d; want 200", w.Code)
	}
	var got struct {
		Sites []struct {
			Site    string `json:"site"`
			Verdict string `json:"verdict"`
			Counts  struct {
				Errors5m   int `json:"errors_5m"`
				Errors1h   int `json:"errors_1h"`
				Visitors5m int `json:"visitors_5m"`
				Visitors1h int `json:"visitors_1h"`
			} `json:"counts"`
			ErrorsPerMinute []int `json:"errors_per_minute"`
			Upstreams       []struct {
				Name         string `json:"name"`
				State        string `json:"state"`
				Category     string `json:"category"`
				OpenIncident *int64 `json:"open_incident"`
				LastCheck    *struct {
					Class  string `json:"class"`
					Stages []struct {
						Name       string  `json:"name"`
						DurationMS float64 `json:"duration_ms"`
						OK         bool    `json:"ok"`
						Error      string  `json:"error"`
					} `json:"stages"`
				} `json:"last_check"`
			} `json:"upstreams"`
		} `json:"sites"`
	}
	decodeJSON(t, w, w.Body.String(), &got)
	if len(got.Sites) != 2 || got.Sites[0].Site != "shop" {
		t.Fatalf("sites = %+v; want shop and blog, in config order", got.Sites)
	}
	shop := got.Sites[0]
	if shop.Verdict != "down_for_everyone" || shop.Counts.Errors5m != 2 || shop.Counts.Errors1h != 3 || shop.Counts.Visitors1h != 3 {
		t.Errorf("shop = %+v; want down_for_everyone with 2/3 errors, 3 visitors in the hour", shop)
	}
	if len(shop.ErrorsPerMinute) != 60 {
		t.Errorf("errors_per_minute has %d buckets; want 60", len(shop.ErrorsPerMinute))
	}
	if len(shop.Upstreams) != 1 {
		t.Fatalf("shop upstreams = %+v; want app", shop.Upstreams)
	}
	app := shop.Upstreams[0]
	if app.State != "down" || app.Category != "upstream_down" || app.OpenIncident == nil || *app.OpenIncident != e.incID {
		t.Errorf("app = %+v; want down, upstream_down, open incident %d", app, e.incID)
	}
	if app.LastCheck == nil || app.LastCheck.Class != "refused" || len(app.LastCheck.Stages) != 2 ||
		app.LastCheck.Stages[1].DurationMS != 1.5 || app.LastCheck.Stages[1].OK || app.LastCheck.Stages[1].Error == "" {
		t.Errorf("app last check = %+v; want refused with a failed 1.5 ms connect stage", app.LastCheck)
	}
}

func TestAdminAPIIncidents(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	for _, tc := range []struct {
		query string
		code  int
		ids   int
	}{
		{"", http.StatusOK, 2},
		{"?open=true", http.StatusOK, 1},
		{"?open=false", http.StatusOK, 1},
		{"?site=blog", http.StatusOK, 1},
		{"?limit=1", http.StatusOK, 1},
		{"?open=maybe", http.StatusBadRequest, 0},
		{"?limit=0", http.StatusBadRequest, 0},
		{"?limit=x", http.StatusBadRequest, 0},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := e.get(t, "/admin/api/v1/incidents"+tc.query, session)
			if w.Code != tc.code {
				t.Fatalf("GET incidents%s = %d; want %d", tc.query, w.Code, tc.code)
			}
			if tc.code != http.StatusOK {
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("error Content-Type = %q; want application/problem+json", ct)
				}
				return
			}
			var got struct {
				Incidents []struct {
					ID int64 `json:"id"`
				} `json:"incidents"`
			}
			decodeJSON(t, w, w.Body.String(), &got)
			if len(got.Incidents) != tc.ids {
				t.Errorf("GET incidents%s = %d incidents; want %d", tc.query, len(got.Incidents), tc.ids)
			}
		})
	}
}

func TestAdminAPIIncident(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	w := e.get(t, "/admin/api/v1/incidents/"+strconv.FormatInt(e.incID, 10), session)
	if w.Code != http.StatusOK {
		t.Fatalf("GET incident = %d; want 200", w.Code)
	}
	body := w.Body.String()
	if strings.Contains(body, "<script>") {
		t.Error("JSON carries <script> unescaped; encoding/json should have escaped it")
	}
	var got struct {
		Incident struct {
			ID       int64            `json:"id"`
			Open     bool             `json:"open"`
			Category string           `json:"category"`
			Codes    map[string]int64 `json:"codes"`
			TopPaths []struct {
				Key string `json:"key"`
			} `json:"top_paths"`
		} `json:"incident"`
		Checklist []string `json:"checklist"`
		LogLines  []string `json:"log_lines"`
		Events    []struct {
			RequestID string `json:"request_id"`
			Path      string `json:"path"`
		} `json:"events"`
	}
	decodeJSON(t, w, body, &got)
	if got.Incident.ID != e.incID || !got.Incident.Open || got.Incident.Category != "upstream_down" || got.Incident.Codes["502"] != 3 {
		t.Errorf("incident = %+v; want open, upstream_down, 502 × 3", got.Incident)
	}
	if len(got.Checklist) != 6 || got.Checklist[0] != "upstream" {
		t.Errorf("checklist = %v; want 6 steps, the upstream first", got.Checklist)
	}
	if len(got.LogLines) != 2 {
		t.Errorf("log_lines = %q; want the two matched lines", got.LogLines)
	}
	var paths []string
	for _, p := range got.Incident.TopPaths {
		paths = append(paths, p.Key)
	}
	if !strings.Contains(strings.Join(paths, "\n"), hostilePath) {
		t.Errorf("top_paths = %q; want the hostile path verbatim", paths)
	}
	if len(got.Events) != 3 || got.Events[0].RequestID != seedRID {
		t.Errorf("events = %+v; want 3, newest first", got.Events)
	}
	for _, target := range []string{"/admin/api/v1/incidents/999", "/admin/api/v1/incidents/99999999999999999999999"} {
		if w := e.get(t, target, session); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", target, w.Code)
		}
	}
}

func TestAdminAPIEvent(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	w := e.get(t, "/admin/api/v1/events/"+seedRID, session)
	if w.Code != http.StatusOK {
		t.Fatalf("GET event = %d; want 200", w.Code)
	}
	var got struct {
		Event struct {
			RequestID    string `json:"request_id"`
			UpstreamAddr string `json:"upstream_addr"`
			IncidentID   int64  `json:"incident_id"`
			URL          string `json:"url"`
		} `json:"event"`
		LogLines []string `json:"log_lines"`
		Incident *struct {
			Incident struct {
				ID int64 `json:"id"`
			} `json:"incident"`
		} `json:"incident"`
	}
	decodeJSON(t, w, w.Body.String(), &got)
	if got.Event.RequestID != seedRID || got.Event.UpstreamAddr != "127.0.0.1:9" || got.Event.URL != "/admin/r/"+seedRID {
		t.Errorf("event = %+v; want the seeded request", got.Event)
	}
	if len(got.LogLines) != 1 || !strings.Contains(got.LogLines[0], "*17 ") {
		t.Errorf("log_lines = %q; want connection 17's line", got.LogLines)
	}
	if got.Incident == nil || got.Incident.Incident.ID != e.incID {
		t.Errorf("incident = %+v; want %d", got.Incident, e.incID)
	}
	if w := e.get(t, "/admin/api/v1/events/nope", session); w.Code != http.StatusNotFound {
		t.Errorf("GET unknown event = %d; want 404", w.Code)
	}
}

func TestAdminAPIBasicAuth(t *testing.T) {
	e := mustAdmin(t)
	for _, tc := range []struct {
		name, target, user, password string
		want                         int
	}{
		{"API", "/admin/api/v1/sites", adminUser, adminPassword, http.StatusOK},
		{"metrics", "/metrics", adminUser, adminPassword, http.StatusOK},
		{"wrong password", "/admin/api/v1/sites", adminUser, "nope", http.StatusUnauthorized},
		{"unknown user", "/metrics", "root", adminPassword, http.StatusUnauthorized},
		// Pages take a session, not Basic credentials: a browser would
		// otherwise keep them and send them to every page.
		{"page", "/admin/", adminUser, adminPassword, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := adminReq(http.MethodGet, tc.target, nil)
			r.SetBasicAuth(tc.user, tc.password)
			w := e.do(r)
			if w.Code != tc.want {
				t.Fatalf("GET %s with Basic %s = %d; want %d", tc.target, tc.user, w.Code, tc.want)
			}
			if tc.target == "/metrics" && tc.want == http.StatusOK && !strings.Contains(w.Body.String(), "gatewatch_test_total") {
				t.Error("/metrics does not publish the gatherer's metrics")
			}
		})
	}
}

func TestAdminHealth(t *testing.T) {
	e := mustAdmin(t)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		for _, target := range []string{"/healthz", "/readyz"} {
			w := e.do(adminReq(m, target, nil))
			if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s = %d (Cache-Control %q); want 200, no-store", m, target, w.Code, w.Header().Get("Cache-Control"))
			}
		}
	}
	if w := e.do(adminReq(http.MethodPost, "/healthz", nil)); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d; want 405", w.Code)
	}
	if w := e.do(adminReq(http.MethodGet, "/nope", nil)); w.Code != http.StatusNotFound {
		t.Errorf("GET /nope = %d; want 404", w.Code)
	}
	// The public listener's paths do not exist here.
	if w := e.do(adminReq(http.MethodGet, "/_gatewatch/api/v1/status?site=shop", nil)); w.Code != http.StatusNotFound {
		t.Errorf("GET /_gatewatch/api/v1/status on the admin listener = %d; want 404", w.Code)
	}
}
