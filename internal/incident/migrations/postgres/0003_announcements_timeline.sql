-- Staff announcements shown on a site's error pages until their end, and
-- each incident's timeline: opened, cause changes, notifications, closed.
CREATE TABLE announcements (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	site       TEXT    NOT NULL,
	upstream   TEXT    NOT NULL DEFAULT '',
	text       TEXT    NOT NULL,
	lang       TEXT    NOT NULL DEFAULT '',
	author     TEXT    NOT NULL DEFAULT '',
	created_at BIGINT  NOT NULL,
	until      BIGINT  NOT NULL,
	ended_at   BIGINT
);
CREATE INDEX announcements_until ON announcements (until);

-- notify = 1 marks an entry a notifier has yet to send; claiming it sets 0,
-- so that of several instances sharing the store one sends it.
CREATE TABLE incident_timeline (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	incident_id BIGINT  NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	at          BIGINT  NOT NULL,
	kind        TEXT    NOT NULL,
	detail      TEXT    NOT NULL DEFAULT '',
	notify      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at);
CREATE INDEX incident_timeline_pending ON incident_timeline (notify) WHERE notify = 1;
-- An incident opens and closes once: whichever writer records it first
-- wins, the others' inserts do nothing.
CREATE UNIQUE INDEX incident_timeline_once ON incident_timeline (incident_id, kind) WHERE kind IN ('opened', 'closed');
-- Incidents from before this migration get their history, not a late
-- notification.
INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
	SELECT id, opened_at, 'opened', '', 0 FROM incidents;
INSERT INTO incident_timeline (incident_id, at, kind, detail, notify)
	SELECT id, closed_at, 'closed', '', 0 FROM incidents WHERE closed_at IS NOT NULL;
