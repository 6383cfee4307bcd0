-- State that instances sharing a store must agree on: the visitor-hash
-- salt of each UTC day (so that a visitor counts once whichever instance
-- answers, and after a restart), and staff sessions, keyed by the SHA-256
-- of the cookie (hex), so that the table never holds a usable token.
CREATE TABLE visitor_salts (
	day  BIGINT PRIMARY KEY,
	salt TEXT    NOT NULL
);

CREATE TABLE staff_sessions (
	token_hash TEXT    PRIMARY KEY,
	user_name  TEXT    NOT NULL,
	csrf       TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL
);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);
