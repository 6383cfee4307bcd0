package incident

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"
)

// CrowdMark is one instance's sighting of a visitor with an error on an
// upstream of a site (Upstream "" for the site as a whole).
type CrowdMark struct {
	Site, Upstream string
	Visitor        [16]byte
	IP             [8]byte // the key of the visitor's address alone
	At             time.Time
}

// CrowdPerIP is the most visitors one address accounts for in a count, as
// the monitor caps them: a household shares an address, but one address
// cycling user agents must not make a crowd.
const CrowdPerIP = 3

// CrowdCount is the distinct visitors of a site's upstream, across the
// instances sharing the store.
type CrowdCount struct {
	Site, Upstream string
	Visitors       int
}

// crowdPerInsert bounds the rows of one upsert of sightings.
const crowdPerInsert = 64

// sqlUpsertCrowd[dialect][n] records n sightings, keeping each visitor's
// latest: the larger of two values is MAX in SQLite, GREATEST in
// PostgreSQL.
var sqlUpsertCrowd = map[string][]string{}

func init() {
	for dialect, latest := range map[string]string{"sqlite": "MAX", "postgres": "GREATEST"} {
		sqlUpsertCrowd[dialect] = multiRow("INSERT INTO crowd_visitors (site, upstream, visitor_hash, ip_hash, seen_at)",
			"\nON CONFLICT (site, upstream, visitor_hash) DO UPDATE SET seen_at = "+latest+"(crowd_visitors.seen_at, excluded.seen_at)",
			crowdPerInsert, func(i int) string { return placeholders(5*i+1, 5) })
	}
}

// SyncCrowd records this instance's sightings, drops those before prune,
// and returns every instance's distinct visitors seen since since, per
// site and upstream, in one transaction.
func (s *sqlStore) SyncCrowd(ctx context.Context, seen []CrowdMark, since, prune time.Time) ([]CrowdCount, error) {
	var out []CrowdCount
	err := s.b.write(ctx, func(c conn) error {
		qs := sqlUpsertCrowd[s.b.dialect()]
		for len(seen) > 0 {
			n := min(len(seen), crowdPerInsert)
			args := make([]any, 0, 5*n)
			for _, m := range seen[:n] {
				args = append(args, clean(m.Site, maxShort), clean(m.Upstream, maxShort), hex.EncodeToString(m.Visitor[:]),
					hex.EncodeToString(m.IP[:]), micro(m.At))
			}
			if _, err := c.exec(ctx, qs[n], args...); err != nil {
				return err
			}
			seen = seen[n:]
		}
		if _, err := c.exec(ctx, `DELETE FROM crowd_visitors WHERE seen_at < $1`, micro(prune)); err != nil {
			return err
		}
		rs, err := c.query(ctx, `SELECT site, upstream, SUM(CASE WHEN n > $2 THEN $2 ELSE n END) FROM
			(SELECT site, upstream, ip_hash, COUNT(*) AS n FROM crowd_visitors WHERE seen_at >= $1 GROUP BY site, upstream, ip_hash) AS per_ip
			GROUP BY site, upstream`, micro(since), int64(CrowdPerIP))
		if err != nil {
			return err
		}
		defer rs.Close()
		out = out[:0]
		for rs.Next() {
			var cc CrowdCount
			if err := rs.Scan(&cc.Site, &cc.Upstream, &cc.Visitors); err != nil {
				return err
			}
			out = append(out, cc)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("incident: sync crowd: %w", err)
	}
	return out, nil
}
