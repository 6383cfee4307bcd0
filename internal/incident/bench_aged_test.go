package incident_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/pgtest"
)

// agedRows is how many event rows BenchmarkAddEventsAged seeds for its
// aged case: 10M by default, about what a month at the default row limit
// leaves once retention has pruned the rest.
var agedRows = flag.Int("aged-rows", 10_000_000, "rows BenchmarkAddEventsAged seeds before its aged case")

// seedSQLite and seedPostgres insert n event rows into the incident the
// store already has, in one INSERT … SELECT, in the hour before t0, with
// random request ids as nginx's $request_id makes them.
const seedSQLite = `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1)
INSERT INTO events (time, site, upstream, host, path, method, code, request_id, nginx_conn, upstream_addr,
	upstream_status, upstream_connect_time, upstream_response_time, locale, visitor_hash, browser, nginx_log,
	cause_source, cause_class, cause_detail, cause_evidence, incident_id)
SELECT $2 + i * 3600000000 / $1, 'shop', 'app', 'shop.example', '/p/' || (i % 50), 'GET', 502,
	lower(hex(randomblob(16))), i % 100000, '10.0.0.1:80', '502', '-', '', 'en', 'v' || (i % 1000), '', '',
	'', '', '', '', (SELECT max(id) FROM incidents)
FROM c`

const seedPostgres = `INSERT INTO events (time, site, upstream, host, path, method, code, request_id, nginx_conn, upstream_addr,
	upstream_status, upstream_connect_time, upstream_response_time, locale, visitor_hash, browser, nginx_log,
	cause_source, cause_class, cause_detail, cause_evidence, incident_id)
SELECT $2::bigint + i * 3600000000 / $1::bigint, 'shop', 'app', 'shop.example', '/p/' || (i % 50), 'GET', 502,
	md5(random()::text), i % 100000, '10.0.0.1:80', '502', '-', '', 'en', 'v' || (i % 1000), '', '',
	'', '', '', '', (SELECT max(id) FROM incidents)
FROM generate_series(1, $1::bigint) AS i`

// BenchmarkAddEventsAged is the cost of one batch of 256 rows (random
// request ids, as in production) into an events table that is empty and
// into one that holds -aged-rows rows: the store's write cost must not
// grow with the table. The seeding is not timed.
func BenchmarkAddEventsAged(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(b *testing.B) (incident.Store, func(n int) error)
	}{
		{"sqlite", func(b *testing.B) (incident.Store, func(int) error) {
			dir := b.TempDir()
			s, err := incident.Open(context.Background(), "", dir)
			if err != nil {
				b.Fatal(err)
			}
			return s, func(n int) error {
				raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "gatewatch.db")+"?_pragma=busy_timeout(10000)")
				if err != nil {
					return err
				}
				defer raw.Close()
				if _, err = raw.Exec(seedSQLite, n, t0.Add(-time.Hour).UnixMicro()); err != nil {
					return err
				}
				// The seed's gigabytes of WAL go into the database now,
				// not in the first timed write's checkpoint.
				_, err = raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
				return err
			}
		}},
		{"postgres", func(b *testing.B) (incident.Store, func(int) error) {
			dsn := pgtest.Start(b).NewDatabase(b)
			s, err := incident.Open(context.Background(), dsn, "")
			if err != nil {
				b.Fatal(err)
			}
			return s, func(n int) error {
				c, err := pgx.Connect(context.Background(), dsn)
				if err != nil {
					return err
				}
				defer c.Close(context.Background())
				if _, err = c.Exec(context.Background(), seedPostgres, n, t0.Add(-time.Hour).UnixMicro()); err != nil {
					return err
				}
				_, err = c.Exec(context.Background(), "VACUUM ANALYZE events")
				return err
			}
		}},
	} {
		b.Run(db.name, func(b *testing.B) {
			for _, rows := range []int{0, *agedRows} {
				b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
					s, seed := db.open(b)
					defer s.Close()
					// One batch first, so that the incident the seed
					// joins exists.
					addRandomBatch(b, s, 0)
					if rows > 0 {
						start := time.Now()
						if err := seed(rows); err != nil {
							b.Fatal(err)
						}
						b.Logf("seeded %d rows in %s", rows, time.Since(start).Round(time.Millisecond))
					}
					b.ReportAllocs()
					n := 256
					for b.Loop() {
						addRandomBatch(b, s, n)
						n += 256
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/batch")
				})
			}
		})
	}
}

// addRandomBatch writes 256 rows from event number n on, each with a
// random 32-hex request id.
func addRandomBatch(b *testing.B, s incident.Store, n int) {
	batch := make([]incident.Event, 256)
	var id [16]byte
	for i := range batch {
		rand.Read(id[:])
		batch[i] = incident.Event{
			Time: t0.Add(time.Duration(n+i) * time.Millisecond), Site: "shop", Upstream: "app",
			Host: "shop.example", Path: fmt.Sprintf("/p/%d", (n+i)%50), Method: "GET", Code: 502,
			RequestID: hex.EncodeToString(id[:]), Locale: "en", VisitorHash: fmt.Sprintf("v%d", (n+i)%1000),
			UpstreamAddr: "10.0.0.1:80", UpstreamStatus: "502", UpstreamConnectTime: "-",
		}
	}
	if err := s.AddEvents(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
}
