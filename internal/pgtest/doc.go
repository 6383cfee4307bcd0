// Package pgtest gives tests a real PostgreSQL server: the one named by
// GATEWATCH_TEST_POSTGRES_DSN when that is set, otherwise a throwaway
// cluster started from Debian's binaries (/usr/lib/postgresql/*/bin) in a
// temporary directory, listening on a free port on 127.0.0.1 only. Each test
// asks for its own database with [Cluster.NewDatabase].
//
// A local cluster can be stopped and started again on the same port
// ([Cluster.Stop], [Cluster.StartAgain]) to test what happens while the
// database is down.
//
// When the binaries are missing the tests fail, saying how to install them:
// a suite that silently skips its database tests proves nothing.
package pgtest
