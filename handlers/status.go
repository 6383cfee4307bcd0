package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
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

// handleStatus serves GET /_gatewatch/api/v1/status?site=NAME&lang=CODE:
// the cached verdict for the page's live updates. It reads the monitor's
// cache and never waits on a probe, so polls cost the origin nothing.
func handleStatus(d *publicDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		site := d.cfg.Site(r.URL.Query().Get("site"))
		if site == nil {
			h.Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"type":"about:blank","title":"Not Found","status":404,"detail":"no such site"}` + "\n"))
			return
		}
		s := d.status.Status(site.Name)
		l, ok := d.catalog.Lookup(r.URL.Query().Get("lang"))
		if !ok {
			l = d.negotiate(r, site)
		}
		tr := d.catalog.Translator(l)
		resp := statusResponse{
			Site:          site.Name,
			Verdict:       string(s.Verdict),
			Origin:        string(s.Origin),
			Affected:      s.Affected,
			WindowSeconds: int(s.Window / time.Second),
			RetryAfter:    retryAfterSeconds(s),
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
		if err != nil {
			d.logger.Error("encode status", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Language", l.Code)
		h.Set("Retry-After", strconv.Itoa(resp.RetryAfter))
		h.Set("Content-Length", strconv.Itoa(len(b)+1))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(append(b, '\n'))
	})
}
