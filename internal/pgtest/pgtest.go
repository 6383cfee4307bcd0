package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that points the tests at an
// existing server instead: a postgres:// URL of a role allowed to create
// databases.
const EnvDSN = "GATEWATCH_TEST_POSTGRES_DSN"

// installHint ends every "cannot find PostgreSQL" error.
const installHint = "install them with `apt-get install postgresql` (`make test` does), or set " + EnvDSN

// Cluster is a PostgreSQL server for tests.
type Cluster struct {
	admin string // DSN of the maintenance database, for CREATE DATABASE
	local *local // nil for a server named by EnvDSN
}

// local is a cluster this package started.
type local struct {
	bin  string // directory of initdb, pg_ctl
	dir  string // temp dir: data/, socket, log
	port int
	as   *user.User // nil: run the binaries as ourselves
}

// Start returns the server for this test (see the package doc) and stops it,
// if it started it, when the test ends.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// StartLocal is Start for tests that stop and restart the server: it always
// starts a throwaway cluster, whatever EnvDSN says.
func StartLocal(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := NewLocal()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// New returns the server the EnvDSN variable names, or starts a local one. It
// is for TestMain, which has no testing.TB; call Close when done.
func New() (*Cluster, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return &Cluster{admin: dsn}, nil
	}
	return NewLocal()
}

// NewLocal initializes and starts a throwaway cluster; call Close when done.
func NewLocal() (_ *Cluster, err error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	l := &local{bin: bin}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		if l.as, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user to run PostgreSQL: %w; %s", err, installHint)
		}
	}
	if l.dir, err = os.MkdirTemp("", "gatewatch-pg-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(l.dir)
		}
	}()
	if l.as != nil {
		uid, _ := strconv.Atoi(l.as.Uid)
		gid, _ := strconv.Atoi(l.as.Gid)
		if err := os.Chown(l.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if l.port, err = freePort(); err != nil {
		return nil, err
	}
	// No fsync: a test cluster is thrown away, and fsync is most of the time
	// initdb and every commit would take.
	if err := l.run("initdb", "-D", l.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"); err != nil {
		return nil, err
	}
	if err := l.start(); err != nil {
		return nil, err
	}
	return &Cluster{local: l, admin: l.dsn("postgres")}, nil
}

// findBinaries returns the directory of the newest installed PostgreSQL's
// initdb and pg_ctl.
func findBinaries() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return majorOf(a) - majorOf(b) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("pgtest: PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, no initdb in PATH); " + installHint)
}

// majorOf returns 15 for /usr/lib/postgresql/15/bin/initdb.
func majorOf(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (l *local) data() string { return filepath.Join(l.dir, "data") }

func (l *local) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", l.port, db)
}

// run runs one of the cluster's binaries, as the postgres user when we are
// root.
func (l *local) run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(l.bin, name)
	var cmd *exec.Cmd
	if l.as != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", l.as.Username, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = l.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the server on loopback only, with its socket in the temp dir
// rather than /var/run/postgresql, which may not exist or not be ours.
func (l *local) start() error {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories='%s' "+
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", l.port, l.dir)
	logFile := filepath.Join(l.dir, "postgres.log")
	if err := l.run("pg_ctl", "-D", l.data(), "-l", logFile, "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	return nil
}

func (l *local) stop() error {
	return l.run("pg_ctl", "-D", l.data(), "-m", "fast", "-w", "-t", "60", "stop")
}

// Close stops a local cluster and deletes its files; for a server named by
// EnvDSN it does nothing.
func (c *Cluster) Close() error {
	if c.local == nil {
		return nil
	}
	pid := filepath.Join(c.local.data(), "postmaster.pid")
	var err error
	if _, serr := os.Stat(pid); serr == nil {
		err = c.local.stop()
	}
	if _, serr := os.Stat(pid); serr == nil {
		// Still running: keep the files for whoever looks into it.
		return err
	}
	return errors.Join(err, os.RemoveAll(c.local.dir))
}

// AdminDSN returns the DSN of the server's maintenance database.
func (c *Cluster) AdminDSN() string { return c.admin }

// NewDatabase creates an empty database for this test, dropped when the test
// ends, and returns its postgres:// DSN.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "gatewatch_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.adminExec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.adminExec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(c.admin)
	if err != nil {
		tb.Fatalf("pgtest: %s must be a postgres:// URL", EnvDSN)
	}
	u.Path = "/" + name
	return u.String()
}

func (c *Cluster) adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop stops a local cluster, dropping every connection, as an operator's
// `pg_ctl stop` would.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if c.local == nil {
		tb.Fatal("pgtest: cannot stop a server named by " + EnvDSN + "; use StartLocal")
	}
	if err := c.local.stop(); err != nil {
		tb.Fatal(err)
	}
}

// StartAgain starts a stopped local cluster on the same port, so existing
// DSNs work again.
func (c *Cluster) StartAgain(tb testing.TB) {
	tb.Helper()
	if c.local == nil {
		tb.Fatal("pgtest: cannot start a server named by " + EnvDSN + "; use StartLocal")
	}
	if err := c.local.start(); err != nil {
		tb.Fatal(err)
	}
}
