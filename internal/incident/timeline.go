package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident/record"
)

// Timeline entry kinds: what happened to an incident, in the order it
// usually happens.
const (
	KindOpened       = "opened"
	KindCause        = "cause"        // Detail: the new cause class
	KindAnnouncement = "announcement" // Detail: the text; made from the announcements of the incident's time
	KindNotified     = "notified"     // Detail: which event went to which target
	KindNotifyFailed = "notify_failed"
	KindRecovered    = "recovered" // the upstream passes its checks again
	KindClosed       = "closed"
)

// TimelineEntry is one thing that happened to an incident.
type TimelineEntry struct {
	ID         int64
	IncidentID int64
	At         time.Time
	Kind       string
	Detail     string
}

// Announcement is a message from staff on the error pages (see package
// record).
type Announcement = record.Announcement

// Announcement and timeline limits.
const (
	// MaxAnnouncementText bounds an announcement's text, in bytes.
	MaxAnnouncementText = 4096
	maxTimelineDetail   = 1000
)

// Notices is the outbox of incident notifications: the opened, cause
// and closed entries of the timeline that no notifier has taken yet.
type Notices interface {
	// ClaimNotices takes up to limit pending entries, oldest first, with
	// their incidents. An entry is claimed once even by several instances
	// sharing the store; a claim is not handed out again, so that a
	// notification goes out at most once.
	ClaimNotices(ctx context.Context, limit int) ([]Notice, error)
	// AddTimeline adds an entry to an incident's timeline.
	AddTimeline(ctx context.Context, e TimelineEntry) error
}

// Notice is a claimed timeline entry and its incident as it is now.
type Notice struct {
	Entry    TimelineEntry
	Incident Incident
}

// Timeline statements; see AddEvents and CloseIncidents. Parameters are
// cast so that PostgreSQL need not guess their types in INSERT … SELECT.
const (
	sqlTimelineOpened = `INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
VALUES ($1, $2, 'opened', '', 1) ON CONFLICT DO NOTHING`
	// A first cause, or a more trusted source naming it better (the probe
	// after nginx's variables), is history; a cause replaced at the same
	// trust is news.
	sqlTimelineCause = `INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
SELECT id, CAST($2 AS BIGINT), 'cause', CAST($3 AS TEXT), CASE WHEN cause_class = '' OR cause_rank < $4 THEN 0 ELSE 1 END
FROM incidents WHERE id = $1 AND cause_rank <= $4 AND cause_class <> CAST($3 AS TEXT)`
	sqlTimelineClosed = `INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
SELECT id, CAST($3 AS BIGINT), 'closed', '', 1 FROM incidents
WHERE site = $1 AND upstream = $2 AND closed_at IS NULL AND last_seen <= $3
ON CONFLICT DO NOTHING`
)

// recoveryDedup keeps instances whose monitors saw the same recovery a
// few seconds apart from writing it twice.
const recoveryDedup = 30 * time.Second

// RecordRecovery notes in the open incident of site and upstream, if any,
// that the upstream passes its checks again since at. The same recovery
// (within recoveryDedup) is written once.
func (s *sqlStore) RecordRecovery(ctx context.Context, site, upstream string, at time.Time) error {
	us, dedup := micro(at), recoveryDedup.Microseconds()
	err := s.b.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, `INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
			SELECT id, CAST($3 AS BIGINT), 'recovered', '', 0 FROM incidents i
			WHERE site = $1 AND upstream = $2 AND closed_at IS NULL AND NOT EXISTS (
				SELECT 1 FROM incident_timeline t WHERE t.incident_id = i.id AND t.kind = 'recovered'
				AND t.at > CAST($3 AS BIGINT) - $4 AND t.at < CAST($3 AS BIGINT) + $4)`, site, upstream, us, dedup)
		return err
	})
	if err != nil {
		return fmt.Errorf("incident: record recovery of %s/%s: %w", site, upstream, err)
	}
	return nil
}

func (s *sqlStore) AddTimeline(ctx context.Context, e TimelineEntry) error {
	err := s.b.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, `INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
			VALUES ($1, $2, $3, $4, 0)`, e.IncidentID, micro(e.At), clean(e.Kind, maxShort), clean(e.Detail, maxTimelineDetail))
		return err
	})
	if err != nil {
		return fmt.Errorf("incident: add timeline entry of %d: %w", e.IncidentID, err)
	}
	return nil
}

func (s *sqlStore) ClaimNotices(ctx context.Context, limit int) ([]Notice, error) {
	limit = clampLimit(limit, 20, 100)
	var entries []TimelineEntry
	err := s.b.write(ctx, func(c conn) error {
		entries = entries[:0]
		// notify = 1 again outside the subquery: on PostgreSQL a row
		// another instance claimed meanwhile is rechecked and skipped.
		rs, err := c.query(ctx, `UPDATE incident_timeline SET notify = 0
			WHERE notify = 1 AND id IN (SELECT id FROM incident_timeline WHERE notify = 1 ORDER BY id LIMIT $1)
			RETURNING id, incident_id, at, kind, detail`, int64(limit))
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var (
				e  TimelineEntry
				at int64
			)
			if err := rs.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Detail); err != nil {
				return err
			}
			e.At = fromMicro(at)
			entries = append(entries, e)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("incident: claim notices: %w", err)
	}
	slices.SortFunc(entries, func(a, b TimelineEntry) int { return int(a.ID - b.ID) })
	out := make([]Notice, 0, len(entries))
	for _, e := range entries {
		in, err := s.Incident(ctx, e.IncidentID)
		if errors.Is(err, ErrNotFound) {
			continue // pruned meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, Notice{Entry: e, Incident: in})
	}
	return out, nil
}

// Timeline returns the incident's history, oldest first: its own entries
// and the announcements of its site (and upstream) that showed while it
// was open.
func (s *sqlStore) Timeline(ctx context.Context, id int64) ([]TimelineEntry, error) {
	c := s.b.reader()
	in, err := scanIncident(c.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("incident: timeline of %d: %w", id, err)
	}
	var out []TimelineEntry
	rs, err := c.query(ctx, `SELECT id, at, kind, detail FROM incident_timeline WHERE incident_id = $1
		ORDER BY at, id LIMIT 1000`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: timeline of %d: %w", id, err)
	}
	for rs.Next() {
		e := TimelineEntry{IncidentID: id}
		var at int64
		if err := rs.Scan(&e.ID, &at, &e.Kind, &e.Detail); err != nil {
			rs.Close()
			return nil, fmt.Errorf("incident: timeline of %d: %w", id, err)
		}
		e.At = fromMicro(at)
		out = append(out, e)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("incident: timeline of %d: %w", id, err)
	}
	end := int64(1<<62 - 1)
	if in.ClosedAt != nil {
		end = micro(*in.ClosedAt)
	}
	anns, err := s.queryAnnouncements(ctx, `WHERE site = $1 AND (upstream = '' OR upstream = $2) AND created_at <= $3
		AND until >= $4 AND (ended_at IS NULL OR ended_at >= $4) ORDER BY created_at, id LIMIT 100`,
		in.Site, in.Upstream, end, micro(in.OpenedAt))
	if err != nil {
		return nil, fmt.Errorf("incident: timeline of %d: %w", id, err)
	}
	for _, a := range anns {
		out = append(out, TimelineEntry{ID: -a.ID, IncidentID: id, At: a.CreatedAt, Kind: KindAnnouncement, Detail: a.Text})
	}
	slices.SortStableFunc(out, func(a, b TimelineEntry) int { return a.At.Compare(b.At) })
	return out, nil
}

// AddAnnouncement stores a, cleaned and cut to MaxAnnouncementText, and
// returns its id.
func (s *sqlStore) AddAnnouncement(ctx context.Context, a Announcement) (int64, error) {
	if a.Site == "" || a.Text == "" || !a.Until.After(a.CreatedAt) {
		return 0, errors.New("incident: an announcement needs a site, a text and an end after its start")
	}
	var id int64
	err := s.b.write(ctx, func(c conn) error {
		return c.queryRow(ctx, `INSERT INTO announcements (site, upstream, text, lang, author, created_at, until)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			clean(a.Site, maxShort), clean(a.Upstream, maxShort), clean(a.Text, MaxAnnouncementText),
			clean(a.Lang, maxShort), clean(a.Author, maxShort), micro(a.CreatedAt), micro(a.Until)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("incident: add announcement: %w", err)
	}
	return id, nil
}

// EndAnnouncement ends announcement id at at; ending one that has ended
// already changes nothing. It returns ErrNotFound for no such id.
func (s *sqlStore) EndAnnouncement(ctx context.Context, id int64, at time.Time) error {
	err := s.b.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, `UPDATE announcements SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, id, micro(at))
		if err != nil || n > 0 {
			return err
		}
		var one int64
		return c.queryRow(ctx, `SELECT 1 FROM announcements WHERE id = $1`, id).Scan(&one)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("incident: end announcement %d: %w", id, err)
	}
	return nil
}

// Announcements lists the announcements of site ("" for all) that show
// after endAfter, newest first, at most limit (default 100, at most 1000).
func (s *sqlStore) Announcements(ctx context.Context, site string, endAfter time.Time, limit int) ([]Announcement, error) {
	out, err := s.queryAnnouncements(ctx, `WHERE ($1 = '' OR site = $1) AND until > $2 AND (ended_at IS NULL OR ended_at > $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, site, micro(endAfter), int64(clampLimit(limit, 100, 1000)))
	if err != nil {
		return nil, fmt.Errorf("incident: announcements: %w", err)
	}
	return out, nil
}

func (s *sqlStore) queryAnnouncements(ctx context.Context, where string, args ...any) ([]Announcement, error) {
	rs, err := s.b.reader().query(ctx, `SELECT id, site, upstream, text, lang, author, created_at, until, ended_at
		FROM announcements `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Announcement
	for rs.Next() {
		var (
			a              Announcement
			created, until int64
			ended          *int64
		)
		if err := rs.Scan(&a.ID, &a.Site, &a.Upstream, &a.Text, &a.Lang, &a.Author, &created, &until, &ended); err != nil {
			return nil, err
		}
		a.CreatedAt, a.Until = fromMicro(created), fromMicro(until)
		if ended != nil {
			t := fromMicro(*ended)
			a.EndedAt = &t
		}
		out = append(out, a)
	}
	return out, rs.Err()
}
