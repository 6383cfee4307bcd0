package incident

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The two adapters run the same SQL: both databases accept $N placeholders,
// ON CONFLICT upserts (also on a partial unique index), RETURNING and window
// functions. What differs is the driver, so the shared queries talk to these
// small interfaces, one implementation per driver.

// conn is a database handle or an open transaction.
type conn interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
	// pipeline runs stmts in order and returns how many rows each affected.
	// PostgreSQL sends them in one round trip.
	pipeline(ctx context.Context, stmts []stmt) ([]int64, error)
}

type stmt struct {
	sql  string
	args []any
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface {
	Scan(dest ...any) error
}

// backend is one database: a handle for reads and serialized write
// transactions.
type backend interface {
	reader() conn
	// write runs fn in one transaction, committed when fn returns nil.
	write(ctx context.Context, fn func(conn) error) error
	// lockMigrations keeps a second instance starting at the same moment
	// from applying the same migrations; it runs inside the transaction.
	lockMigrations(ctx context.Context, c conn) error
	dialect() string
	ping(ctx context.Context) error
	close() error
}

// sqlConn adapts database/sql (SQLite) to conn.
type sqlConn struct {
	db interface {
		ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
		PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)
	}
}

func (c sqlConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.db.ExecContext(ctx, positional(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c sqlConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (c sqlConn) queryRow(ctx context.Context, q string, args ...any) row {
	return sqlRow{c.db.QueryRowContext(ctx, q, args...)}
}

// pipeline prepares each distinct statement once: a batch repeats the same
// few statements hundreds of times.
func (c sqlConn) pipeline(ctx context.Context, stmts []stmt) (_ []int64, err error) {
	prepared := make(map[string]*sql.Stmt)
	defer func() {
		for _, st := range prepared {
			if cerr := st.Close(); err == nil {
				err = cerr
			}
		}
	}()
	out := make([]int64, len(stmts))
	for i, s := range stmts {
		st, ok := prepared[s.sql]
		if !ok {
			if st, err = c.db.PrepareContext(ctx, positional(s.sql)); err != nil {
				return nil, err
			}
			prepared[s.sql] = st
		}
		res, err := st.ExecContext(ctx, s.args...)
		if err != nil {
			return nil, err
		}
		if out[i], err = res.RowsAffected(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// positionalMin is the fewest parameters a statement needs for
// positional to rewrite it: the multi-row inserts of a batch.
const positionalMin = 32

// positionalCache holds positional's answers by statement.
var positionalCache sync.Map // string → string

// positional returns q with its parameters $1, $2, … $n written "?" when
// they appear in that order, each once, and there are at least
// positionalMin of them; else q. SQLite keeps "$n" as a named parameter,
// and the driver looks each one's name up in a list as long as the
// statement's parameters: binding a 64-row insert of events (1,408
// parameters) walked that list a million times, a third of a batch's
// CPU. A "?" has no name.
func positional(q string) string {
	if v, ok := positionalCache.Load(q); ok {
		return v.(string)
	}
	out := q
	var b strings.Builder
	next := 1
	ok := true
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(q[i+1 : j]); err != nil || n != next {
			ok = false
			break
		}
		next++
		b.WriteByte('?')
		i = j - 1
	}
	if ok && next-1 >= positionalMin {
		out = b.String()
	}
	positionalCache.Store(q, out)
	return out
}

type sqlRows struct{ *sql.Rows }

// Close drops database/sql's error: Err reports what matters after Next.
func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	return nil
}

// pgxConn adapts pgx (a pool or a transaction) to conn.
type pgxConn struct {
	db interface {
		Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, q string, args ...any) pgx.Row
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	}
}

func (c pgxConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.db.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c pgxConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	return c.db.Query(ctx, q, args...)
}

func (c pgxConn) queryRow(ctx context.Context, q string, args ...any) row {
	return pgxRow{c.db.QueryRow(ctx, q, args...)}
}

func (c pgxConn) pipeline(ctx context.Context, stmts []stmt) (_ []int64, err error) {
	if len(stmts) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.sql, s.args...)
	}
	br := c.db.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	out := make([]int64, len(stmts))
	for i := range stmts {
		tag, err := br.Exec()
		if err != nil {
			return nil, err
		}
		out[i] = tag.RowsAffected()
	}
	return out, nil
}

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	return nil
}
