package public

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
)

// AnnouncementSource is the board of announcements showing now; it never
// blocks. *announce.Board satisfies it.
type AnnouncementSource interface {
	Current() *announce.Snapshot
}

// announceTimeLayout is how the server shows an announcement's times
// before the page's script puts them in the visitor's zone.
const announceTimeLayout = "2006-01-02 15:04 UTC"

// announceKey names one announcement section: a site's, for pages of one
// failed upstream, in one language.
type announceKey struct{ site, upstream, lang string }

type announceHTML struct {
	version  uint64
	html     []byte
	deflated []byte
}

// announceItems returns the announcements of the request's site that
// concern its failed upstream, and the board's version.
func (d *publicDeps) announceItems(q *request) ([]announce.Item, string, uint64) {
	snap := d.board.Current()
	upstream := pageUpstream(q)
	all := snap.Site(q.site.Name)
	var out []announce.Item
	for _, it := range all {
		if it.For(upstream) {
			out = append(out, it)
		}
	}
	return out, upstream, snap.Version
}

// pageUpstream is the failed upstream, as upstreamFor finds it, without
// its allocation for a site of one upstream (which it always names).
func pageUpstream(q *request) string {
	switch len(q.site.Upstreams) {
	case 0:
		return ""
	case 1:
		return q.site.Upstreams[0].Name
	}
	return upstreamFor(q.site, q.p.Upstream.Addr)
}

// announceSection returns the section for the request, and its deflated
// form (see verdictHTML).
func (d *publicDeps) announceSection(ctx context.Context, q *request) (html, deflated []byte) {
	snap := d.board.Current()
	upstream := pageUpstream(q)
	// A new or ended announcement renders the section once, not once per
	// page view.
	k := announceKey{q.site.Name, upstream, q.lang.Code}
	if v, ok := d.announces.Get(k); ok && v.version == snap.Version {
		return v.html, v.deflated
	}
	items, _, version := d.announceItems(q)
	var buf bytes.Buffer
	if err := pages.AnnouncementSection(buildAnnouncements(q.tr, upstream, items)).Render(ctx, &buf); err != nil {
		d.logger.Error("render announcements", "err", err)
		return nil, nil
	}
	v := &announceHTML{version: version, html: buf.Bytes(), deflated: deflateChunks(buf.Bytes())[0]}
	d.announces.Add(k, v)
	return v.html, v.deflated
}

// timeMark stands for the time in a localized sentence while it is cut
// around it.
const timeMark = "\x02"

func timeText(tr locales.Translator, id string, t time.Time) pages.TimeText {
	before, after, _ := strings.Cut(tr.T(id, map[string]any{"Time": timeMark}), timeMark)
	return pages.TimeText{Before: before, Time: t.UTC().Format(announceTimeLayout), After: after, ISO: t.UTC().Format(time.RFC3339)}
}

func buildAnnouncements(tr locales.Translator, upstream string, items []announce.Item) *pages.Announcements {
	a := &pages.Announcements{
		Label:    tr.T("announce.label", nil),
		Upstream: upstream,
		Posted:   tr.T("announce.posted", map[string]any{"Time": "{time}"}),
		Until:    tr.T("announce.until", map[string]any{"Time": "{time}"}),
	}
	for _, it := range items {
		m := pages.Announcement{ID: it.ID, Source: it.Source, Lang: it.Lang, Posted: timeText(tr, "announce.posted", it.Start)}
		for _, p := range it.Parts {
			m.Parts = append(m.Parts, pages.TextPart{Text: p.Text, Href: p.Href})
		}
		if !it.Until.IsZero() {
			u := timeText(tr, "announce.until", it.Until)
			m.Until = &u
		}
		a.Items = append(a.Items, m)
	}
	return a
}

// announceJSON is an announcement in the status API and problem details.
type announceJSON struct {
	ID        string          `json:"id"`
	Upstream  string          `json:"upstream"`
	Source    string          `json:"source"`
	Text      string          `json:"text"`
	Parts     []announce.Part `json:"parts"`
	Lang      string          `json:"lang,omitempty"`
	Start     time.Time       `json:"start"`
	Until     *time.Time      `json:"until"`
	Posted    string          `json:"posted_text"`
	UntilText string          `json:"until_text,omitempty"`
}

func announcementsJSON(tr locales.Translator, items []announce.Item) []announceJSON {
	out := make([]announceJSON, 0, len(items))
	for _, it := range items {
		j := announceJSON{ID: it.ID, Upstream: it.Upstream, Source: it.Source, Text: it.Text, Parts: it.Parts,
			Lang: it.Lang, Start: it.Start.UTC(),
			Posted: tr.T("announce.posted", map[string]any{"Time": it.Start.UTC().Format(announceTimeLayout)})}
		if j.Parts == nil {
			j.Parts = []announce.Part{}
		}
		if !it.Until.IsZero() {
			u := it.Until.UTC()
			j.Until = &u
			j.UntilText = tr.T("announce.until", map[string]any{"Time": u.Format(announceTimeLayout)})
		}
		out = append(out, j)
	}
	return out
}

// announceText is the plain-text form: one paragraph per announcement.
func announceText(tr locales.Translator, items []announce.Item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(tr.T("announce.label", nil) + ": " + it.Text + "\n")
		b.WriteString(tr.T("announce.posted", map[string]any{"Time": it.Start.UTC().Format(announceTimeLayout)}))
		if !it.Until.IsZero() {
			b.WriteString(" · " + tr.T("announce.until", map[string]any{"Time": it.Until.UTC().Format(announceTimeLayout)}))
		}
		b.WriteString("\n\n")
	}
	return b.String()
}
