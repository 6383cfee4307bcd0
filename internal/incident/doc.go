// Package incident records the error pages gatewatch serves and groups them
// into incidents that support staff can open later.
//
// An [Event] is one error page served: when, for which site and upstream,
// what nginx reported about the upstream, and who (as a hash) saw it. The
// HTTP handler hands events to a [Recorder], which never makes a page
// wait: it counts every event in memory at once (a [Batch]'s counts,
// written every flush, so incident and per-second figures are exact at any
// rate) and queues the event's row, up to RecorderOptions.RowsPerSecond,
// through a bounded queue; a row that finds the queue full is dropped and
// counted, its count stays. One writer goroutine stores batches.
//
// A [Store] keeps events and groups them into an [Incident] per site and
// upstream: the incident opens on the first error, collects counts (requests,
// distinct visitors, codes, paths, locales) and the most trusted [Cause], and
// is closed once the upstream has passed its checks for a quiet period
// ([Closing] holds that policy); the next error after that opens a new
// incident. [EvidenceWriter] joins nginx's own error.log line to each event
// row on its way to the store.
//
// Two adapters implement Store, chosen by [Open] from the DSN: embedded SQLite
// (pure Go, no cgo; the default, one file in the data directory) and
// PostgreSQL, which lets several gatewatch instances share incidents. Both run
// the same SQL on the same schema, apply their migrations at start and pass
// the same contract tests.
package incident
