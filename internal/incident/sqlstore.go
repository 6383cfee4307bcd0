package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	requests       int64
	rows           []int // indexes into the batch's rows
	codes          map[int]int64
	paths          map[string]int64
	locales        map[string]int64
	visitors       map[string]bool
	cause          Cause
	causeAt        time.Time
	counts         []int // indexes into the batch's counts
	id             int64
}

func (g *group) offerCause(c Cause, at time.Time) {
	if r := c.Rank(); r > 0 && (r > g.cause.Rank() || (r == g.cause.Rank() && !at.Before(g.causeAt))) {
		g.cause, g.causeAt = c, at
	}
}

// groupBatch merges a batch's counts and rows per site and upstream, with
// the strings made safe to store (two spellings that clean to one string
// are one group). A row whose count came in an earlier batch gets a group
// with nothing to add but its time and cause, so that it finds its
// incident. Groups come sorted so that concurrent writers lock incidents
// in the same order and cannot deadlock.
func groupBatch(b *Batch, rows []Event) []*group {
	type key struct{ site, upstream string }
	byKey := make(map[key]*group)
	get := func(site, upstream string, at time.Time) *group {
		k := key{site, upstream}
		g := byKey[k]
		if g == nil {
			g = &group{site: site, upstream: upstream, first: at, last: at,
				codes: map[int]int64{}, paths: map[string]int64{}, locales: map[string]int64{}, visitors: map[string]bool{}}
			byKey[k] = g
		}
		return g
	}
	for ci := range b.Counts {
		c := &b.Counts[ci]
		first, last := c.First.UTC().Truncate(time.Microsecond), c.Last.UTC().Truncate(time.Microsecond)
		g := get(clean(c.Site, maxShort), clean(c.Upstream, maxShort), first)
		g.counts = append(g.counts, ci)
		g.requests += c.Requests
		if first.Before(g.first) {
			g.first = first
		}
		if last.After(g.last) {
			g.last = last
		}
		for code, n := range c.Codes {
			g.codes[code] += n
		}
		for p, n := range c.Paths {
			if p = clean(p, maxPath); p != "" {
				g.paths[p] += n
			}
		}
		for l, n := range c.Locales {
			if l = clean(l, maxShort); l != "" {
				g.locales[l] += n
			}
		}
		for _, v := range c.Visitors {
			if v = clean(v, maxShort); v != "" {
				g.visitors[v] = true
			}
		}
		g.offerCause(sanitizedCause(c.Cause), c.CauseAt.UTC().Truncate(time.Microsecond))
	}
	for i, e := range rows {
		g := get(e.Site, e.Upstream, e.Time)
		g.rows = append(g.rows, i)
		if e.Time.Before(g.first) {
			g.first = e.Time
		}
		if e.Time.After(g.last) {
			g.last = e.Time
		}
		// A row may know more than its count did: the nginx log line
		// the evidence writer found for it.
		g.offerCause(e.Cause, e.Time)
	}
	out := slices.Collect(maps.Values(byKey))
	slices.SortFunc(out, func(a, b *group) int {
		return cmp.Or(cmp.Compare(a.site, b.site), cmp.Compare(a.upstream, b.upstream))
	})
	return out
}

// secondMicros is the granule of the event_counts table that Series reads.
const secondMicros = int64(time.Second / time.Microsecond)

// secondOf returns the start of the second that holds us, truncating like
// the SQL of migration 0002 does.
func secondOf(us int64) int64 { return us / secondMicros * secondMicros }

// siteSecond is how many events of a batch a site had in one second.
type siteSecond struct {
	site string
	at   int64 // start of the second, in microseconds
	n    int64
}

// batchSeconds merges a batch's per-second counts by cleaned site, sorted
// by site and second.
func batchSeconds(b *Batch) []siteSecond {
	type key struct {
		site string
		at   int64
	}
	byKey := make(map[key]int64)
	for _, sc := range b.Seconds {
		byKey[key{clean(sc.Site, maxShort), secondOf(micro(sc.At))}] += sc.N
	}
	out := make([]siteSecond, 0, len(byKey))
	for k, n := range byKey {
		out = append(out, siteSecond{k.site, k.at, n})
	}
	slices.SortFunc(out, func(a, b siteSecond) int {
		return cmp.Or(cmp.Compare(a.site, b.site), cmp.Compare(a.at, b.at))
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
	sqlUpsertCode = `INSERT INTO incident_codes (incident_id, code, n) VALUES ($1, $2, $3)
ON CONFLICT (incident_id, code) DO UPDATE SET n = incident_codes.n + excluded.n`
	sqlUpsertPath = `INSERT INTO incident_paths (incident_id, path, n) VALUES ($1, $2, $3)
ON CONFLICT (incident_id, path) DO UPDATE SET n = incident_paths.n + excluded.n`
	sqlUpsertLocale = `INSERT INTO incident_locales (incident_id, locale, n) VALUES ($1, $2, $3)
ON CONFLICT (incident_id, locale) DO UPDATE SET n = incident_locales.n + excluded.n`
	sqlUpsertCount = `INSERT INTO event_counts (site, time, n) VALUES ($1, $2, $3)
ON CONFLICT (site, time) DO UPDATE SET n = event_counts.n + excluded.n`
	sqlAddVisitors = `UPDATE incidents SET visitors = visitors + $2 WHERE id = $1`
	sqlSetCause    = `UPDATE incidents SET cause_rank = $2, cause_source = $3, cause_class = $4, cause_detail = $5,
	cause_evidence = $6 WHERE id = $1 AND cause_rank <= $2`
)

// eventCols is the number of columns of an event row, and
// eventsPerInsert the rows one insert writes: one statement per batch of
// rows, rather than one per row, well inside both databases' limits on
// parameters (SQLite's 32766, PostgreSQL's 65535).
const (
	eventCols       = 22
	eventsPerInsert = 64
)

// multiRow returns the statements head VALUES t(0), …, t(n-1) tail for n
// from 1 to max, indexed by n: one statement per batch of rows rather than
// one per row.
func multiRow(head, tail string, max int, tuple func(i int) string) []string {
	qs := make([]string, max+1)
	for n := 1; n <= max; n++ {
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple(i))
		}
		b.WriteString(tail)
		qs[n] = b.String()
	}
	return qs
}

// placeholders returns "($first, …, $first+n-1)".
func placeholders(first, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for c := range n {
		if c > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+c)
	}
	b.WriteByte(')')
	return b.String()
}

// sqlInsertEvents[n] inserts n event rows.
var sqlInsertEvents = multiRow(`INSERT INTO events (time, site, upstream, host, path, method, code, request_id, nginx_conn,
	upstream_addr, upstream_status, upstream_connect_time, upstream_response_time, locale, visitor_hash, browser,
	nginx_log, cause_source, cause_class, cause_detail, cause_evidence, incident_id)`, "", eventsPerInsert,
	func(i int) string { return placeholders(i*eventCols+1, eventCols) })

// visitorsPerInsert bounds the rows of one insert of visitors: one
// statement per visitor was most of the cost of a storm's batch.
const visitorsPerInsert = 64

// sqlInsertSiteVisitors[n] inserts n (site, minute, visitor) rows,
// skipping those already there.
var sqlInsertSiteVisitors = multiRow("INSERT INTO site_visitors (site, minute, visitor_hash)",
	"\nON CONFLICT (site, minute, visitor_hash) DO NOTHING", visitorsPerInsert,
	func(i int) string { return placeholders(3*i+1, 3) })

// sqlInsertVisitors[n] inserts n visitor hashes ($2…) of incident $1,
// skipping those already there; it affects one row per new visitor.
var sqlInsertVisitors = multiRow("INSERT INTO incident_visitors (incident_id, visitor_hash)",
	"\nON CONFLICT (incident_id, visitor_hash) DO NOTHING", visitorsPerInsert,
	func(i int) string { return fmt.Sprintf("($1, $%d)", i+2) })

func (s *sqlStore) AddEvents(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	b := CountEvents(events)
	if err := s.WriteBatch(ctx, &b); err != nil {
		return fmt.Errorf("incident: add %d events: %w", len(events), err)
	}
	ids := make(map[groupKey]int64, len(b.Counts))
	for _, c := range b.Counts {
		ids[groupKey{c.Site, c.Upstream}] = c.IncidentID
	}
	for i := range events {
		events[i].IncidentID = ids[groupKey{events[i].Site, events[i].Upstream}]
	}
	return nil
}

func (s *sqlStore) WriteBatch(ctx context.Context, b *Batch) error {
	if len(b.Counts) == 0 && len(b.Rows) == 0 && len(b.Visitors) == 0 {
		return nil
	}
	rows := make([]Event, len(b.Rows))
	for i, e := range b.Rows {
		rows[i] = sanitized(e)
	}
	groups := groupBatch(b, rows)
	err := s.b.write(ctx, func(c conn) error {
		// The upsert locks the open incident's row until commit (on
		// PostgreSQL), so writers of one incident take turns and the
		// counter updates below cannot interleave.
		for _, g := range groups {
			if err := c.queryRow(ctx, sqlUpsertIncident, g.site, g.upstream, micro(g.first), micro(g.last),
				g.requests).Scan(&g.id); err != nil {
				return fmt.Errorf("upsert incident: %w", err)
			}
		}
		var stmts []stmt
		add := func(q string, args ...any) int {
			stmts = append(stmts, stmt{q, args})
			return len(stmts) - 1
		}
		for _, g := range groups {
			add(sqlTimelineOpened, g.id, micro(g.first))
		}
		for _, g := range groups {
			for _, i := range g.rows {
				rows[i].IncidentID = g.id
			}
		}
		for chunk := range slices.Chunk(rows, eventsPerInsert) {
			args := make([]any, 0, len(chunk)*eventCols)
			for _, e := range chunk {
				args = append(args, micro(e.Time), e.Site, e.Upstream, e.Host, e.Path, e.Method, int64(e.Code),
					e.RequestID, e.NginxConn, e.UpstreamAddr, e.UpstreamStatus, e.UpstreamConnectTime,
					e.UpstreamResponseTime, e.Locale, e.VisitorHash, e.Browser, e.NginxLog, e.Cause.Source,
					e.Cause.Class, e.Cause.Detail, e.Cause.Evidence, e.IncidentID)
			}
			add(sqlInsertEvents[len(chunk)], args...)
		}
		visitorStmts := make([][]int, len(groups))
		for gi, g := range groups {
			for _, code := range slices.Sorted(maps.Keys(g.codes)) {
				add(sqlUpsertCode, g.id, int64(code), g.codes[code])
			}
			for _, p := range slices.Sorted(maps.Keys(g.paths)) {
				add(sqlUpsertPath, g.id, p, g.paths[p])
			}
			for _, l := range slices.Sorted(maps.Keys(g.locales)) {
				add(sqlUpsertLocale, g.id, l, g.locales[l])
			}
			visitors := slices.Sorted(maps.Keys(g.visitors))
			for chunk := range slices.Chunk(visitors, visitorsPerInsert) {
				args := make([]any, 0, len(chunk)+1)
				args = append(args, g.id)
				for _, v := range chunk {
					args = append(args, v)
				}
				visitorStmts[gi] = append(visitorStmts[gi], add(sqlInsertVisitors[len(chunk)], args...))
			}
			if r := g.cause.Rank(); r > 0 {
				add(sqlTimelineCause, g.id, micro(g.causeAt), g.cause.Class, int64(r))
				add(sqlSetCause, g.id, int64(r), g.cause.Source, g.cause.Class, g.cause.Detail, g.cause.Evidence)
			}
		}
		// Sorted, like the groups, so that concurrent writers take the
		// rows' locks in one order.
		for _, sc := range batchSeconds(b) {
			add(sqlUpsertCount, sc.site, sc.at, sc.n)
		}
		for chunk := range slices.Chunk(b.Visitors, visitorsPerInsert) {
			args := make([]any, 0, 3*len(chunk))
			for _, v := range chunk {
				us := micro(v.Minute)
				args = append(args, clean(v.Site, maxShort), us-us%minuteMicros, clean(v.Hash, maxShort))
			}
			add(sqlInsertSiteVisitors[len(chunk)], args...)
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
		return fmt.Errorf("incident: write %d counts, %d rows: %w", len(b.Counts), len(b.Rows), err)
	}
	for _, g := range groups {
		for _, ci := range g.counts {
			b.Counts[ci].IncidentID = g.id
		}
	}
	for i := range b.Rows {
		b.Rows[i].IncidentID = rows[i].IncidentID
	}
	return nil
}

func (s *sqlStore) CloseIncidents(ctx context.Context, site, upstream string, at time.Time) (int64, error) {
	var n int64
	err := s.b.write(ctx, func(c conn) error {
		if _, err := c.exec(ctx, sqlTimelineClosed, site, upstream, micro(at)); err != nil {
			return err
		}
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
	r := c.Rank()
	if r == 0 {
		return fmt.Errorf("incident: cause source %q: want %q, %q or %q", c.Source, SourceProbe, SourceNginxVar, SourceNginxLog)
	}
	c = Cause{Source: c.Source, Class: clean(c.Class, maxShort), Detail: clean(c.Detail, maxLog), Evidence: clean(c.Evidence, maxLog)}
	err := s.b.write(ctx, func(tx conn) error {
		if _, err := tx.exec(ctx, sqlTimelineCause, id, nowMicro(), c.Class, int64(r)); err != nil {
			return err
		}
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

// pruneChunk bounds each delete so that the recorder's writes, which wait
// for the same lock, are never held up for long.
const pruneChunk = 5000

func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := micro(before)
	var total int64
	for _, p := range []struct {
		q       string
		cut     int64
		counted bool // in the total Prune returns
	}{
		{q: `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < $1 LIMIT $2)`, cut: cut, counted: true},
		// A second's count goes once all of the second is before the cut.
		{q: `DELETE FROM event_counts WHERE (site, time) IN (SELECT site, time FROM event_counts WHERE time < $1 LIMIT $2)`,
			cut: cut - secondMicros + 1},
		// last_seen is checked again outside the subquery: on PostgreSQL,
		// an incident a concurrent batch just revived is then rechecked
		// and kept.
		// A minute's visitors go once all of the minute is before the cut.
		{q: `DELETE FROM site_visitors WHERE (site, minute, visitor_hash) IN
			(SELECT site, minute, visitor_hash FROM site_visitors WHERE minute < $1 LIMIT $2)`,
			cut: cut - minuteMicros + 1},
		{q: `DELETE FROM announcements WHERE id IN (SELECT id FROM announcements WHERE until < $1 LIMIT $2)`, cut: cut},
		{q: `DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE last_seen < $1 LIMIT $2) AND last_seen < $1`,
			cut: cut, counted: true},
	} {
		for {
			var n int64
			err := s.b.write(ctx, func(c conn) error {
				var err error
				n, err = c.exec(ctx, p.q, p.cut, int64(pruneChunk))
				return err
			})
			if err != nil {
				return total, fmt.Errorf("incident: prune: %w", err)
			}
			if p.counted {
				total += n
			}
			if n < pruneChunk {
				break
			}
		}
	}
	return total, nil
}

func (s *sqlStore) Visitors(ctx context.Context, site string, since time.Time) (int64, error) {
	us := micro(since)
	var n int64
	err := s.b.reader().queryRow(ctx, `SELECT COUNT(DISTINCT visitor_hash) FROM site_visitors WHERE site = $1 AND minute >= $2`,
		site, us-us%minuteMicros).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("incident: visitors: %w", err)
	}
	return n, nil
}

func (s *sqlStore) Ping(ctx context.Context) error { return s.b.ping(ctx) }

func (s *sqlStore) Close() error { return s.b.close() }
