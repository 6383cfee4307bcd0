-- Sign-in limits, shared by the instances on one store and kept across
-- reloads and restarts: per key (the SHA-256 of an address, or of a user
-- name and address), the theoretical arrival time of the next attempt
-- (GCRA, microseconds). A row whose time has passed is a full allowance,
-- the same as no row, and is deleted.
CREATE TABLE login_limits (
	key_hash TEXT    NOT NULL PRIMARY KEY,
	tat      INTEGER NOT NULL
);
CREATE INDEX login_limits_tat ON login_limits (tat);
