package public

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/locales"
)

// statusResponse is the public status of one upstream of a site: what
// the page shows, and nothing an outsider could use (no addresses, no
// causes, no logs).
type statusResponse struct {
	Site          string     `json:"site"`
	Upstream      string     `json:"upstream,omitempty"`
	Verdict       string     `json:"verdict"`
	Origin        string     `json:"origin"` // the latest check: up, down or unknown
	Reload        bool       `json:"reload"` // the failed request would now most likely succeed
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

// statusKey names one upstream's status in one language.
type statusKey struct{ site, upstream, lang string }

// statusFP is what an encoded status response was made from.
type statusFP struct {
	fp         fingerprint
	reload     bool
	probe      cause.ProbeState
	checkedAt  time.Time
	retryAfter int
}

// statusBody is an encoded status response and what it was made from.
type statusBody struct {
	fp         statusFP
	annVersion uint64
	body       []byte
}

// handleStatus serves GET /_gatewatch/api/v1/status: the verdict for a
// page's live updates, from the query the page was given (statusURL):
// site, upstream, lang, and the failed request's own evidence as far as
// the visitor may know it — kind, at (when it failed, Unix milliseconds)
// and ra (the application's Retry-After). It reads the monitor's cache and
// never waits on or starts a probe, so polls cost the origin nothing; a
// made-up query changes only what its own caller is told.
func handleStatus(d *publicDeps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = httpx.HdrNoStore
		query := r.URL.RawQuery
		site := d.cfg.Site(queryValue(query, "site"))
		if site == nil {
			d.Error(w, r, httpx.Errorf(http.StatusNotFound, "no such site"))
			return
		}
		now := d.clock.Now()
		q := &request{site: site, now: now, own: kindClass(cause.ParseKind(queryValue(query, "kind")))}
		if name := queryValue(query, "upstream"); hasUpstream(site, name) {
			q.upstream = name
		}
		if ms, err := strconv.ParseInt(queryValue(query, "at"), 10, 64); err == nil && ms > 0 {
			q.now = time.UnixMilli(ms)
			if q.now.After(now) {
				q.now = now
			}
		} else {
			q.now = time.Time{}
		}
		if ra, err := strconv.Atoi(queryValue(query, "ra")); err == nil && ra > 0 && q.own == cause.Maintenance {
			q.appRetry = min(ra, maxAppRetryAfter)
		}
		q.view = d.status.Upstream(site.Name, q.upstream)
		q.dec = decide(q.own.Kind(), q.view, q.now, q.appRetry, now)
		l, ok := d.catalog.Lookup(queryValue(query, "lang"))
		if !ok {
			l = d.negotiate(r, site)
		}
		ra := pollSeconds(q.dec, q.view, q.appRetry, q.now, now)
		snap := d.board.Current()
		// An announcement that ends before the next poll would stay on the
		// open page past its end: the page asks again just after it.
		for _, it := range snap.Site(site.Name) {
			if left := it.Until.Sub(now); !it.Until.IsZero() && left > 0 {
				ra = min(ra, int((left+time.Second-1)/time.Second)+1)
			}
		}
		fp := statusFP{fp: fingerprintOf(q), reload: q.dec.Reload, probe: q.view.Probe, checkedAt: q.view.CheckedAt, retryAfter: ra}
		// Polls between two changes of the status cost a lookup and a
		// write.
		k := statusKey{site.Name, q.upstream, l.Code}
		sb, ok := d.statuses.Get(k)
		if !ok || sb.fp != fp || sb.annVersion != snap.Version {
			tr := d.catalog.Translator(l)
			b, err := encodeStatus(tr, q, ra, announcementsJSON(tr, snap.Site(site.Name)))
			if err != nil {
				d.Error(w, r, &httpx.StatusError{Code: http.StatusInternalServerError, Detail: "internal error", Err: err})
				return
			}
			sb = &statusBody{fp: fp, annVersion: snap.Version, body: b}
			d.statuses.Add(k, sb)
		}
		h["Content-Type"] = httpx.HdrJSON
		h["Content-Language"] = d.langHeaders[l.Code]
		h["Retry-After"] = secondsHeader(ra)
		h["Content-Length"] = []string{strconv.Itoa(len(sb.body))}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(sb.body)
	})
}

// hasUpstream reports whether site configures an upstream called name.
func hasUpstream(site *config.Site, name string) bool {
	for _, u := range site.Upstreams {
		if name != "" && u.Name == name {
			return true
		}
	}
	return false
}

// kindClass is a class of kind k, for evidence that arrives as a kind.
func kindClass(k cause.Kind) cause.Class {
	switch k {
	case cause.KindUnreachable:
		return cause.Refused
	case cause.KindOverloaded:
		return cause.ReadTimeout
	case cause.KindAppError:
		return cause.HTTP5xx
	case cause.KindMaintenance:
		return cause.Maintenance
	case cause.KindClient:
		return cause.HeaderTooBig
	}
	return cause.Unknown
}

// probeWord is the status API's origin field: the latest check.
func probeWord(p cause.ProbeState) string {
	switch p {
	case cause.ProbeUp:
		return "up"
	case cause.ProbeDown:
		return "down"
	}
	return "unknown"
}

func encodeStatus(tr locales.Translator, q *request, retryAfter int, ann []announceJSON) ([]byte, error) {
	resp := statusResponse{
		Announcements: ann,
		Site:          q.site.Name,
		Upstream:      q.upstream,
		Verdict:       string(q.dec.Verdict),
		Origin:        probeWord(q.view.Probe),
		Reload:        q.dec.Reload,
		Affected:      q.view.Affected,
		WindowSeconds: int(q.view.Window / time.Second),
		RetryAfter:    retryAfter,
	}
	if !q.view.CheckedAt.IsZero() {
		t := q.view.CheckedAt.UTC()
		resp.CheckedAt = &t
	}
	for _, hp := range hops(q.dec) {
		resp.Hops = append(resp.Hops, hopText{hop: hp, Text: tr.T("chain.state."+hp.State, nil)})
	}
	resp.Text.Answer, resp.Text.Detail, resp.Text.Affected = verdictText(tr, q.dec, q.view.Affected, q.view.Window)
	b, err := json.Marshal(resp)
	return append(b, '\n'), err
}
