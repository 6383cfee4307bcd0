-- Events per site and second, for Series. The events table keeps a row per
-- event only up to the recorder's event_rows_per_second; this table counts
-- every event, with one upsert per site and second of a batch. time is the
-- start of the second, in microseconds like every other time.
CREATE TABLE event_counts (
	site TEXT   NOT NULL,
	time BIGINT NOT NULL,
	n    BIGINT NOT NULL,
	PRIMARY KEY (site, time)
);
-- For Prune.
CREATE INDEX event_counts_time ON event_counts (time);
INSERT INTO event_counts (site, time, n)
	SELECT site, time / 1000000 * 1000000, COUNT(*) FROM events GROUP BY 1, 2;
-- Series was the only reader of events by site and time: one index fewer
-- to update per event row.
DROP INDEX events_site_time;
