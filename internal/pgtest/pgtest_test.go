package pgtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatewatch/gatewatch/internal/pgtest"
)

func query(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var db string
	err = conn.QueryRow(ctx, "SELECT current_database()").Scan(&db)
	return db, err
}

func TestLocalClusterStopAndStartAgain(t *testing.T) {
	c := pgtest.StartLocal(t)
	if !strings.Contains(c.AdminDSN(), "@127.0.0.1:") {
		t.Errorf("AdminDSN() = %q; want a 127.0.0.1 address", c.AdminDSN())
	}
	dsn := c.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	db, err := query(ctx, dsn)
	if err != nil {
		t.Fatalf("query(%q): %v", dsn, err)
	}
	if want := strings.TrimPrefix(dsn[strings.LastIndex(dsn, "/"):strings.Index(dsn, "?")], "/"); db != want {
		t.Errorf("current_database() = %q; want %q", db, want)
	}

	c.Stop(t)
	if _, err := query(ctx, dsn); err == nil {
		t.Fatalf("query(%q) after Stop succeeded; want an error", dsn)
	}
	c.StartAgain(t)
	if _, err := query(ctx, dsn); err != nil {
		t.Fatalf("query(%q) after StartAgain: %v", dsn, err)
	}
}

func TestEachDatabaseIsFresh(t *testing.T) {
	c := pgtest.Start(t)
	a, b := c.NewDatabase(t), c.NewDatabase(t)
	if a == b {
		t.Fatalf("NewDatabase() returned %q twice", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("public tables in a new database = %d; want 0", tables)
	}
}
