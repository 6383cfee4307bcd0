// Package cause is gatewatch's one vocabulary of what went wrong and its
// one verdict table.
//
// A Class names a failure family (refused, read_timeout, http_5xx, …) the
// same way whoever saw it: the probe's check, nginx's upstream variables,
// nginx's error.log line, the stored event, the admin view. Each class has
// a Kind (what it means for the visitor) and a Category (what staff check
// first).
//
// Decide turns a failed request's Evidence into a Decision: its own
// evidence first (FromRequest), then the check of the upstream it failed
// on, then the crowd of distinct visitors with errors on that upstream.
// The table in verdict.go is the decision; docs/verdict.md explains it row
// by row. The package knows nothing of HTTP or storage.
package cause
