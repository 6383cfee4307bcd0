package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver: pure Go, no cgo
)

// sqliteBackend keeps two handles on one file: a single writer connection,
// because SQLite has one writer at a time anyway and queuing in database/sql
// is cheaper than SQLITE_BUSY, and a small pool of readers, which WAL lets
// run while the writer writes.
type sqliteBackend struct {
	w, r *sql.DB
	file dbFile // the file opened, which ping checks is still there
}

// sqliteFile is the database file inside the data directory.
const sqliteFile = "gatewatch.db"

func openSQLite(ctx context.Context, dataDir string) (*sqliteBackend, error) {
	if dataDir == "" {
		return nil, errors.New("incident: a data directory is required for the SQLite store")
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("incident: create data directory: %w", err)
	}
	path := filepath.Join(dataDir, sqliteFile)
	// busy_timeout comes first (the driver orders it so) because switching
	// to WAL needs a lock another process may hold; _txlock=immediate takes
	// the write lock at BEGIN, so two processes on one file wait for each
	// other instead of failing when a read transaction tries to upgrade.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("incident: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := pingBusy(ctx, w); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("incident: open %s: %w", path, err)
	}

	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+rq.Encode())
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("incident: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	file, err := openedFile(path)
	if err != nil {
		_ = errors.Join(r.Close(), w.Close())
		return nil, fmt.Errorf("incident: open %s: %w", path, err)
	}
	return &sqliteBackend{w: w, r: r, file: file}, nil
}

// uriPath escapes what SQLite's URI file names give a meaning to, so
// that a data directory with '#' or '?' in its name is that directory and
// not a shorter one.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "#", "%23", "?", "%3f").Replace(path)
}

// pingBusy opens the first connection, retrying while another process
// holds the file: SQLite answers the switch to WAL mode with SQLITE_BUSY at
// once, busy_timeout or not, while a second instance starts at the same
// moment.
func pingBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (b *sqliteBackend) reader() conn { return sqlConn{b.r} }

func (b *sqliteBackend) write(ctx context.Context, fn func(conn) error) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(sqlConn{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lockMigrations has nothing to do: the write transaction began IMMEDIATE,
// which already excludes every other writer of the file.
func (b *sqliteBackend) lockMigrations(context.Context, conn) error { return nil }

func (b *sqliteBackend) dialect() string { return "sqlite" }

// ping asks the database, then checks that what it writes to is still
// the file opened at start, and writable: a deleted data directory or a
// read-only file keeps answering queries while every write is lost.
func (b *sqliteBackend) ping(ctx context.Context) error {
	if err := b.w.PingContext(ctx); err != nil {
		return err
	}
	return b.file.check()
}

func (b *sqliteBackend) close() error {
	return errors.Join(b.r.Close(), b.w.Close())
}
