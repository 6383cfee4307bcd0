package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The read side of sqlStore: lookups and listings for the admin pages.

const eventColumns = `time, site, upstream, host, path, method, code, request_id, nginx_conn, upstream_addr,
	upstream_status, upstream_connect_time, upstream_response_time, locale, visitor_hash, browser, nginx_log,
	cause_source, cause_class, cause_detail, cause_evidence, incident_id`

func scanEvent(r row) (Event, error) {
	var (
		e    Event
		t    int64
		code int64
	)
	err := r.Scan(&t, &e.Site, &e.Upstream, &e.Host, &e.Path, &e.Method, &code, &e.RequestID, &e.NginxConn,
		&e.UpstreamAddr, &e.UpstreamStatus, &e.UpstreamConnectTime, &e.UpstreamResponseTime, &e.Locale,
		&e.VisitorHash, &e.Browser, &e.NginxLog, &e.Cause.Source, &e.Cause.Class, &e.Cause.Detail,
		&e.Cause.Evidence, &e.IncidentID)
	e.Time, e.Code = fromMicro(t), int(code)
	return e, err
}

func (s *sqlStore) Event(ctx context.Context, requestID string) (Event, error) {
	if requestID == "" {
		return Event{}, ErrNotFound
	}
	e, err := scanEvent(s.b.reader().queryRow(ctx, `SELECT `+eventColumns+` FROM events
		WHERE request_id = $1 ORDER BY time DESC, id DESC LIMIT 1`, requestID))
	if errors.Is(err, ErrNotFound) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("incident: event %q: %w", requestID, err)
	}
	return e, nil
}

func (s *sqlStore) EventsForIncident(ctx context.Context, id int64, limit int) ([]Event, error) {
	limit = clampLimit(limit, 100, 1000)
	rs, err := s.b.reader().query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE incident_id = $1 ORDER BY time DESC, id DESC LIMIT $2`, id, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("incident: events of %d: %w", id, err)
	}
	defer rs.Close()
	var out []Event
	for rs.Next() {
		e, err := scanEvent(rs)
		if err != nil {
			return nil, fmt.Errorf("incident: events of %d: %w", id, err)
		}
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("incident: events of %d: %w", id, err)
	}
	return out, nil
}

func clampLimit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	return min(n, max)
}

const incidentColumns = `id, site, upstream, opened_at, last_seen, closed_at, requests, visitors,
	cause_source, cause_class, cause_detail, cause_evidence`

func scanIncident(r row) (Incident, error) {
	var (
		in           Incident
		opened, last int64
		closed       *int64
	)
	err := r.Scan(&in.ID, &in.Site, &in.Upstream, &opened, &last, &closed, &in.Requests, &in.Visitors,
		&in.Cause.Source, &in.Cause.Class, &in.Cause.Detail, &in.Cause.Evidence)
	in.OpenedAt, in.LastSeen = fromMicro(opened), fromMicro(last)
	if closed != nil {
		t := fromMicro(*closed)
		in.ClosedAt = &t
	}
	return in, err
}

func (s *sqlStore) Incident(ctx context.Context, id int64) (Incident, error) {
	c := s.b.reader()
	in, err := scanIncident(c.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if errors.Is(err, ErrNotFound) {
		return Incident{}, ErrNotFound
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident: incident %d: %w", id, err)
	}
	list := []Incident{in}
	if err := loadDetails(ctx, c, list, `SELECT CAST($1 AS BIGINT)`, id); err != nil {
		return Incident{}, fmt.Errorf("incident: incident %d: %w", id, err)
	}
	return list[0], nil
}

// incidentFilter is the WHERE clause of a listing; it keeps one query shape
// for every filter so that statements stay prepared.
const incidentFilter = `($1 = '' OR site = $1) AND ($2 = '' OR upstream = $2)
	AND ($3 = 0 OR ($3 = 1 AND closed_at IS NULL) OR ($3 = 2 AND closed_at IS NOT NULL))`

func (s *sqlStore) Incidents(ctx context.Context, f Filter) ([]Incident, error) {
	open := int64(0)
	if f.Open != nil {
		open = 2
		if *f.Open {
			open = 1
		}
	}
	args := []any{f.Site, f.Upstream, open, int64(clampLimit(f.Limit, 50, 1000))}
	c := s.b.reader()
	rs, err := c.query(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE `+incidentFilter+`
		ORDER BY last_seen DESC, id DESC LIMIT $4`, args...)
	if err != nil {
		return nil, fmt.Errorf("incident: list incidents: %w", err)
	}
	var list []Incident
	for rs.Next() {
		in, err := scanIncident(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("incident: list incidents: %w", err)
		}
		list = append(list, in)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("incident: list incidents: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	// One query per detail table for the whole page, selecting the same
	// incidents again by the same filter rather than by a list of ids of
	// varying length.
	ids := `SELECT id FROM incidents WHERE ` + incidentFilter + ` ORDER BY last_seen DESC, id DESC LIMIT $4`
	if err := loadDetails(ctx, c, list, ids, args...); err != nil {
		return nil, fmt.Errorf("incident: list incidents: %w", err)
	}
	return list, nil
}

// loadDetails fills codes, top paths and locales of list, whose ids the
// subquery ids returns.
func loadDetails(ctx context.Context, c conn, list []Incident, ids string, args ...any) error {
	byID := make(map[int64]*Incident, len(list))
	for i := range list {
		list[i].Codes = map[int]int64{}
		byID[list[i].ID] = &list[i]
	}
	each := func(q string, fn func(in *Incident, key string, code, n int64)) error {
		rs, err := c.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var (
				id, code, n int64
				key         string
			)
			if err := rs.Scan(&id, &key, &code, &n); err != nil {
				return err
			}
			if in := byID[id]; in != nil {
				fn(in, key, code, n)
			}
		}
		return rs.Err()
	}
	err := each(`SELECT incident_id, '', code, n FROM incident_codes WHERE incident_id IN (`+ids+`)`,
		func(in *Incident, _ string, code, n int64) { in.Codes[int(code)] = n })
	if err != nil {
		return err
	}
	err = each(`SELECT incident_id, path, 0, n FROM (
			SELECT incident_id, path, n, ROW_NUMBER() OVER (PARTITION BY incident_id ORDER BY n DESC, path) AS rn
			FROM incident_paths WHERE incident_id IN (`+ids+`)) ranked
		WHERE rn <= `+fmt.Sprint(TopPathsLimit),
		func(in *Incident, path string, _, n int64) { in.TopPaths = append(in.TopPaths, Count{path, n}) })
	if err != nil {
		return err
	}
	err = each(`SELECT incident_id, locale, 0, n FROM incident_locales WHERE incident_id IN (`+ids+`)`,
		func(in *Incident, locale string, _, n int64) { in.Locales = append(in.Locales, Count{locale, n}) })
	if err != nil {
		return err
	}
	// Sorted here rather than in SQL: the two databases may collate ties
	// differently, and the pages should not.
	for i := range list {
		sortCounts(list[i].TopPaths)
		sortCounts(list[i].Locales)
	}
	return nil
}

func sortCounts(cs []Count) {
	slices.SortFunc(cs, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key)) })
}

func (s *sqlStore) Series(ctx context.Context, site string, since time.Time, bucket time.Duration) ([]Bucket, error) {
	width := bucket.Microseconds()
	if width <= 0 {
		return nil, fmt.Errorf("incident: series bucket %v: want at least 1µs", bucket)
	}
	from := micro(since)
	// A second counts in the interval that holds its last microsecond,
	// and only if that is not before since.
	rs, err := s.b.reader().query(ctx, `SELECT (time + $4 - $2) / $3 AS bucket, CAST(SUM(n) AS BIGINT)
		FROM event_counts WHERE ($1 = '' OR site = $1) AND time >= $2 - $4 GROUP BY bucket ORDER BY bucket`,
		site, from, width, secondMicros-1)
	if err != nil {
		return nil, fmt.Errorf("incident: series: %w", err)
	}
	defer rs.Close()
	var out []Bucket
	for rs.Next() {
		var i, n int64
		if err := rs.Scan(&i, &n); err != nil {
			return nil, fmt.Errorf("incident: series: %w", err)
		}
		out = append(out, Bucket{Start: fromMicro(from + i*width), N: n})
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("incident: series: %w", err)
	}
	return out, nil
}
