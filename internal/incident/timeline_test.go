package incident_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

func kinds(es []incident.TimelineEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// testNotices: an incident opens, changes cause and closes once each,
// whatever the number of batches, and each such entry is claimed once
// even by two instances claiming together.
func testNotices(t *testing.T, open opener) {
	a, b := open(t), open(t)
	ctx := ctxT(t)
	for i := range 20 {
		e := ev("shop", "app", time.Duration(i)*time.Second, "r"+string(rune('a'+i)))
		if i >= 10 {
			e.Cause = incident.Cause{Source: incident.SourceProbe, Class: "timeout"}
		} else {
			e.Cause = incident.Cause{Source: incident.SourceProbe, Class: "connect_refused"}
		}
		s := a
		if i%2 == 1 {
			s = b
		}
		mustAdd(t, s, e)
	}
	for _, s := range []incident.Store{a, b, a} { // one recovery, seen by two instances
		if err := s.RecordRecovery(ctx, "shop", "app", t0.Add(50*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.RecordRecovery(ctx, "blog", "web", t0); err != nil { // no open incident: nothing
		t.Fatal(err)
	}
	if n, err := a.CloseIncidents(ctx, "shop", "app", t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("CloseIncidents = %d, %v; want 1, nil", n, err)
	}
	if n, err := b.CloseIncidents(ctx, "shop", "app", t0.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second CloseIncidents = %d, %v; want 0, nil", n, err)
	}

	var (
		mu  sync.Mutex
		got []incident.Notice
		wg  sync.WaitGroup
	)
	for _, s := range []incident.Store{a, b, a, b} {
		wg.Go(func() {
			ns, err := s.ClaimNotices(ctx, 100)
			if err != nil {
				t.Errorf("ClaimNotices: %v", err)
			}
			mu.Lock()
			got = append(got, ns...)
			mu.Unlock()
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, n := range got {
		count[n.Entry.Kind]++
		if n.Incident.Site != "shop" || n.Incident.ID != n.Entry.IncidentID {
			t.Errorf("notice %+v carries incident %d of %q", n.Entry, n.Incident.ID, n.Incident.Site)
		}
	}
	// The first cause is history only; the change to timeout is news.
	want := map[string]int{incident.KindOpened: 1, incident.KindCause: 1, incident.KindClosed: 1}
	if len(count) != len(want) || count["opened"] != 1 || count["cause"] != 1 || count["closed"] != 1 {
		t.Errorf("claimed %v; want %v", count, want)
	}
	if more, err := a.ClaimNotices(ctx, 100); err != nil || len(more) != 0 {
		t.Errorf("ClaimNotices again = %d notices, %v; want none", len(more), err)
	}

	id := got[0].Entry.IncidentID
	if err := a.AddTimeline(ctx, incident.TimelineEntry{IncidentID: id, At: t0.Add(time.Hour + time.Second),
		Kind: incident.KindNotified, Detail: "opened → webhook"}); err != nil {
		t.Fatal(err)
	}
	aid, err := a.AddAnnouncement(ctx, incident.Announcement{Site: "shop", Text: "Upgrading the database",
		CreatedAt: t0.Add(5 * time.Second), Until: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddAnnouncement(ctx, incident.Announcement{Site: "blog", Text: "other site",
		CreatedAt: t0, Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tl, err := b.Timeline(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := []string{"opened", "cause", "announcement", "cause", "recovered", "closed", "notified"}
	if g := kinds(tl); len(g) != len(wantKinds) || func() bool {
		for i := range g {
			if g[i] != wantKinds[i] {
				return true
			}
		}
		return false
	}() {
		t.Errorf("Timeline kinds = %v; want %v", g, wantKinds)
	}

	list, err := b.Announcements(ctx, "shop", t0.Add(time.Minute), 0)
	if err != nil || len(list) != 1 || list[0].ID != aid || list[0].Text != "Upgrading the database" {
		t.Fatalf("Announcements = %+v, %v; want the shop's one", list, err)
	}
	if err := b.EndAnnouncement(ctx, aid, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if list, _ := a.Announcements(ctx, "shop", t0.Add(11*time.Minute), 0); len(list) != 0 {
		t.Errorf("Announcements after its end = %+v; want none", list)
	}
	if err := a.EndAnnouncement(ctx, 99999, t0); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("EndAnnouncement(99999) = %v; want ErrNotFound", err)
	}
}
