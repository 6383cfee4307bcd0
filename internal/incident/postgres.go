package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgBackend is a pgx pool. The pool replaces broken connections on demand,
// which is how the store recovers after PostgreSQL comes back.
type pgBackend struct {
	pool *pgxpool.Pool
}

// pgConnectTimeout bounds a connection attempt when the DSN sets none, so a
// database that is down fails a batch quickly instead of holding the writer.
const pgConnectTimeout = 5 * time.Second

// migrationLockKey is the advisory lock that serializes migrations of
// instances starting together; any constant unlikely to collide will do.
const migrationLockKey = 0x6761746577617463 // "gatewatc"

func openPostgres(ctx context.Context, dsn string) (*pgBackend, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("incident: invalid PostgreSQL DSN")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = pgConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("incident: connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("incident: connect to PostgreSQL: %w", err)
	}
	return &pgBackend{pool: pool}, nil
}

func (b *pgBackend) reader() conn { return pgxConn{b.pool} }

func (b *pgBackend) write(ctx context.Context, fn func(conn) error) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return fn(pgxConn{tx}) })
}

func (b *pgBackend) lockMigrations(ctx context.Context, c conn) error {
	_, err := c.exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockKey))
	return err
}

func (b *pgBackend) dialect() string { return "postgres" }

func (b *pgBackend) ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *pgBackend) close() error {
	b.pool.Close()
	return nil
}
