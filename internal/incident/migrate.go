package incident

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrations holds numbered SQL files per dialect: NNNN_name.sql, applied in
// order, each once. A released file is never edited; a change is a new file.
//
//go:embed migrations
var migrations embed.FS

type migration struct {
	version int64
	name    string
	sql     string
}

// loadMigrations returns the dialect's migrations in version order.
func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("incident: migration %s: want NNNN_name.sql", e.Name())
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("incident: migration %s: want NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrations, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return int(a.version - b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("incident: migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, all in one transaction
// so that a failure leaves the schema as it was. The lock makes a second
// instance starting at the same moment wait, then find nothing to do.
func migrate(ctx context.Context, b backend) error {
	ms, err := loadMigrations(b.dialect())
	if err != nil {
		return err
	}
	return applyMigrations(ctx, b, ms)
}

// applyMigrations applies those of ms the database lacks; see migrate.
func applyMigrations(ctx context.Context, b backend, ms []migration) error {
	return b.write(ctx, func(c conn) error {
		if err := b.lockMigrations(ctx, c); err != nil {
			return fmt.Errorf("incident: lock migrations: %w", err)
		}
		if _, err := c.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			name       TEXT   NOT NULL,
			applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("incident: create schema_migrations: %w", err)
		}
		applied := make(map[int64]bool)
		rs, err := c.query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return fmt.Errorf("incident: read schema_migrations: %w", err)
		}
		for rs.Next() {
			var v int64
			if err := rs.Scan(&v); err != nil {
				rs.Close()
				return err
			}
			applied[v] = true
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := c.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("incident: migration %s: %w", m.name, err)
			}
			if _, err := c.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.version, m.name, nowMicro()); err != nil {
				return fmt.Errorf("incident: record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}
