package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/handlers/admin"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// TestSessionSharedThroughStore: a session made by one admin handler is
// valid on another on the same store (a second instance, or this one
// after a restart or reload), and a sign-out on either ends it on both.
func TestSessionSharedThroughStore(t *testing.T) {
	e := mustAdmin(t)
	session := e.login(t)
	other, err := admin.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	r := adminReq(http.MethodGet, "/admin/", nil)
	r.AddCookie(session)
	w := httptest.NewRecorder()
	other.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /admin/ on the other instance with the first one's session = %d; want 200", w.Code)
	}
	tok, _ := parseDoc(t, w.Body.String()).Find(`[data-testid=logout] input[name=csrf]`).Attr("value")
	r = adminReq(http.MethodPost, "/admin/logout", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
	r.AddCookie(session)
	w = httptest.NewRecorder()
	other.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("POST /admin/logout on the other instance = %d; want 303", w.Code)
	}
	if w := e.get(t, "/admin/", session); w.Code != http.StatusSeeOther {
		t.Errorf("GET /admin/ on the first instance after sign-out on the other = %d; want 303 to the sign-in form", w.Code)
	}
}

// TestStoredEvidenceDiagnoses: the nginx log line stored with an event
// (by whichever instance recorded it) refines the diagnosis on an
// instance whose own error.log index does not hold it, such as another
// instance or this one after a restart.
func TestStoredEvidenceDiagnoses(t *testing.T) {
	e := mustAdmin(t)
	permission := `2026/11/22 09:29:50 [crit] 12#12: *41 connect() to 127.0.0.1:9 failed (13: Permission denied) while connecting to upstream, client: 10.0.0.1, server: x, request: "GET /pay HTTP/1.1", upstream: "http://127.0.0.1:9/pay", host: "x"`
	ev := incident.Event{Time: adminNow.Add(-20 * time.Second), Site: "stored", Upstream: "app", Host: "stored.example",
		Path: "/pay", Method: "GET", Code: 502, RequestID: "stored-evidence", NginxConn: 41, UpstreamAddr: "127.0.0.1:9",
		UpstreamStatus: "502", UpstreamConnectTime: "-", NginxLog: permission}
	if err := e.store.AddEvents(context.Background(), []incident.Event{ev}); err != nil {
		t.Fatal(err)
	}
	w := e.get(t, "/admin/r/stored-evidence", e.login(t))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /admin/r/stored-evidence = %d; want 200", w.Code)
	}
	cat, _ := parseDoc(t, w.Body.String()).Find(`[data-testid=cause]`).Attr("data-category")
	if want := string(nginxlog.CategoryFirewall); cat != want {
		t.Errorf("diagnosis from the stored log line = %q; want %q", cat, want)
	}
}
