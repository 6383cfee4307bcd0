package incident

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSQLiteFileUsesWAL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "gatewatch.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}
	for name, c := range map[string]conn{"writer": sqlConn{s.(*sqlStore).b.(*sqliteBackend).w}, "reader": s.(*sqlStore).b.reader()} {
		var mode string
		if err := c.queryRow(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("%s: PRAGMA journal_mode = %q; want %q", name, mode, "wal")
		}
	}
	var version int64
	if err := s.(*sqlStore).b.reader().queryRow(context.Background(), "SELECT MAX(version) FROM schema_migrations").Scan(&version); err != nil || version < 1 {
		t.Errorf("schema_migrations version = %d, %v; want >= 1", version, err)
	}
}
