package public_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/incident"
)

type noAnnouncements struct{}

func (noAnnouncements) Announcements(context.Context, string, time.Time, int) ([]incident.Announcement, error) {
	return nil, nil
}

func newTestBoard() *announce.Board {
	return announce.NewBoard(noAnnouncements{}, func() time.Time { return testTime }, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

const hostile = `<script>alert(1)</script> "quoted" & <img src=x onerror=alert(2)> javascript:alert(3) https://status.example/db?a=1&b=<2>`

func announceItems() []announce.Item {
	return []announce.Item{
		{ID: "7", Site: "shop", Text: hostile, Parts: announce.Parts(hostile), Lang: "en",
			Start: testTime.Add(-time.Hour), Until: testTime.Add(2 * time.Hour), Source: announce.SourceStaff},
		{ID: "8", Site: "shop", Upstream: "other", Text: "only for other", Parts: announce.Parts("only for other"),
			Start: testTime, Source: announce.SourceStaff},
	}
}

func TestAnnouncementOnPage(t *testing.T) {
	s := mustServer(t)
	empty := doc(t, s.do(nginxReq("GET", "/cart", map[string]string{"X-Request-ID": "a-0"})))
	if sec := empty.Find(`[data-testid="announcements"]`); sec.Length() != 1 || sec.AttrOr("hidden", "none") == "none" {
		t.Errorf("with no announcement the page has %d sections (hidden=%q); want one, hidden", sec.Length(), sec.AttrOr("hidden", "none"))
	}
	s.board.SetExternal("test", announceItems())
	w := s.do(nginxReq("GET", "/cart", map[string]string{"X-Request-ID": "a-1", "Accept-Language": "de"}))
	body := w.Body.String()
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, `href="javascript`) {
		t.Fatalf("hostile announcement text is live markup:\n%s", body)
	}
	d := doc(t, w)
	items := d.Find(`[data-testid="announcement"]`)
	if items.Length() != 1 || items.AttrOr("data-announcement", "") != "7" {
		t.Fatalf("page shows %d announcements; want only the site-wide one (7)", items.Length())
	}
	if got := items.Find(".text").Text(); !strings.Contains(got, `<script>alert(1)</script> "quoted" &`) {
		t.Errorf("announcement text = %q; want the text, shown as text", got)
	}
	links := items.Find("a")
	if links.Length() != 1 || links.AttrOr("href", "") != "https://status.example/db?a=1&b=" || !strings.Contains(links.AttrOr("rel", ""), "noopener") {
		t.Errorf("links = %d, href %q rel %q; want the one https link, safe", links.Length(), links.AttrOr("href", ""), links.AttrOr("rel", ""))
	}
	if got := items.Find(`[data-when="until"] time`).AttrOr("datetime", ""); got != testTime.Add(2*time.Hour).UTC().Format(time.RFC3339) {
		t.Errorf("until datetime = %q", got)
	}
	if got := items.Find(`[data-when="until"]`).Text(); !strings.Contains(got, "bis") {
		t.Errorf("until in German = %q; want it localized", got)
	}
	// Above the verdict.
	if strings.Index(body, `data-testid="announcements"`) > strings.Index(body, `data-testid="verdict"`) {
		t.Errorf("announcements come after the verdict")
	}

	// gzip splices the same section.
	z := s.do(nginxReq("GET", "/cart", map[string]string{"X-Request-ID": "a-1", "Accept-Language": "de", "Accept-Encoding": "gzip"}))
	zr, err := gzip.NewReader(bytes.NewReader(z.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, w.Body.Bytes()) {
		t.Errorf("gzipped page differs from the plain one")
	}

	// Its end: gone on the next page.
	s.board.SetExternal("test", nil)
	if n := doc(t, s.do(nginxReq("GET", "/cart", map[string]string{"X-Request-ID": "a-2"}))).Find(`[data-testid="announcement"]`).Length(); n != 0 {
		t.Errorf("after its end the page shows %d announcements", n)
	}
}

func TestAnnouncementInJSONAndText(t *testing.T) {
	s := mustServer(t)
	s.board.SetExternal("test", announceItems())

	w := s.do(nginxReq("GET", "/cart", map[string]string{"X-Request-ID": "a-3", "Accept": "application/problem+json"}))
	var pr struct {
		Announcements []struct {
			ID    string
			Text  string
			Until *time.Time
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &pr); err != nil || len(pr.Announcements) != 1 || pr.Announcements[0].Text != hostile || pr.Announcements[0].Until == nil {
		t.Errorf("problem+json announcements = %+v (%v); want the site-wide one with its end", pr.Announcements, err)
	}

	w = s.do(nginxReq("GET", "/cart", map[string]string{"X-Request-ID": "a-4", "Accept": "text/plain"}))
	if !strings.Contains(w.Body.String(), hostile) || strings.Contains(w.Body.String(), "only for other") {
		t.Errorf("text body lacks the announcement, or shows another upstream's:\n%s", w.Body.String())
	}

	w = s.do(nginxReq("GET", "/_gatewatch/api/v1/status?site=shop&lang=en", nil))
	var st struct {
		Announcements []struct {
			ID       string
			Upstream string
			Parts    []announce.Part
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || len(st.Announcements) != 2 {
		t.Fatalf("status announcements = %+v (%v); want both, each with its upstream", st.Announcements, err)
	}
	s.board.SetExternal("test", nil)
	w = s.do(nginxReq("GET", "/_gatewatch/api/v1/status?site=shop&lang=en", nil))
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || len(st.Announcements) != 0 {
		t.Errorf("status after the end = %+v (%v); want none (cached body refreshed)", st.Announcements, err)
	}
}

// TestAnnouncedPageDoesNotAllocate: an announcement on the page costs no
// allocation per request: its section is rendered once per board version.
func TestAnnouncedPageDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items on purpose; make test also runs this without -race")
	}
	s := mustServer(t)
	s.board.SetExternal("test", announceItems())
	r := nginxReq("GET", "/cart", map[string]string{"Accept-Encoding": "gzip", "X-Request-ID": "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b"})
	w := &discard{h: http.Header{}}
	s.h.ServeHTTP(w, r)
	if n := testing.AllocsPerRun(200, func() { w.reset(); s.h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("announced page allocates %.1f times per request; want 0", n)
	}
}

// TestPollComesBackAtAnAnnouncementsEnd: an open page asks again just
// after an announcement ends, so that it does not show it for a poll
// interval past its end.
func TestPollComesBackAtAnAnnouncementsEnd(t *testing.T) {
	s := mustServer(t)
	status := func() int {
		w := s.do(nginxReq("GET", "/_gatewatch/api/v1/status?site=shop&lang=en", map[string]string{"Accept": "application/json"}))
		n, err := strconv.Atoi(w.Header().Get("Retry-After"))
		if w.Code != http.StatusOK || err != nil {
			t.Fatalf("status: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
		}
		return n
	}
	without := status()
	s.board.SetExternal("test", []announce.Item{{ID: "9", Site: "shop", Text: "soon over", Parts: announce.Parts("soon over"),
		Start: testTime.Add(-time.Minute), Until: testTime.Add(3500 * time.Millisecond), Source: announce.SourceStaff}})
	if got := status(); got != 5 || got >= without {
		t.Errorf("Retry-After with an announcement ending in 3.5 s = %d (%d without); want 5, just after its end", got, without)
	}
}
