package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// sqlStore is the Store both adapters share; see db.go.
type sqlStore struct {
	b backend
}

func nowMicro() int64 { return time.Now().UnixMicro() }

func micro(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

// group is the part of a batch that belongs to one incident.
type group struct {
	site, upstream string
	first, last    time.Time
	events         []int // indexes into the batch
	codes          map[int]int64
	paths          map[string]int64
	locales        map[string]int64
	visitors       map[string]bool
	cause          Cause
	causeAt        time.Time
	id             int64
}

// groupEvents splits a batch by site and upstream, aggregating in memory so
// that the database sees one update per incident and key, not one per event.
// Groups come sorted so that concurrent writers lock incidents in the same
// order and cannot deadlock.
func groupEvents(events []Event) []*group {
	type key struct{ site, upstream string }
	byKey := make(map[key]*group)
	for i, e := range events {
		k := key{e.Site, e.Upstream}
		g := byKey[k]
		if g == nil {
			g = &group{site: e.Site, upstream: e.Upstream, first: e.Time, last: e.Time,
				codes: map[int]int64{}, paths: map[string]int64{}, locales: map[string]int64{}, visitors: map[string]bool{}}
			byKey[k] = g
		}
		g.events = append(g.events, i)
		if e.Time.Before(g.first) {
			g.first = e.Time
		}
		if e.Time.After(g.last) {
			g.last = e.Time
		}
		g.codes[e.Code]++
		if e.Path != "" {
			g.paths[e.Path]++
		}
		if e.Locale != "" {
			g.locales[e.Locale]++
		}
		if e.VisitorHash != "" {
			g.visitors[e.VisitorHash] = true
		}
		// The most trusted cause wins; among equals, the latest.
		if r := e.Cause.rank(); r > 0 && (r > g.cause.rank() || (r == g.cause.rank() && !e.Time.Before(g.causeAt))) {
			g.cause, g.causeAt = e.Cause, e.Time
		}
	}
	out := slices.Collect(maps.Values(byKey))
	slices.SortFunc(out, func(a, b *group) int {
		return cmp.Or(cmp.Compare(a.site, b.site), cmp.Compare(a.upstream, b.upstream))
	})
	return out
}

const (
	sqlUpsertIncident = `INSERT INTO incidents (site, upstream, opened_at, last_seen, requests)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (site, upstream) WHERE closed_at IS NULL DO UPDATE SET
	opened_at = CASE WHEN excluded.opened_at < incidents.opened_at THEN excluded.opened_at ELSE incidents.opened_at END,
	last_seen = CASE WHEN excluded.last_seen > incidents.last_seen THEN excluded.last_seen ELSE incidents.last_seen END,
	requests = incidents.requests + excluded.requests
RETURNING id`
	sqlInsertEvent = `INSERT INTO events (time, site, upstream, host, path, method, code, request_id, nginx_conn,
	upstream_addr, upstream_status, upstream_connect_time, upstream_response_time, locale, visitor_hash, browser,
	nginx_log, cause_source, cause_class, cause_detail, cause_evidence, incident_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`
	sqlUpsertCode = `INSERT INTO incident_codes (incident_id, code, n) VALUES ($1, $2, $3)
ON CONFLICT (incident_id, code) DO UPDATE SET n = incident_codes.n + excluded.n`
	sqlUpsertPath = `INSERT INTO incident_paths (incident_id, path, n) VALUES ($1, $2, $3)
ON CONFLICT (incident_id, path) DO UPDATE SET n = incident_paths.n + excluded.n`
	sqlUpsertLocale = `INSERT INTO incident_locales (incident_id, locale, n) VALUES ($1, $2, $3)
ON CONFLICT (incident_id, locale) DO UPDATE SET n = incident_locales.n + excluded.n`
	sqlInsertVisitor = `INSERT INTO incident_visitors (incident_id, visitor_hash) VALUES ($1, $2)
ON CONFLICT (incident_id, visitor_hash) DO NOTHING`
	sqlAddVisitors = `UPDATE incidents SET visitors = visitors + $2 WHERE id = $1`
	sqlSetCause    = `UPDATE incidents SET cause_rank = $2, cause_source = $3, cause_class = $4, cause_detail = $5,
	cause_evidence = $6 WHERE id = $1 AND cause_rank <= $2`
)

func (s *sqlStore) AddEvents(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	batch := make([]Event, len(events))
	for i, e := range events {
		batch[i] = e.sanitized()
	}
	groups := groupEvents(batch)
	err := s.b.write(ctx, func(c conn) error {
		// The upsert locks the open incident's row until commit (on
		// PostgreSQL), so writers of one incident take turns and the
		// counter updates below cannot interleave.
		for _, g := range groups {
			if err := c.queryRow(ctx, sqlUpsertIncident, g.site, g.upstream, micro(g.first), micro(g.last),
				int64(len(g.events))).Scan(&g.id); err != nil {
				return fmt.Errorf("upsert incident: %w", err)
			}
		}
		var stmts []stmt
		add := func(q string, args ...any) int {
			stmts = append(stmts, stmt{q, args})
			return len(stmts) - 1
		}
		visitorStmts := make([][]int, len(groups))
		for gi, g := range groups {
			for _, i := range g.events {
				batch[i].IncidentID = g.id
				e := batch[i]
				add(sqlInsertEvent, micro(e.Time), e.Site, e.Upstream, e.Host, e.Path, e.Method, int64(e.Code),
					e.RequestID, e.NginxConn, e.UpstreamAddr, e.UpstreamStatus, e.UpstreamConnectTime,
					e.UpstreamResponseTime, e.Locale, e.VisitorHash, e.Browser, e.NginxLog, e.Cause.Source,
					e.Cause.Class, e.Cause.Detail, e.Cause.Evidence, g.id)
			}
			for _, code := range slices.Sorted(maps.Keys(g.codes)) {
				add(sqlUpsertCode, g.id, int64(code), g.codes[code])
			}
			for _, p := range slices.Sorted(maps.Keys(g.paths)) {
				add(sqlUpsertPath, g.id, p, g.paths[p])
			}
			for _, l := range slices.Sorted(maps.Keys(g.locales)) {
				add(sqlUpsertLocale, g.id, l, g.locales[l])
			}
			for _, v := range slices.Sorted(maps.Keys(g.visitors)) {
				visitorStmts[gi] = append(visitorStmts[gi], add(sqlInsertVisitor, g.id, v))
			}
			if r := g.cause.rank(); r > 0 {
				add(sqlSetCause, g.id, int64(r), g.cause.Source, g.cause.Class, g.cause.Detail, g.cause.Evidence)
			}
		}
		affected, err := c.pipeline(ctx, stmts)
		if err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		// A visitor counts once per incident: only the hashes the insert
		// above did not find already add to the count.
		var counts []stmt
		for gi, g := range groups {
			var n int64
			for _, i := range visitorStmts[gi] {
				n += affected[i]
			}
			if n > 0 {
				counts = append(counts, stmt{sqlAddVisitors, []any{g.id, n}})
			}
		}
		if _, err := c.pipeline(ctx, counts); err != nil {
			return fmt.Errorf("count visitors: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("incident: add %d events: %w", len(events), err)
	}
	for i := range events {
		events[i].IncidentID = batch[i].IncidentID
	}
	return nil
}

func (s *sqlStore) CloseIncidents(ctx context.Context, site, upstream string, at time.Time) (int64, error) {
	var n int64
	err := s.b.write(ctx, func(c conn) error {
		var err error
		n, err = c.exec(ctx, `UPDATE incidents SET closed_at = $3
			WHERE site = $1 AND upstream = $2 AND closed_at IS NULL AND last_seen <= $3`,
			site, upstream, micro(at))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("incident: close incidents: %w", err)
	}
	return n, nil
}

func (s *sqlStore) SetIncidentCause(ctx context.Context, id int64, c Cause) error {
	r := c.rank()
	if r == 0 {
		return fmt.Errorf("incident: cause source %q: want %q, %q or %q", c.Source, SourceProbe, SourceNginxVar, SourceNginxLog)
	}
	c = Cause{Source: c.Source, Class: clean(c.Class, maxShort), Detail: clean(c.Detail, maxLog), Evidence: clean(c.Evidence, maxLog)}
	err := s.b.write(ctx, func(tx conn) error {
		n, err := tx.exec(ctx, sqlSetCause, id, int64(r), c.Source, c.Class, c.Detail, c.Evidence)
		if err != nil || n > 0 {
			return err
		}
		// Nothing updated: either a more trusted cause is already there,
		// which is fine, or there is no such incident.
		var one int64
		return tx.queryRow(ctx, "SELECT 1 FROM incidents WHERE id = $1", id).Scan(&one)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("incident: set cause of %d: %w", id, err)
	}
	return nil
}

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
	rs, err := s.b.reader().query(ctx, `SELECT (time - $2) / $3 AS bucket, COUNT(*) FROM events
		WHERE ($1 = '' OR site = $1) AND time >= $2 GROUP BY bucket ORDER BY bucket`, site, from, width)
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

// pruneChunk bounds each delete so that the recorder's writes, which wait
// for the same lock, are never held up for long.
const pruneChunk = 5000

func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := micro(before)
	var total int64
	for _, q := range []string{
		`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < $1 LIMIT $2)`,
		// last_seen is checked again outside the subquery: on PostgreSQL,
		// an incident a concurrent batch just revived is then rechecked
		// and kept.
		`DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE last_seen < $1 LIMIT $2) AND last_seen < $1`,
	} {
		for {
			var n int64
			err := s.b.write(ctx, func(c conn) error {
				var err error
				n, err = c.exec(ctx, q, cut, int64(pruneChunk))
				return err
			})
			if err != nil {
				return total, fmt.Errorf("incident: prune: %w", err)
			}
			total += n
			if n < pruneChunk {
				break
			}
		}
	}
	return total, nil
}

func (s *sqlStore) Ping(ctx context.Context) error { return s.b.ping(ctx) }

func (s *sqlStore) Close() error { return s.b.close() }
