package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/locales"
)

// statusResponse is the public status of one site: what the page shows,
// and nothing an outsider could use (no addresses, no causes, no logs).
type statusResponse struct {
	Site          string     `json:"site"`
	Verdict       string     `json:"verdict"`
	Origin        string     `json:"origin"`
	CheckedAt     *time.Time `json:"checked_at"`
	Hops          []hopText  `json:"hops"`
	Affected      int        `json:"affected"`
	WindowSeconds int        `json:"window_seconds"`
	RetryAfter    int        `json:"retry_after"`
	Text          statusText `json:"text"`
	// Announcements are the site's, each naming its upstream ("" for
	// all): the page shows those for its own.
	Announcements []announceJSON `json:"announcements"`
}

type hopText struct {
	hop
	Text string `json:"text"`
}

type statusText struct {
	Answer   string `json:"answer"`
	Detail   string `json:"detail"`
	Affected string `json:"affected"`
}

// statusKey names one site's status in one language.
type statusKey struct{ site, lang string }

// statusBody is an encoded status response and what it was made from.
type statusBody struct {
	fp         fingerprint
	checkedAt  time.Time
	retryAfter int
	annVersion uint64
	body       []byte
}

// statusCache keeps the latest encoded response per site and language:
// polls between two changes of the status cost a map lookup and a write.
type statusCache = latest[statusKey, statusBody]

var (
	hdrJSON        = []string{"application/json"}
	hdrProblemJSON = []string{"application/problem+json"}
)

// handleStatus serves GET /_gatewatch/api/v1/status?site=NAME&lang=CODE:
// the cached verdict for the page's live updates. It reads the monitor's
// cache and never waits on a probe, so polls cost the origin nothing, and
// answers from its own cache while the status has not changed.
func handleStatus(d *publicDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = hdrNoStore
		h["X-Content-Type-Options"] = hdrNoSniff
		h["Content-Security-Policy"] = hdrStrictCSP
		site := d.cfg.Site(queryValue(r.URL.RawQuery, "site"))
		if site == nil {
			h["Content-Type"] = hdrProblemJSON
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"type":"about:blank","title":"Not Found","status":404,"detail":"no such site"}` + "\n"))
			return
		}
		s := d.status.Status(site.Name)
		l, ok := d.catalog.Lookup(queryValue(r.URL.RawQuery, "lang"))
		if !ok {
			l = d.negotiate(r, site)
		}
		ra := retryAfterSeconds(s)
		fp := fingerprint{s.Verdict, s.Origin, s.Affected, s.Window}
		ptr := d.statuses.slot(statusKey{site.Name, l.Code})
		sb := ptr.Load()
		snap := d.board.Current()
		if sb == nil || sb.fp != fp || !sb.checkedAt.Equal(s.CheckedAt) || sb.retryAfter != ra || sb.annVersion != snap.Version {
			tr := d.catalog.Translator(l)
			b, err := encodeStatus(tr, site.Name, s, ra, announcementsJSON(tr, snap.Site(site.Name)))
			if err != nil {
				d.logger.Error("encode status", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			sb = &statusBody{fp: fp, checkedAt: s.CheckedAt, retryAfter: ra, annVersion: snap.Version, body: b}
			ptr.Store(sb)
		}
		h["Content-Type"] = hdrJSON
		h["Content-Language"] = d.langHeaders[l.Code]
		h["Retry-After"] = hdrSeconds[ra]
		h["Content-Length"] = []string{strconv.Itoa(len(sb.body))}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(sb.body)
	})
}

func encodeStatus(tr locales.Translator, site string, s monitor.SiteStatus, retryAfter int, ann []announceJSON) ([]byte, error) {
	resp := statusResponse{
		Announcements: ann,
		Site:          site,
		Verdict:       string(s.Verdict),
		Origin:        string(s.Origin),
		Affected:      s.Affected,
		WindowSeconds: int(s.Window / time.Second),
		RetryAfter:    retryAfter,
	}
	if !s.CheckedAt.IsZero() {
		t := s.CheckedAt.UTC()
		resp.CheckedAt = &t
	}
	for _, hp := range hops(s) {
		resp.Hops = append(resp.Hops, hopText{hop: hp, Text: tr.T("chain.state."+hp.State, nil)})
	}
	resp.Text.Answer, resp.Text.Detail, resp.Text.Affected = verdictText(tr, s)
	b, err := json.Marshal(resp)
	return append(b, '\n'), err
}
