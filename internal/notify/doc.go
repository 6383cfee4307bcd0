// Package notify tells staff that an incident opened, changed cause or
// closed: one message per event, to each configured target — a generic
// JSON webhook signed with HMAC-SHA256, a Slack-compatible incoming
// webhook, and e-mail over SMTP.
//
// Events come from the incident store's outbox ([incident.Notices]): the
// store records each opening, cause change and closing once, however many
// pages the outage serves and however many instances share the store, and
// a [Notifier] claims them. Each target has its own bounded queue and
// worker, so that a slow target delays only itself; a message is retried
// with exponential backoff, and what is dropped or fails is counted in
// metrics, kept in [Notifier.Stats] for the dashboard and written to the
// incident's timeline. Targets come only from the config: nothing a
// visitor sends reaches them.
package notify
