package public

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
)

// freshWait is how long a page whose failure contradicts the cached state
// waits for the check that failure asked for: long enough for a refused
// port or a failed name, short enough to stay well inside the include's
// one-second proxy_read_timeout. Anything slower is left to the page's
// first poll.
const freshWait = 300 * time.Millisecond

// maxAppRetryAfter bounds the application's own Retry-After we honour.
const maxAppRetryAfter = 24 * 60 * 60

// judge decides the verdict of one failed request: its own evidence, then
// the check of the upstream it failed on, then the crowd (package cause).
// It counts the visit, which also asks for a fresh check of that upstream,
// and when what the monitor knows is older than the failure it waits
// briefly for that check.
func (d *publicDeps) judge(ctx context.Context, q *request) {
	p := q.p
	if q.quiet {
		q.upstream = upstreamFor(q.site, "")
	} else {
		q.upstream, q.visitor = d.status.Observe(q.site.Name, monitor.Visit{IP: p.ClientIP, UserAgent: p.UserAgent, ReportedAddr: p.Upstream.Addr})
		q.hasVisitor = true
	}
	if q.pinned != "" {
		q.upstream = q.pinned
	}
	q.own, _ = cause.FromRequest(cause.Request{
		Code: p.Code, UpstreamAddr: p.Upstream.Addr, UpstreamStatus: p.Upstream.Status,
		ConnectTime: p.Upstream.ConnectTime, RetryAfter: p.Upstream.RetryAfter != "",
	})
	if q.own == cause.Maintenance {
		q.appRetry = parseRetryAfter(p.Upstream.RetryAfter, q.now)
	}
	// A 502 after connecting is all nginx's variables can say of a closed
	// connection, a bad header and one too big alike; the log line tells.
	if q.own == cause.PrematureClose && p.NginxConn != 0 && d.evidence != nil && d.ownLine(ctx, p, q.now) == cause.HeaderTooBig {
		q.own = cause.HeaderTooBig
	}
	q.view = d.status.Upstream(q.site.Name, q.upstream)
	q.dec = decide(q.own.Kind(), q.view, q.now, q.appRetry, q.now)
	if q.dec.Verdict == cause.VerdictChecking {
		ctx, cancel := context.WithTimeout(ctx, freshWait)
		q.view = d.status.Fresh(ctx, q.site.Name, q.upstream, q.now)
		cancel()
		q.dec = decide(q.own.Kind(), q.view, q.now, q.appRetry, d.clock.Now())
	}
}

// Finding the request's own line in nginx's error.log: nginx writes it
// before it hands the request to gatewatch, and the follower reads the
// file every 250 ms, so the page waits up to ownLineWait for it.
const (
	ownLineWait   = 300 * time.Millisecond
	ownLinePoll   = 25 * time.Millisecond
	ownLineWindow = 5 * time.Second // nginx logs whole seconds
)

// ownLine is the cause nginx's error.log names for the failed request p
// (its connection, time, method and path: a kept-alive connection's
// other requests have lines too), or cause.Unknown when no line comes
// within ownLineWait. Only a 502 after connecting waits: the line is what tells the visitor's cookies from the
// application.
func (d *publicDeps) ownLine(ctx context.Context, p proxied.Request, at time.Time) cause.Class {
	path, _, _ := strings.Cut(p.URI, "?")
	key := d.evidence.RequestKey(p.Method, path)
	deadline := time.Now().Add(ownLineWait)
	for {
		found, tooBig := false, false
		d.evidence.EachNear(p.NginxConn, at, ownLineWindow, func(l nginxlog.Line) bool {
			if l.Request != key {
				return true
			}
			found, tooBig = true, l.Cause == nginxlog.CauseHeaderTooBig
			return !tooBig
		})
		if tooBig {
			return cause.HeaderTooBig
		}
		if found || time.Now().After(deadline) {
			return cause.Unknown
		}
		select {
		case <-ctx.Done():
			return cause.Unknown
		case <-time.After(ownLinePoll):
		}
	}
}

// decide applies the verdict table to a request's kind and its upstream's
// view: failedAt is when the request failed, appRetry the application's own
// Retry-After in seconds (0 for none).
func decide(kind cause.Kind, v monitor.UpstreamView, failedAt time.Time, appRetry int, now time.Time) cause.Decision {
	return cause.Decide(cause.Evidence{
		Own: kind, Probe: v.Probe, Fresh: v.Fresh(failedAt), Failed: v.Failed, Pending: v.Pending, Many: v.Many,
		Over: appRetry > 0 && !now.Before(failedAt.Add(time.Duration(appRetry)*time.Second)),
	})
}

// parseRetryAfter reads a Retry-After value (delay-seconds or an HTTP
// date) as seconds from now, 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) int {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return min(max(n, 0), maxAppRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(int(t.Sub(now).Round(time.Second)/time.Second), 0), maxAppRetryAfter)
	}
	return 0
}

// pollSeconds is when the page should ask again, and the response's
// Retry-After: soon while a check is under way, at the next check while
// down, slowly for an application error (nothing a reload changes), at
// the application's own time for maintenance.
func pollSeconds(dec cause.Decision, v monitor.UpstreamView, appRetry int, failedAt, now time.Time) int {
	sec := func(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }
	switch dec.Verdict {
	case cause.VerdictChecking:
		return 2
	case cause.VerdictDown:
		return min(max(sec(v.RetryAfter), 3), 300)
	case cause.VerdictOverloaded:
		return 15
	case cause.VerdictAppError:
		return 60
	case cause.VerdictMaintenance:
		left := sec(failedAt.Add(time.Duration(appRetry) * time.Second).Sub(now))
		if appRetry == 0 || left < 5 {
			return 5
		}
		return min(left, maxAppRetryAfter)
	case cause.VerdictRecovering:
		return 5
	}
	return min(max(sec(v.RetryAfter), 5), 300)
}

// The page's poll URL (the root's data-status-url) is the failing
// upstream's status, with the request's own evidence as the verdict needs
// it: statusPrefix, then appendStatusQuery. The kind and the application's
// Retry-After are what the visitor's page already says; nothing in it is
// admin-only.

// statusPrefix is the poll URL up to its per-request values.
func statusPrefix(site, upstream, lang string) string {
	v := url.Values{"site": {site}, "lang": {lang}}
	if upstream != "" {
		v.Set("upstream", upstream)
	}
	return statusPath + "?" + v.Encode()
}

// appendStatusQuery appends the per-request values of the poll URL: kind
// names and numbers need no escaping.
func appendStatusQuery(b []byte, kind cause.Kind, at time.Time, appRetry int) []byte {
	if kind != cause.KindUnknown {
		b = append(append(b, "&kind="...), kind...)
	}
	b = strconv.AppendInt(append(b, "&at="...), at.UnixMilli(), 10)
	if appRetry > 0 {
		b = strconv.AppendInt(append(b, "&ra="...), int64(appRetry), 10)
	}
	return b
}

// verdictText is the localized answer, detail and affected-visitors line
// of a decision; the page and the status API say the same words.
func verdictText(tr locales.Translator, dec cause.Decision, affected int, window time.Duration) (answer, detail, crowd string) {
	key := "verdict." + string(dec.Verdict)
	answer, detail = tr.T(key, nil), tr.T(key+".detail", nil)
	switch {
	case dec.Verdict == cause.VerdictAppError && dec.Many:
		detail = tr.T(key+".detail_many", nil)
	case dec.Verdict == cause.VerdictDown && dec.Origin != cause.HopDown:
		// The crowd says so, not our check.
		detail = tr.T(key+".detail_crowd", nil)
	}
	if affected > 0 && window > 0 {
		minutes := max(int(window.Round(time.Minute)/time.Minute), 1)
		crowd = tr.N("verdict.affected", affected, map[string]any{
			"Window": tr.N("duration.minutes", minutes, nil),
		})
	}
	return answer, detail, crowd
}

// hop is one link of the chain as both the page and the API show it.
type hop struct {
	ID    string `json:"hop"`
	State string `json:"state"`
}

// hops is the chain You → gateway → site's server. The visitor and the
// gateway work by construction: this very response travelled through them.
func hops(dec cause.Decision) []hop {
	return []hop{{"you", "ok"}, {"gateway", "ok"}, {"origin", string(dec.Origin)}}
}

func hopIcon(state string) string {
	switch state {
	case "ok":
		return "✓"
	case "down":
		return "✗"
	case "error":
		return "!"
	}
	return "…"
}

func buildVerdict(tr locales.Translator, q *request) *pages.Verdict {
	v := &pages.Verdict{
		State:   string(q.dec.Verdict),
		Heading: tr.T("verdict.heading", nil),
		Label:   tr.T("chain.label", nil),
	}
	v.Answer, v.Detail, v.Affected = verdictText(tr, q.dec, q.view.Affected, q.view.Window)
	for _, h := range hops(q.dec) {
		v.Hops = append(v.Hops, pages.Hop{ID: h.ID, Name: tr.T("chain."+h.ID, nil), State: h.State,
			Text: tr.T("chain.state."+h.State, nil), Icon: hopIcon(h.State)})
	}
	return v
}
