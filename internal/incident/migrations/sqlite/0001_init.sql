-- Times are INTEGER microseconds since the Unix epoch (UTC) in both
-- dialects, so the same queries run on both and round trips are exact.
CREATE TABLE incidents (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	site           TEXT    NOT NULL,
	upstream       TEXT    NOT NULL,
	opened_at      INTEGER NOT NULL,
	last_seen      INTEGER NOT NULL,
	closed_at      INTEGER,
	requests       INTEGER NOT NULL DEFAULT 0,
	visitors       INTEGER NOT NULL DEFAULT 0,
	cause_rank     INTEGER NOT NULL DEFAULT 0,
	cause_source   TEXT    NOT NULL DEFAULT '',
	cause_class    TEXT    NOT NULL DEFAULT '',
	cause_detail   TEXT    NOT NULL DEFAULT '',
	cause_evidence TEXT    NOT NULL DEFAULT ''
);
-- At most one open incident per site and upstream: the upsert that groups
-- events relies on it.
CREATE UNIQUE INDEX incidents_open ON incidents (site, upstream) WHERE closed_at IS NULL;
CREATE INDEX incidents_last_seen ON incidents (last_seen);

CREATE TABLE incident_codes (
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	code        INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (incident_id, code)
);
CREATE TABLE incident_paths (
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	path        TEXT    NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (incident_id, path)
);
CREATE TABLE incident_locales (
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	locale      TEXT    NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (incident_id, locale)
);
CREATE TABLE incident_visitors (
	incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	visitor_hash TEXT    NOT NULL,
	PRIMARY KEY (incident_id, visitor_hash)
);

CREATE TABLE events (
	id                     INTEGER PRIMARY KEY AUTOINCREMENT,
	time                   INTEGER NOT NULL,
	site                   TEXT    NOT NULL,
	upstream               TEXT    NOT NULL,
	host                   TEXT    NOT NULL,
	path                   TEXT    NOT NULL,
	method                 TEXT    NOT NULL,
	code                   INTEGER NOT NULL,
	request_id             TEXT    NOT NULL,
	nginx_conn             INTEGER NOT NULL,
	upstream_addr          TEXT    NOT NULL,
	upstream_status        TEXT    NOT NULL,
	upstream_connect_time  TEXT    NOT NULL,
	upstream_response_time TEXT    NOT NULL,
	locale                 TEXT    NOT NULL,
	visitor_hash           TEXT    NOT NULL,
	browser                TEXT    NOT NULL,
	nginx_log              TEXT    NOT NULL,
	cause_source           TEXT    NOT NULL,
	cause_class            TEXT    NOT NULL,
	cause_detail           TEXT    NOT NULL,
	cause_evidence         TEXT    NOT NULL,
	incident_id            INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX events_request_id ON events (request_id);
CREATE INDEX events_incident ON events (incident_id, time);
CREATE INDEX events_site_time ON events (site, time);
CREATE INDEX events_time ON events (time);
