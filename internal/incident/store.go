package incident

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrNotFound is returned when the event or incident asked for does not
// exist (or was pruned).
var ErrNotFound = errors.New("incident: not found")

// EventWriter stores batches; it is all a Recorder needs.
type EventWriter interface {
	// WriteBatch adds a batch's counts to the open incidents of their
	// sites and upstreams (opening those that are not open) and to the
	// per-second series, and stores its rows, in one transaction. It is
	// safe to call from several instances sharing one database. It sets
	// IncidentID on the batch's counts and rows.
	WriteBatch(ctx context.Context, b *Batch) error
}

// Store keeps events and incidents. Times go in and come out in UTC.
type Store interface {
	EventWriter

	// AddEvents stores events and groups them into incidents in one
	// transaction: each event joins the open incident of its site and
	// upstream, or opens one, whose counters, codes, paths, locales,
	// distinct visitors and cause it updates. It is safe to call from
	// several instances sharing one database. It sets IncidentID on each
	// element of events. A CountOnly event is counted like the others but
	// gets no row of its own.
	AddEvents(ctx context.Context, events []Event) error

	// CloseIncidents closes the open incident of site and upstream at at,
	// once the upstream has passed its checks for a quiet period. An
	// incident that saw an error after at stays open: it has not been
	// quiet. It returns how many incidents it closed (0 or 1).
	CloseIncidents(ctx context.Context, site, upstream string, at time.Time) (int64, error)
	// SetIncidentCause records c as the incident's cause unless the
	// incident already has one from a more trusted source (probe, then
	// nginx variables, then nginx log line).
	SetIncidentCause(ctx context.Context, id int64, c Cause) error

	// Event returns the latest event with the request ID, or ErrNotFound.
	Event(ctx context.Context, requestID string) (Event, error)
	// Incident returns one incident with its codes, top paths and locales,
	// or ErrNotFound.
	Incident(ctx context.Context, id int64) (Incident, error)
	// Incidents lists incidents, most recently seen first.
	Incidents(ctx context.Context, f Filter) ([]Incident, error)
	// EventsForIncident returns the incident's latest events, newest first;
	// limit defaults to 100 and is at most 1000.
	EventsForIncident(ctx context.Context, id int64, limit int) ([]Event, error)
	// Series counts the events of site ("" for all sites) since since, per
	// interval of length bucket. Intervals without events are left out;
	// [Fill] adds them. It counts every event, CountOnly or not, from
	// counts kept per second: an event counts in the interval that holds
	// the end of its second, which is its own interval whenever since and
	// bucket are whole seconds.
	Series(ctx context.Context, site string, since time.Time, bucket time.Duration) ([]Bucket, error)
	// Visitors counts the distinct visitors of site since the start of the
	// minute that holds since, from every event, rows or not, and across
	// instances sharing the store (their hashes share the day's salt).
	Visitors(ctx context.Context, site string, since time.Time) (int64, error)

	Notices
	SharedState
	// RecordRecovery notes in the open incident of site and upstream that
	// the upstream passes its checks again since at (once per recovery).
	RecordRecovery(ctx context.Context, site, upstream string, at time.Time) error
	// Timeline returns an incident's history, oldest first, or ErrNotFound.
	Timeline(ctx context.Context, id int64) ([]TimelineEntry, error)
	// AddAnnouncement stores an announcement and returns its id.
	AddAnnouncement(ctx context.Context, a Announcement) (int64, error)
	// EndAnnouncement ends one at at (ErrNotFound for no such id).
	EndAnnouncement(ctx context.Context, id int64, at time.Time) error
	// Announcements lists those of site ("" for all) that show after
	// endAfter, newest first.
	Announcements(ctx context.Context, site string, endAfter time.Time, limit int) ([]Announcement, error)

	// Prune deletes events older than before and incidents last seen
	// before it, and returns how many rows (events plus incidents) it
	// deleted. Series' counts of the seconds before it go too, uncounted.
	Prune(ctx context.Context, before time.Time) (int64, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Open opens the store dsn names and applies its pending migrations. An
// empty dsn is the SQLite file gatewatch.db in dataDir (created if needed);
// a postgres:// or postgresql:// URL is PostgreSQL, for instances that share
// incidents.
func Open(ctx context.Context, dsn, dataDir string) (Store, error) {
	var (
		b   backend
		err error
	)
	switch {
	case dsn == "":
		b, err = openSQLite(ctx, dataDir)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		b, err = openPostgres(ctx, dsn)
	default:
		// Never echo the DSN: it may carry a password.
		return nil, errors.New("incident: store dsn must be empty (SQLite) or a postgres:// URL")
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, b); err != nil {
		return nil, errors.Join(err, b.close())
	}
	return &sqlStore{b: b}, nil
}
