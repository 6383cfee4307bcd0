-- Distinct visitors per site and minute (start of the minute, in
-- microseconds), counted from every event, rows or not, so that the
-- dashboard's visitors in the last 5 minutes and hour are exact, and the
-- same on every instance sharing the store (their visitor hashes share
-- the day's salt).
CREATE TABLE site_visitors (
	site         TEXT    NOT NULL,
	minute       INTEGER NOT NULL,
	visitor_hash TEXT    NOT NULL,
	PRIMARY KEY (site, minute, visitor_hash)
);
CREATE INDEX site_visitors_minute ON site_visitors (minute);
