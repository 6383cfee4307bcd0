package incident

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/pgtest"
)

// TestMigrationCountsExistingEvents upgrades a database holding events
// from before event_counts and checks that Series still counts them.
func TestMigrationCountsExistingEvents(t *testing.T) {
	for _, tt := range []struct {
		name string
		open func(t *testing.T) backend
	}{
		{"sqlite", func(t *testing.T) backend {
			b, err := openSQLite(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"postgres", func(t *testing.T) backend {
			b, err := openPostgres(context.Background(), pgtest.Start(t).NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := tt.open(t)
			s := &sqlStore{b: b}
			t.Cleanup(func() { _ = s.Close() })
			ms, err := loadMigrations(b.dialect())
			if err != nil {
				t.Fatal(err)
			}
			if err := applyMigrations(ctx, b, ms[:1]); err != nil {
				t.Fatalf("migration 1: %v", err)
			}
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			err = b.write(ctx, func(c conn) error {
				var id int64
				if err := c.queryRow(ctx, `INSERT INTO incidents (site, upstream, opened_at, last_seen, requests)
					VALUES ('shop', 'app', $1, $1, 3) RETURNING id`, micro(t0)).Scan(&id); err != nil {
					return err
				}
				for i, at := range []time.Duration{0, 500 * time.Millisecond, 90 * time.Second} {
					if _, err := c.exec(ctx, sqlInsertEvents[1], micro(t0.Add(at)), "shop", "app", "h", "/", "GET", int64(502),
						fmt.Sprintf("r%d", i), int64(0), "", "", "", "", "en", "v", "", "", "", "", "", "", id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("insert old events: %v", err)
			}
			if err := migrate(ctx, b); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			got, err := s.Series(ctx, "shop", t0, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			want := []Bucket{{Start: t0, N: 2}, {Start: t0.Add(time.Minute), N: 1}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Series after migrating = %+v; want %+v", got, want)
			}
		})
	}
}
