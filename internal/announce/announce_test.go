package announce_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestClean(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{"  back by 14:00 \r\n", "back by 14:00", nil},
		{"a\n\n\n\nb", "a\n\nb", nil},
		{"evil\u202eoverride\x00\x1b[31m", "eviloverride[31m", nil},
		{" \n\t ", "", announce.ErrEmpty},
		{strings.Repeat("é", announce.MaxRunes), strings.Repeat("é", announce.MaxRunes), nil},
		{strings.Repeat("x", announce.MaxRunes+1), "", announce.ErrTooLong},
	} {
		got, err := announce.Clean(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Clean(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParts(t *testing.T) {
	got := announce.Parts(`See https://status.example/x?a=1. Not javascript:alert(1) nor <a href="http://x">, or ftp://y.`)
	var links []string
	var text strings.Builder
	for _, p := range got {
		text.WriteString(p.Text)
		if p.Href != "" {
			links = append(links, p.Href)
			if p.Href != p.Text {
				t.Errorf("link %q shows %q; want its own address", p.Href, p.Text)
			}
		}
	}
	if want := []string{"https://status.example/x?a=1", "http://x"}; strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("links = %q; want %q", links, want)
	}
	if !strings.Contains(text.String(), "javascript:alert(1)") || !strings.HasSuffix(text.String(), "ftp://y.") {
		t.Errorf("parts lost text: %q", text.String())
	}
}

type fakeStore struct {
	mu   sync.Mutex
	list []incident.Announcement
	err  error
}

func (f *fakeStore) Announcements(_ context.Context, site string, endAfter time.Time, _ int) ([]incident.Announcement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []incident.Announcement
	for _, a := range f.list {
		if a.End().After(endAfter) {
			out = append(out, a)
		}
	}
	return out, f.err
}

func TestBoardShowsUntilEnd(t *testing.T) {
	now := t0
	st := &fakeStore{list: []incident.Announcement{
		{ID: 1, Site: "shop", Text: "DB upgrade, see https://status.example", CreatedAt: t0, Until: t0.Add(time.Hour)},
		{ID: 2, Site: "shop", Upstream: "api", Text: "API only", CreatedAt: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute)},
	}}
	b := announce.NewBoard(st, func() time.Time { return now }, discard())
	ctx := context.Background()
	now = t0.Add(90 * time.Second)
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s1 := b.Current()
	items := s1.Site("shop")
	if len(items) != 2 || items[0].ID != "2" || !items[0].For("api") || items[0].For("app") || !items[1].For("app") {
		t.Fatalf("items = %+v; want 2 (api only) then 1", items)
	}
	if len(items[1].Parts) != 2 || items[1].Parts[1].Href != "https://status.example" {
		t.Errorf("parts = %+v; want a text and a link", items[1].Parts)
	}
	b.Refresh(ctx)
	if b.Current().Version != s1.Version {
		t.Errorf("version changed without a change")
	}
	now = t0.Add(3 * time.Minute)
	b.Refresh(ctx)
	if got := b.Current().Site("shop"); len(got) != 1 || got[0].ID != "1" || b.Current().Version == s1.Version {
		t.Errorf("after the API one's end: %+v (version %d); want only 1, new version", got, b.Current().Version)
	}
	// A store that fails keeps what showed.
	st.err = errors.New("down")
	if err := b.Refresh(ctx); err == nil || len(b.Current().Site("shop")) != 1 {
		t.Errorf("Refresh with the store down = %v, %d items; want an error and the last item", err, len(b.Current().Site("shop")))
	}
}

const summaryJSON = `{
  "page": {"id": "p", "name": "Example"},
  "components": [{"id": "c1", "name": "Shop"}, {"id": "c2", "name": "Blog"}],
  "incidents": [
    {"id": "i1", "name": "Elevated errors", "status": "investigating", "created_at": "2026-12-07T11:50:00Z",
     "components": [{"id": "c1", "name": "Shop"}],
     "incident_updates": [{"body": "old", "created_at": "2026-12-07T11:50:00Z"}, {"body": "We are <b>on it</b>", "created_at": "2026-12-07T11:55:00Z"}]},
    {"id": "i2", "name": "Blog slow", "status": "identified", "created_at": "2026-12-07T11:00:00Z", "components": [{"id": "c2", "name": "Blog"}]},
    {"id": "i3", "name": "Over", "status": "resolved", "created_at": "2026-12-07T10:00:00Z", "components": [{"id": "c1", "name": "Shop"}]}
  ],
  "scheduled_maintenances": [
    {"id": "m1", "name": "Database upgrade", "status": "in_progress", "created_at": "2026-12-06T10:00:00Z",
     "scheduled_for": "2026-12-07T11:30:00Z", "scheduled_until": "2026-12-07T14:00:00Z", "components": [{"id": "c1", "name": "Shop"}]},
    {"id": "m2", "name": "Next month", "status": "scheduled", "created_at": "2026-12-06T10:00:00Z",
     "scheduled_for": "2027-01-07T11:30:00Z", "scheduled_until": "2027-01-07T14:00:00Z", "components": [{"id": "c1", "name": "Shop"}]}
  ]
}`

func TestStatusPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/summary.json":
			w.Write([]byte(summaryJSON))
		case "/big.json":
			w.Write([]byte(`{"incidents":[], "x": "` + strings.Repeat("a", announce.MaxSummaryBytes) + `"}`))
		case "/away.json":
			http.Redirect(w, r, "http://elsewhere.invalid/summary.json", http.StatusFound)
		}
	}))
	defer srv.Close()
	board := announce.NewBoard(&fakeStore{}, func() time.Time { return t0 }, discard())
	sp := &announce.StatusPage{Site: "shop", Page: config.StatusPage{URL: srv.URL + "/summary.json", Component: "shop"},
		Board: board, Client: announce.NewClient(), Now: func() time.Time { return t0 }, Logger: discard()}
	items, err := sp.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("items = %+v; want the shop's open incident and its maintenance in progress", items)
	}
	if got := items[0].Text; got != "Elevated errors: We are <b>on it</b>" {
		t.Errorf("incident text = %q; want the name and the latest update, verbatim (pages escape it)", got)
	}
	if m := items[1]; m.Text != "Database upgrade" || !m.Until.Equal(time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("maintenance = %+v; want its name and scheduled end", m)
	}
	board.SetExternal(sp.Key(), items)
	if got := board.Current().Site("shop"); len(got) != 2 || got[0].Source != announce.SourceStatusPage {
		t.Errorf("board = %+v; want the two status page items", got)
	}

	for _, path := range []string{"/big.json", "/away.json"} {
		sp.Page.URL = srv.URL + path
		if _, err := sp.Fetch(context.Background()); err == nil {
			t.Errorf("Fetch(%s) = nil error; want a refusal", path)
		}
	}
}
