package incident_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/pgtest"
)

func openStore(t *testing.T, dsn, dir string) incident.Store {
	t.Helper()
	s, err := incident.Open(ctxT(t), dsn, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStoreSQLite(t *testing.T) {
	testStore(t, func(t *testing.T) opener {
		dir := t.TempDir()
		return func(t *testing.T) incident.Store { return openStore(t, "", dir) }
	})
}

func TestStorePostgres(t *testing.T) {
	cluster := pgtest.Start(t)
	testStore(t, func(t *testing.T) opener {
		dsn := cluster.NewDatabase(t)
		return func(t *testing.T) incident.Store { return openStore(t, dsn, "") }
	})
}

func TestOpenRejects(t *testing.T) {
	tests := []struct{ name, dsn, dir, want string }{
		{"sqlite without data dir", "", "", "data directory"},
		{"unknown scheme", "mysql://u:secret@db/x", t.TempDir(), "postgres://"},
		{"bad postgres url", "postgres://u:secret@127.0.0.1:notaport/x", "", "invalid PostgreSQL DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := incident.Open(context.Background(), tt.dsn, tt.dir)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q, %q) = nil error; want one", tt.dsn, tt.dir)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%q, %q) = %q; want it to mention %q and not the password", tt.dsn, tt.dir, err, tt.want)
			}
		})
	}
}
