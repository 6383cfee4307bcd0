// Package announce keeps what staff tell the visitors of a site's error
// pages: announcements written in the admin (kept in the incident store,
// so that every instance shows them) and the current incidents and
// maintenances of the site's status page, pulled on an interval.
//
// A [Board] holds the announcements that show now, per site, as an
// immutable snapshot with a version: the error page reads it without
// locks, waits or I/O, and renders an announcement section again only
// when the version changes. [Board.Run] refreshes it from the store every
// second or so and drops announcements whose end has passed; a
// [StatusPage] poller fetches one configured summary.json, bounded in size
// and time, and never on a visitor's request.
//
// Text is plain: [Clean] bounds and tidies it, and [Parts] splits it into
// runs of text and http(s) links, which pages render escaped, with the
// link's own address as its text.
package announce
