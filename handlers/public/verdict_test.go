package public_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

// upView is a view of an upstream whose check passed at started.
func upView(started time.Time) monitor.UpstreamView {
	return monitor.UpstreamView{Probe: cause.ProbeUp, Class: probe.ClassOK, Pending: true, Started: started, CheckedAt: started,
		Window: 5 * time.Minute, RetryAfter: 30 * time.Second}
}

// nginx's variables for the usual failures, as the include passes them.
var (
	varsRefused = map[string]string{"X-Upstream-Addr": "127.0.0.1:9001", "X-Upstream-Status": "502", "X-Upstream-Connect-Time": "-"}
	varsApp500  = map[string]string{"X-Code": "500", "X-Upstream-Addr": "127.0.0.1:9002", "X-Upstream-Status": "500", "X-Upstream-Connect-Time": "0.001"}
	varsTimeout = map[string]string{"X-Code": "504", "X-Upstream-Addr": "127.0.0.1:9002", "X-Upstream-Status": "504", "X-Upstream-Connect-Time": "0.001"}
	varsMaint   = map[string]string{"X-Code": "503", "X-Upstream-Addr": "127.0.0.1:9002", "X-Upstream-Status": "503", "X-Upstream-Connect-Time": "0.001", "X-Upstream-Retry-After": "120"}
)

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestVerdictPerRequest(t *testing.T) {
	fresh := upView(testTime.Add(time.Millisecond)) // a check after the failure passed
	stale := upView(testTime.Add(-10 * time.Second))
	down := monitor.UpstreamView{Probe: cause.ProbeDown, Class: probe.ClassRefused, Pending: true, Started: testTime.Add(time.Millisecond), Window: 5 * time.Minute, RetryAfter: 5 * time.Second}
	for _, tc := range []struct {
		name        string
		hdr         map[string]string
		view        monitor.UpstreamView
		fresh       *monitor.UpstreamView
		state       string
		firstStep   string
		retryAfter  string
		waited      bool
		noHardRetry bool
	}{
		{"app error while the check passes", varsApp500, fresh, nil, "app_error", "retry", "", false, false},
		{"timeout of a slow page", varsTimeout, fresh, nil, "overloaded", "later", "15", false, false},
		{"maintenance honours the app's Retry-After", varsMaint, fresh, nil, "maintenance", "later", "120", false, false},
		{"refused, the check agrees", varsRefused, down, nil, "down_for_everyone", "later", "5", false, false},
		{"refused, cache stale, the fresh check finds it down", varsRefused, stale, &down, "down_for_everyone", "later", "5", true, false},
		{"refused, cache stale, no check in time", varsRefused, stale, nil, "checking", "retry", "2", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServer(t)
			s.status.set(tc.view)
			s.status.fresh = tc.fresh
			s.status.upstream = "app"
			w := s.do(nginxReq("GET", "/cart", with(tc.hdr, "X-Original-Uri", "/cart")))
			d := doc(t, w)
			if got, _ := d.Find("[data-testid=verdict]").Attr("data-state"); got != tc.state {
				t.Errorf("verdict = %q; want %q", got, tc.state)
			}
			if got, _ := d.Find("[data-step]").First().Attr("data-step"); got != tc.firstStep {
				t.Errorf("first step = %q; want %q", got, tc.firstStep)
			}
			if tc.retryAfter != "" && w.Header().Get("Retry-After") != tc.retryAfter {
				t.Errorf("Retry-After = %q; want %q", w.Header().Get("Retry-After"), tc.retryAfter)
			}
			if got := s.status.waited > 0; got != tc.waited {
				t.Errorf("waited for a fresh check = %v; want %v", got, tc.waited)
			}
			poll, _ := d.Find("#gw").Attr("data-status-url")
			u, err := url.Parse(poll)
			if err != nil || u.Query().Get("upstream") != "app" || u.Query().Get("at") != "1795339815000" {
				t.Errorf("data-status-url = %q; want the failing upstream and the failure time", poll)
			}
		})
	}
}

func TestMaintenanceRetryAfterInEveryFormat(t *testing.T) {
	s := mustServer(t)
	s.status.set(upView(testTime.Add(time.Millisecond)))
	r := nginxReq("GET", "/", varsMaint)
	r.Header.Set("Accept", "application/problem+json")
	w := s.do(r)
	var pr struct {
		RetryAfter int    `json:"retry_after"`
		Verdict    string `json:"verdict"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &pr); err != nil {
		t.Fatal(err)
	}
	if pr.RetryAfter != 120 || pr.Verdict != "maintenance" || w.Header().Get("Retry-After") != "120" {
		t.Errorf("problem = %+v, Retry-After %q; want 120 and maintenance", pr, w.Header().Get("Retry-After"))
	}
	d := doc(t, s.do(nginxReq("GET", "/", varsMaint)))
	if got, _ := d.Find("#gw").Attr("data-retry-after"); got != "120" {
		t.Errorf("data-retry-after = %q; want 120", got)
	}
}

// TestFailedPostWarnsWithoutScripts: the page of a failed form submission
// says so in its HTML, offers no hard refresh (which resends the form),
// and its "Try again" is a plain link (a GET).
func TestFailedPostWarnsWithoutScripts(t *testing.T) {
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		s := mustServer(t)
		s.status.set(upView(testTime.Add(time.Millisecond)))
		d := doc(t, s.do(nginxReq("GET", "/checkout", with(varsRefused, "X-Original-Method", method, "X-Original-Uri", "/checkout"))))
		if d.Find("[data-testid=post-warning]").Length() != 1 {
			t.Errorf("%s: no submission warning", method)
		}
		if d.Find("[data-step=hard-refresh]").Length() != 0 {
			t.Errorf("%s: offers a hard refresh, which resubmits", method)
		}
		if href, _ := d.Find("[data-step=retry] a").Attr("href"); href != "/checkout" {
			t.Errorf("%s: try again = %q; want a link to /checkout", method, href)
		}
		if d.Find("form[method=post]").FilterFunction(func(_ int, f *goquery.Selection) bool { a, _ := f.Attr("action"); return a == "/checkout" }).Length() != 0 {
			t.Errorf("%s: a form posts to the failed address", method)
		}
	}
	s := mustServer(t)
	d := doc(t, s.do(nginxReq("GET", "/", varsRefused)))
	if d.Find("[data-testid=post-warning]").Length() != 0 {
		t.Error("a GET shows the submission warning")
	}
}

// TestStatusAPIReloadsOnlyOnEvidence: the status API tells a page to
// reload only when a check made after its failure passed, never for an
// application error; a stale check means checking.
func TestStatusAPIReloadsOnlyOnEvidence(t *testing.T) {
	at := testTime.Add(-2 * time.Second)
	for _, tc := range []struct {
		name    string
		query   string
		view    monitor.UpstreamView
		verdict string
		reload  bool
	}{
		{"refused, fresh check passes", "kind=unreachable", upView(at.Add(time.Second)), "recovering", true},
		{"refused, check older than the failure", "kind=unreachable", upView(at.Add(-time.Second)), "checking", false},
		{"app error, fresh check passes", "kind=app_error", upView(at.Add(time.Second)), "app_error", false},
		{"maintenance window not over", "kind=maintenance&ra=120", upView(at.Add(time.Second)), "maintenance", false},
		{"maintenance window over", "kind=maintenance&ra=1", upView(at.Add(time.Second)), "recovering", true},
		{"made-up kind", "kind=bogus", upView(at.Add(time.Second)), "not_everyone", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServer(t)
			s.status.set(tc.view)
			q := "/_gatewatch/api/v1/status?site=shop&upstream=app&lang=en&at=" + strconv.FormatInt(at.UnixMilli(), 10) + "&" + tc.query
			w := httptest.NewRecorder()
			s.h.ServeHTTP(w, httptest.NewRequest("GET", q, nil))
			var st struct {
				Verdict  string `json:"verdict"`
				Reload   bool   `json:"reload"`
				Upstream string `json:"upstream"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatalf("%s: %v", w.Body, err)
			}
			if st.Verdict != tc.verdict || st.Reload != tc.reload || st.Upstream != "app" {
				t.Errorf("status = %+v; want %s reload %v upstream app", st, tc.verdict, tc.reload)
			}
		})
	}
	// An upstream the site does not configure is the site as a whole.
	s := mustServer(t)
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, httptest.NewRequest("GET", "/_gatewatch/api/v1/status?site=shop&upstream=%3Cx%3E&lang=en", nil))
	if strings.Contains(w.Body.String(), "<x>") || strings.Contains(w.Body.String(), `"upstream"`) {
		t.Errorf("unknown upstream echoed: %s", w.Body)
	}
}
