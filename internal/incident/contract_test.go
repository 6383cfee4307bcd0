package incident_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// opener opens another Store on the same database; each call is a separate
// instance, as a second gatewatch process would have.
type opener func(t *testing.T) incident.Store

// newDatabase returns an opener for a fresh, empty database.
type newDatabase func(t *testing.T) opener

// t0 has microseconds, the precision both databases keep.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ev(site, upstream string, at time.Duration, rid string) incident.Event {
	return incident.Event{
		Time: t0.Add(at), Site: site, Upstream: upstream, Host: site + ".example", Path: "/",
		Method: "GET", Code: 502, RequestID: rid, Locale: "en", VisitorHash: "v-" + rid, Browser: "Firefox",
	}
}

func mustAdd(t *testing.T, s incident.Store, events ...incident.Event) []incident.Event {
	t.Helper()
	if err := s.AddEvents(ctxT(t), events); err != nil {
		t.Fatalf("AddEvents(%d events): %v", len(events), err)
	}
	return events
}

func mustIncident(t *testing.T, s incident.Store, id int64) incident.Incident {
	t.Helper()
	in, err := s.Incident(ctxT(t), id)
	if err != nil {
		t.Fatalf("Incident(%d): %v", id, err)
	}
	return in
}

// testStore is the contract every Store adapter passes.
func testStore(t *testing.T, newDB newDatabase) {
	t.Run("GroupsEventsIntoIncidents", func(t *testing.T) { testGrouping(t, newDB(t)(t)) })
	t.Run("CausePrecedence", func(t *testing.T) { testCausePrecedence(t, newDB(t)(t)) })
	t.Run("CloseAfterQuietPeriod", func(t *testing.T) { testClose(t, newDB(t)(t)) })
	t.Run("LookupEvents", func(t *testing.T) { testLookup(t, newDB(t)(t)) })
	t.Run("Series", func(t *testing.T) { testSeries(t, newDB(t)(t)) })
	t.Run("CountOnlyEvents", func(t *testing.T) { testCountOnly(t, newDB(t)(t)) })
	t.Run("RowAfterCount", func(t *testing.T) { testRowAfterCount(t, newDB(t)(t)) })
	t.Run("RecorderFlood", func(t *testing.T) { testRecorderFlood(t, newDB(t)(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, newDB(t)(t)) })
	t.Run("ListFilters", func(t *testing.T) { testList(t, newDB(t)(t)) })
	t.Run("ConcurrentInstances", func(t *testing.T) { testConcurrent(t, newDB(t)) })
	t.Run("ReopenKeepsData", func(t *testing.T) { testReopen(t, newDB(t)) })
	t.Run("NoticesAndTimeline", func(t *testing.T) { testNotices(t, newDB(t)) })
	t.Run("SharedState", func(t *testing.T) { testSharedState(t, newDB(t)) })
	t.Run("SiteVisitors", func(t *testing.T) { testSiteVisitors(t, newDB(t)) })
	t.Run("Crowd", func(t *testing.T) { testCrowd(t, newDB(t)) })
	t.Run("LoginLimits", func(t *testing.T) { testLoginLimits(t, newDB(t)) })
}

func testGrouping(t *testing.T, s incident.Store) {
	a1 := ev("shop", "app", 0, "r1")
	a1.Path, a1.Locale, a1.VisitorHash = "/cart", "de", "alice"
	a2 := ev("shop", "app", 2*time.Second, "r2")
	a2.Path, a2.Code, a2.Locale, a2.VisitorHash = "/cart", 504, "de", "alice"
	a3 := ev("shop", "app", time.Second, "r3")
	a3.Path, a3.Locale, a3.VisitorHash = "/", "en", "bob"
	other := ev("shop", "api", 0, "r4")
	elsewhere := ev("blog", "app", 0, "r5")
	batch := mustAdd(t, s, a1, a2, a3, other, elsewhere)

	id := batch[0].IncidentID
	if id == 0 || batch[1].IncidentID != id || batch[2].IncidentID != id {
		t.Fatalf("IncidentIDs of one site/upstream = %d, %d, %d; want one non-zero id",
			batch[0].IncidentID, batch[1].IncidentID, batch[2].IncidentID)
	}
	if batch[3].IncidentID == id || batch[4].IncidentID == id || batch[3].IncidentID == batch[4].IncidentID {
		t.Fatalf("IncidentIDs of other groups = %d, %d; want distinct from %d and each other",
			batch[3].IncidentID, batch[4].IncidentID, id)
	}

	// A second batch joins the open incident; alice is not a new visitor.
	a4 := ev("shop", "app", 5*time.Second, "r6")
	a4.Path, a4.Locale, a4.VisitorHash = "/cart", "de", "alice"
	a5 := ev("shop", "app", 4*time.Second, "r7")
	a5.Path, a5.Locale, a5.VisitorHash = "/login", "fr", "carol"
	mustAdd(t, s, a4, a5)

	got := mustIncident(t, s, id)
	want := incident.Incident{
		ID: id, Site: "shop", Upstream: "app",
		OpenedAt: t0, LastSeen: t0.Add(5 * time.Second),
		Requests: 5, Visitors: 3,
		Codes:    map[int]int64{502: 4, 504: 1},
		TopPaths: []incident.Count{{Key: "/cart", N: 3}, {Key: "/", N: 1}, {Key: "/login", N: 1}},
		Locales:  []incident.Count{{Key: "de", N: 3}, {Key: "en", N: 1}, {Key: "fr", N: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Incident(%d) =\n%+v\nwant\n%+v", id, got, want)
	}
	if !got.Open() {
		t.Errorf("Incident(%d).Open() = false; want true", id)
	}

	// An event earlier than the first one seen moves OpenedAt back: events
	// reach the store late, in batches, from several instances.
	early := ev("shop", "app", -time.Minute, "r8")
	mustAdd(t, s, early)
	if got := mustIncident(t, s, id); !got.OpenedAt.Equal(t0.Add(-time.Minute)) || !got.LastSeen.Equal(t0.Add(5*time.Second)) {
		t.Errorf("after an earlier event, OpenedAt, LastSeen = %v, %v; want %v, %v",
			got.OpenedAt, got.LastSeen, t0.Add(-time.Minute), t0.Add(5*time.Second))
	}

	// Only the top paths are kept in an Incident.
	var many []incident.Event
	for i := range incident.TopPathsLimit + 5 {
		for j := 0; j <= i; j++ {
			e := ev("wiki", "app", time.Duration(i)*time.Millisecond, fmt.Sprintf("w%d-%d", i, j))
			e.Path = fmt.Sprintf("/page/%02d", i)
			many = append(many, e)
		}
	}
	wiki := mustAdd(t, s, many...)[0].IncidentID
	paths := mustIncident(t, s, wiki).TopPaths
	if len(paths) != incident.TopPathsLimit {
		t.Fatalf("len(TopPaths) = %d; want %d", len(paths), incident.TopPathsLimit)
	}
	if want := (incident.Count{Key: fmt.Sprintf("/page/%02d", incident.TopPathsLimit+4), N: incident.TopPathsLimit + 5}); paths[0] != want {
		t.Errorf("TopPaths[0] = %+v; want %+v", paths[0], want)
	}
}

func testCausePrecedence(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	id := mustAdd(t, s, ev("shop", "app", 0, "c1"))[0].IncidentID
	if got := mustIncident(t, s, id).Cause; got != (incident.Cause{}) {
		t.Fatalf("Cause of an event without upstream variables = %+v; want none", got)
	}
	steps := []struct {
		set  incident.Cause
		want incident.Cause
	}{
		{set: incident.Cause{Source: incident.SourceNginxLog, Class: "connect_failed", Evidence: "line 1"}},
		{set: incident.Cause{Source: incident.SourceNginxVar, Class: "read_timeout", Evidence: "vars"}},
		{
			set:  incident.Cause{Source: incident.SourceNginxLog, Class: "dns", Evidence: "line 2"},
			want: incident.Cause{Source: incident.SourceNginxVar, Class: "read_timeout", Evidence: "vars"},
		},
		{set: incident.Cause{Source: incident.SourceProbe, Class: "connect_refused", Detail: "refused"}},
		{
			set:  incident.Cause{Source: incident.SourceNginxVar, Class: "bad_response"},
			want: incident.Cause{Source: incident.SourceProbe, Class: "connect_refused", Detail: "refused"},
		},
		// A newer probe result replaces an older one.
		{set: incident.Cause{Source: incident.SourceProbe, Class: "tls", Detail: "expired"}},
	}
	for i, st := range steps {
		want := st.want
		if want == (incident.Cause{}) {
			want = st.set
		}
		if err := s.SetIncidentCause(ctx, id, st.set); err != nil {
			t.Fatalf("step %d: SetIncidentCause(%+v): %v", i, st.set, err)
		}
		if got := mustIncident(t, s, id).Cause; got != want {
			t.Errorf("step %d: after SetIncidentCause(%+v), Cause = %+v; want %+v", i, st.set, got, want)
		}
	}

	if err := s.SetIncidentCause(ctx, id+1000, incident.Cause{Source: incident.SourceProbe}); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("SetIncidentCause(unknown id) = %v; want ErrNotFound", err)
	}
	if err := s.SetIncidentCause(ctx, id, incident.Cause{Source: "rumour"}); err == nil {
		t.Errorf("SetIncidentCause(source %q) = nil; want an error", "rumour")
	}

	// Events carry causes too: from nginx's variables when the caller gave
	// none, and the most trusted in a batch wins.
	viaLog := ev("blog", "app", 0, "c2")
	viaLog.NginxLog = "connect() failed (111: Connection refused) while connecting to upstream"
	viaVars := ev("blog", "app", time.Second, "c3")
	viaVars.UpstreamAddr, viaVars.UpstreamStatus, viaVars.UpstreamConnectTime = "10.0.0.1:8080", "504", "0.001"
	blog := mustAdd(t, s, viaLog, viaVars)[0].IncidentID
	got := mustIncident(t, s, blog).Cause
	if got.Source != incident.SourceNginxVar || got.Class != incident.ClassReadTimeout {
		t.Errorf("Cause from a batch with a log line and nginx variables = %+v; want %s/%s",
			got, incident.SourceNginxVar, incident.ClassReadTimeout)
	}
	probed := ev("blog", "app", 2*time.Second, "c4")
	probed.Cause = incident.Cause{Source: incident.SourceProbe, Class: "dns", Detail: "NXDOMAIN"}
	mustAdd(t, s, probed)
	if got := mustIncident(t, s, blog).Cause; got != probed.Cause {
		t.Errorf("Cause after an event with a probe cause = %+v; want %+v", got, probed.Cause)
	}
	stored, err := s.Event(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Cause.Source != incident.SourceNginxLog || stored.Cause.Class != incident.ClassConnectFailed {
		t.Errorf("Event(%q).Cause = %+v; want %s/%s", "c2", stored.Cause, incident.SourceNginxLog, incident.ClassConnectFailed)
	}
}

func testClose(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	first := mustAdd(t, s, ev("shop", "app", 0, "q1"), ev("shop", "app", time.Minute, "q2"))[0].IncidentID
	mustAdd(t, s, ev("shop", "api", 0, "q3"))

	// Not quiet: an error was seen after the time given.
	if n, err := s.CloseIncidents(ctx, "shop", "app", t0.Add(30*time.Second)); err != nil || n != 0 {
		t.Fatalf("CloseIncidents(before last error) = %d, %v; want 0, nil", n, err)
	}
	closeAt := t0.Add(6 * time.Minute)
	if n, err := s.CloseIncidents(ctx, "shop", "app", closeAt); err != nil || n != 1 {
		t.Fatalf("CloseIncidents(after quiet period) = %d, %v; want 1, nil", n, err)
	}
	if n, err := s.CloseIncidents(ctx, "shop", "app", closeAt); err != nil || n != 0 {
		t.Fatalf("CloseIncidents(again) = %d, %v; want 0, nil", n, err)
	}
	closed := mustIncident(t, s, first)
	if closed.ClosedAt == nil || !closed.ClosedAt.Equal(closeAt) || closed.Open() {
		t.Fatalf("ClosedAt = %v; want %v", closed.ClosedAt, closeAt)
	}

	next := mustAdd(t, s, ev("shop", "app", 10*time.Minute, "q4"))[0].IncidentID
	if next == first {
		t.Fatalf("an error after closing joined incident %d; want a new incident", first)
	}
	again := mustIncident(t, s, first)
	if again.Requests != 2 || !reflect.DeepEqual(again.ClosedAt, closed.ClosedAt) {
		t.Errorf("closed incident after a new error: Requests = %d, ClosedAt = %v; want 2, %v",
			again.Requests, again.ClosedAt, closeAt)
	}
	if in := mustIncident(t, s, next); in.Requests != 1 || !in.OpenedAt.Equal(t0.Add(10*time.Minute)) || !in.Open() {
		t.Errorf("new incident = %+v; want 1 request opened at %v", in, t0.Add(10*time.Minute))
	}
	// The other upstream of the site was not touched.
	open := true
	list, err := s.Incidents(ctx, incident.Filter{Site: "shop", Upstream: "api", Open: &open})
	if err != nil || len(list) != 1 {
		t.Errorf("Incidents(open shop/api) = %d incidents, %v; want 1", len(list), err)
	}
}

func testLookup(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	full := incident.Event{
		Time: t0.In(time.FixedZone("CET", 3600)), Site: "shop", Upstream: "app", Host: "shop.example",
		Path: "/cart?id=1", Method: "POST", Code: 503, RequestID: "0f3c9a", NginxConn: 4711,
		UpstreamAddr: "10.0.0.1:80, 10.0.0.2:80", UpstreamStatus: "502, 502", UpstreamConnectTime: "-, -",
		UpstreamResponseTime: "0.000, 0.001", Locale: "pt-BR", VisitorHash: "h1", Browser: "Safari",
		NginxLog: "2026/03/01 12:00:00 [error] 12#12: *4711 connect() failed (111: Connection refused)",
		Cause:    incident.Cause{Source: incident.SourceProbe, Class: "connect_refused", Detail: "d", Evidence: "e"},
	}
	id := mustAdd(t, s, full)[0].IncidentID
	got, err := s.Event(ctx, "0f3c9a")
	if err != nil {
		t.Fatalf("Event(%q): %v", "0f3c9a", err)
	}
	want := full
	want.Time, want.IncidentID = t0, id
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Event(%q) =\n%+v\nwant\n%+v", "0f3c9a", got, want)
	}

	// Whatever a request carries is stored: invalid UTF-8 and NUL bytes
	// would otherwise fail the batch on PostgreSQL.
	bad := ev("shop", "app", time.Second, "bad")
	bad.Path, bad.Browser = "/caf\xe9\x00?", "\xff"
	mustAdd(t, s, bad)
	if got, err := s.Event(ctx, "bad"); err != nil || got.Path != "/caf\uFFFD?" || got.Browser != "\uFFFD" {
		t.Errorf("Event(%q) = Path %q, Browser %q, %v; want %q, %q", "bad", got.Path, got.Browser, err, "/caf\uFFFD?", "\uFFFD")
	}

	for _, rid := range []string{"nope", ""} {
		if _, err := s.Event(ctx, rid); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Event(%q) error = %v; want ErrNotFound", rid, err)
		}
	}
	if _, err := s.Incident(ctx, id+1000); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Incident(%d) error = %v; want ErrNotFound", id+1000, err)
	}

	var batch []incident.Event
	for i := range 5 {
		batch = append(batch, ev("shop", "app", time.Duration(10+i)*time.Second, fmt.Sprintf("e%d", i)))
	}
	mustAdd(t, s, batch...)
	events, err := s.EventsForIncident(ctx, id, 3)
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	for _, e := range events {
		rids = append(rids, e.RequestID)
	}
	if want := []string{"e4", "e3", "e2"}; !reflect.DeepEqual(rids, want) {
		t.Errorf("EventsForIncident(%d, 3) = %q; want %q", id, rids, want)
	}
	if events, err := s.EventsForIncident(ctx, id+1000, 0); err != nil || len(events) != 0 {
		t.Errorf("EventsForIncident(unknown) = %d events, %v; want none", len(events), err)
	}
}

func testSeries(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	mustAdd(t, s,
		ev("shop", "app", -time.Minute, "old"), // before since
		ev("shop", "app", 0, "s1"),
		ev("shop", "app", 59*time.Second, "s2"),
		ev("shop", "api", 60*time.Second, "s3"),
		ev("blog", "app", 61*time.Second, "s4"),
		ev("shop", "app", 3*time.Minute+time.Second, "s5"),
	)
	tests := []struct {
		name, site string
		want       []incident.Bucket
	}{
		{"one site", "shop", []incident.Bucket{{Start: t0, N: 2}, {Start: t0.Add(time.Minute), N: 1}, {Start: t0.Add(3 * time.Minute), N: 1}}},
		{"all sites", "", []incident.Bucket{{Start: t0, N: 2}, {Start: t0.Add(time.Minute), N: 2}, {Start: t0.Add(3 * time.Minute), N: 1}}},
		{"unknown site", "none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Series(ctx, tt.site, t0, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Series(%q) = %+v; want %+v", tt.site, got, tt.want)
			}
		})
	}
	if _, err := s.Series(ctx, "", t0, 0); err == nil {
		t.Errorf("Series(bucket 0) = nil error; want an error")
	}
}

// testCountOnly checks that an event without a row of its own counts
// everywhere counts are kept, and is found nowhere rows are read.
func testCountOnly(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	row := ev("shop", "app", 0, "row")
	row.Path, row.Locale, row.VisitorHash = "/cart", "de", "alice"
	c1 := ev("shop", "app", time.Second, "count1")
	c1.Path, c1.Code, c1.Locale, c1.VisitorHash, c1.CountOnly = "/login", 504, "fr", "bob", true
	c2 := ev("shop", "app", 61*time.Second, "count2")
	c2.Path, c2.Locale, c2.VisitorHash, c2.CountOnly = "/cart", "de", "alice", true
	c2.Cause = incident.Cause{Source: incident.SourceProbe, Class: "connect_refused", Detail: "refused"}
	// A caller on the request path hands over the visitor as bytes.
	c3 := ev("shop", "app", 62*time.Second, "count3")
	c3.VisitorHash, c3.VisitorKey, c3.CountOnly = "", [16]byte{0xca, 0xfe, 15: 0x01}, true
	batch := mustAdd(t, s, row, c1, c2, c3)
	id := batch[0].IncidentID
	for i, e := range batch {
		if e.IncidentID != id {
			t.Errorf("batch[%d].IncidentID = %d; want %d, the incident of the batch's row", i, e.IncidentID, id)
		}
	}

	got := mustIncident(t, s, id)
	want := incident.Incident{
		ID: id, Site: "shop", Upstream: "app",
		OpenedAt: t0, LastSeen: t0.Add(62 * time.Second),
		Requests: 4, Visitors: 3,
		Codes:    map[int]int64{502: 3, 504: 1},
		TopPaths: []incident.Count{{Key: "/cart", N: 2}, {Key: "/", N: 1}, {Key: "/login", N: 1}},
		Locales:  []incident.Count{{Key: "de", N: 2}, {Key: "en", N: 1}, {Key: "fr", N: 1}},
		Cause:    c2.Cause,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Incident(%d) with count-only events =\n%+v\nwant\n%+v", id, got, want)
	}

	// A later count-only batch of the same visitors and a new one, as
	// bytes, counts each visitor once.
	c4 := ev("shop", "app", 63*time.Second, "count4")
	c4.VisitorHash, c4.VisitorKey, c4.CountOnly = "", c3.VisitorKey, true
	c5 := ev("shop", "app", 64*time.Second, "count5")
	c5.VisitorHash, c5.CountOnly = "carol", true
	mustAdd(t, s, c4, c5)
	if got := mustIncident(t, s, id); got.Requests != 6 || got.Visitors != 4 {
		t.Errorf("after a second count-only batch, Requests, Visitors = %d, %d; want 6, 4", got.Requests, got.Visitors)
	}

	series, err := s.Series(ctx, "shop", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := []incident.Bucket{{Start: t0, N: 2}, {Start: t0.Add(time.Minute), N: 4}}; !reflect.DeepEqual(series, want) {
		t.Errorf("Series(%q) with count-only events = %+v; want %+v", "shop", series, want)
	}

	for _, rid := range []string{"count1", "count2", "count3", "count4", "count5"} {
		if e, err := s.Event(ctx, rid); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Event(%q) of a count-only event = %+v, %v; want ErrNotFound", rid, e, err)
		}
	}
	if e, err := s.Event(ctx, "row"); err != nil || e.VisitorHash != "alice" {
		t.Errorf("Event(%q) = %+v, %v; want the row", "row", e, err)
	}
	events, err := s.EventsForIncident(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	for _, e := range events {
		rids = append(rids, e.RequestID)
	}
	if want := []string{"row"}; !reflect.DeepEqual(rids, want) {
		t.Errorf("EventsForIncident(%d) = %q; want %q: count-only events have no row", id, rids, want)
	}

	// A row event given only a VisitorKey is stored with the key's hex.
	keyed := ev("shop", "app", 65*time.Second, "keyed")
	keyed.VisitorHash, keyed.VisitorKey = "", [16]byte{0: 0xab, 15: 0xcd}
	mustAdd(t, s, keyed)
	if e, err := s.Event(ctx, "keyed"); err != nil || e.VisitorHash != "ab0000000000000000000000000000cd" {
		t.Errorf("Event(%q).VisitorHash = %q, %v; want %q", "keyed", e.VisitorHash, err, "ab0000000000000000000000000000cd")
	}
}

func testPrune(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	old := mustAdd(t, s, ev("shop", "app", 0, "p1"), ev("shop", "app", time.Hour, "p2"))[0].IncidentID
	if _, err := s.CloseIncidents(ctx, "shop", "app", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// An open incident whose early events are old keeps its recent ones.
	live := mustAdd(t, s, ev("blog", "app", 0, "p3"), ev("blog", "app", 48*time.Hour, "p4"))[0].IncidentID

	n, err := s.Prune(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Three events (p1, p2, p3) and the closed incident.
	if n != 4 {
		t.Errorf("Prune() = %d; want 4", n)
	}
	for _, rid := range []string{"p1", "p2", "p3"} {
		if _, err := s.Event(ctx, rid); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Event(%q) after Prune = %v; want ErrNotFound", rid, err)
		}
	}
	if _, err := s.Incident(ctx, old); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Incident(%d) after Prune = %v; want ErrNotFound", old, err)
	}
	if _, err := s.Event(ctx, "p4"); err != nil {
		t.Errorf("Event(%q) after Prune = %v; want it kept", "p4", err)
	}
	if in := mustIncident(t, s, live); in.Requests != 2 {
		t.Errorf("Incident(%d).Requests after Prune = %d; want 2 (counters are the incident's, not its events')", live, in.Requests)
	}
	if n, err := s.Prune(ctx, t0.Add(24*time.Hour)); err != nil || n != 0 {
		t.Errorf("Prune() again = %d, %v; want 0, nil", n, err)
	}
	// Series' counts are pruned with the events.
	series, err := s.Series(ctx, "", t0.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := []incident.Bucket{{Start: t0.Add(47 * time.Hour), N: 1}}; !reflect.DeepEqual(series, want) {
		t.Errorf("Series() after Prune = %+v; want %+v", series, want)
	}
}

func testList(t *testing.T, s incident.Store) {
	ctx := ctxT(t)
	mustAdd(t, s, ev("shop", "app", 0, "l1"))
	mustAdd(t, s, ev("shop", "api", time.Minute, "l2"))
	mustAdd(t, s, ev("blog", "app", 2*time.Minute, "l3"))
	if _, err := s.CloseIncidents(ctx, "shop", "app", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	tests := []struct {
		name string
		f    incident.Filter
		want []string // site/upstream, most recently seen first
	}{
		{"all", incident.Filter{}, []string{"blog/app", "shop/api", "shop/app"}},
		{"site", incident.Filter{Site: "shop"}, []string{"shop/api", "shop/app"}},
		{"open", incident.Filter{Open: &yes}, []string{"blog/app", "shop/api"}},
		{"closed", incident.Filter{Open: &no}, []string{"shop/app"}},
		{"upstream", incident.Filter{Upstream: "app"}, []string{"blog/app", "shop/app"}},
		{"limit", incident.Filter{Limit: 1}, []string{"blog/app"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.Incidents(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range list {
				got = append(got, in.Site+"/"+in.Upstream)
				if in.Codes[502] != 1 || len(in.TopPaths) != 1 || len(in.Locales) != 1 {
					t.Errorf("Incidents(%+v) item %s: Codes %v, TopPaths %v, Locales %v; want details filled",
						tt.f, in.Site+"/"+in.Upstream, in.Codes, in.TopPaths, in.Locales)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Incidents(%+v) = %q; want %q", tt.f, got, tt.want)
			}
		})
	}
}

// testConcurrent runs two instances on one database, as two gatewatch
// processes behind one load balancer: both start at once (migrations must
// not collide), write events of one outage concurrently, and must end with
// one incident whose counters add up.
func testConcurrent(t *testing.T, open opener) {
	var (
		stores [2]incident.Store
		wg     sync.WaitGroup
	)
	for i := range stores {
		wg.Go(func() { stores[i] = open(t) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	const writers, batches, perBatch = 4, 15, 20
	errs := make(chan error, writers*batches)
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			for b := range batches {
				var events []incident.Event
				for i := range perBatch {
					n := (w*batches+b)*perBatch + i
					e := ev("shop", "app", time.Duration(n)*time.Millisecond, fmt.Sprintf("w%d-%d", w, n))
					e.VisitorHash = fmt.Sprintf("visitor-%d", n%37) // shared by all writers
					e.Path = fmt.Sprintf("/p%d", n%5)
					if n%3 == 0 {
						e.Code = 504
					}
					events = append(events, e)
				}
				if err := s.AddEvents(context.Background(), events); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent AddEvents: %v", err)
	}

	const total = writers * batches * perBatch
	want504 := int64(0)
	for n := range total {
		if n%3 == 0 {
			want504++
		}
	}
	open1 := true
	var ids [2]int64
	for i, s := range stores {
		list, err := s.Incidents(ctxT(t), incident.Filter{Open: &open1})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("instance %d sees %d open incidents; want 1", i, len(list))
		}
		in := list[0]
		ids[i] = in.ID
		if in.Requests != total || in.Visitors != 37 || in.Codes[504] != want504 || in.Codes[502] != total-want504 {
			t.Errorf("instance %d: Requests %d, Visitors %d, Codes %v; want %d, 37, map[502:%d 504:%d]",
				i, in.Requests, in.Visitors, in.Codes, total, total-want504, want504)
		}
		var paths int64
		for _, p := range in.TopPaths {
			paths += p.N
		}
		if len(in.TopPaths) != 5 || paths != total {
			t.Errorf("instance %d: TopPaths %v; want 5 paths adding up to %d", i, in.TopPaths, total)
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("instances see incidents %d and %d; want the same", ids[0], ids[1])
	}
}

func testReopen(t *testing.T, open opener) {
	s := open(t)
	id := mustAdd(t, s, ev("shop", "app", 0, "o1"))[0].IncidentID
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t)
	if err := s2.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	if got := mustIncident(t, s2, id); got.Requests != 1 {
		t.Errorf("after reopening, Incident(%d).Requests = %d; want 1", id, got.Requests)
	}
	if e := mustAdd(t, s2, ev("shop", "app", time.Second, "o2"))[0]; e.IncidentID != id {
		t.Errorf("after reopening, a new error joined incident %d; want %d", e.IncidentID, id)
	}
}
