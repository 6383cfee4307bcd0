-- The distinct visitors with errors on each upstream ("" for the site as
-- a whole), as every instance sharing the store saw them, for the live
-- verdict's "how many others": one row per visitor with when an instance
-- last saw it (microseconds). Kept for the monitor's window, then pruned.
CREATE TABLE crowd_visitors (
	site         TEXT    NOT NULL,
	upstream     TEXT    NOT NULL,
	visitor_hash TEXT    NOT NULL,
	ip_hash      TEXT    NOT NULL,
	seen_at      INTEGER NOT NULL,
	PRIMARY KEY (site, upstream, visitor_hash)
);
CREATE INDEX crowd_visitors_seen ON crowd_visitors (seen_at);
