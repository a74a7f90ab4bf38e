-- Libraries of the network and the auth domain: accounts, sessions (logins)
-- and refresh tokens. Times are UTC text, fixed width with nanoseconds
-- ("2006-01-02T15:04:05.000000000Z"), so they sort and compare as text.
-- Optional unique values (email, phone, card number) are NULL when absent so
-- that accounts without them do not collide. There are no foreign keys: the
-- Mongo implementation cannot enforce them and both stores keep one contract.

CREATE TABLE libraries (
	id              TEXT PRIMARY KEY,
	code            TEXT NOT NULL UNIQUE,
	name            TEXT NOT NULL,
	type            TEXT NOT NULL,
	parent_id       TEXT,
	district        TEXT NOT NULL,
	commune         TEXT NOT NULL,
	address         TEXT NOT NULL,
	lat             REAL,
	lng             REAL,
	hours           TEXT NOT NULL, -- JSON array of {"weekday","opens","closes"}
	pickup_point    INTEGER NOT NULL,
	contact_phone   TEXT NOT NULL,
	contact_email   TEXT NOT NULL,
	contact_website TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
) STRICT;

CREATE INDEX libraries_district_code ON libraries (district, code);
CREATE INDEX libraries_type_code ON libraries (type, code);
CREATE INDEX libraries_parent ON libraries (parent_id);

CREATE TABLE accounts (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	email           TEXT UNIQUE,
	phone           TEXT UNIQUE,
	card_number     TEXT UNIQUE,
	password_hash   TEXT NOT NULL,
	role            TEXT NOT NULL,
	category        TEXT NOT NULL,
	home_library_id TEXT NOT NULL,
	library_id      TEXT NOT NULL,
	language        TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE sessions (
	id             TEXT PRIMARY KEY,
	account_id     TEXT NOT NULL,
	created_at     TEXT NOT NULL,
	expires_at     TEXT NOT NULL,
	revoked_at     TEXT,
	revoked_reason TEXT NOT NULL,
	user_agent     TEXT NOT NULL,
	ip             TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	session_id TEXT NOT NULL,
	account_id TEXT NOT NULL,
	issued_at  TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT
) STRICT;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
