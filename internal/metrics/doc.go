// Package metrics publishes, at scrape time, the counters that the
// monitor, the event recorder and incident closing keep themselves, so
// that none of them needs to know Prometheus. The request metrics of the
// HTTP handlers live with the handlers.
package metrics
