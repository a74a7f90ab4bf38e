-- E-book lending (package ebooks) and the reader-facing event log (package
-- events). Times are UTC text as in 0001. Counters carry CHECK constraints,
-- so a bug can never store a negative count. "Unlimited" is -1.
--
-- A license's seats (the copies in use, by holder) live in ebook_seats; a
-- seat is taken and the license's counters changed in one immediate
-- transaction. Loans and holds are updated by compare-and-set on version.
-- active_key is "<reader>|<title>" while a loan is ACTIVE (a hold is
-- WAITING, SUSPENDED or RESERVED) and NULL otherwise: one active loan and
-- one active hold per reader and title. idem_key is "<reader>|<key>" for
-- requests that carried an idempotency key. slot_key is "<reader>|<slot>"
-- while a loan is ACTIVE: a reader's active loans take distinct slots below
-- the loan limit, so concurrent borrows cannot pass it.

CREATE TABLE ebook_titles (
	id          TEXT PRIMARY KEY,
	work_id     TEXT NOT NULL,
	format      TEXT NOT NULL,
	name        TEXT NOT NULL,
	authors     TEXT NOT NULL, -- JSON array of strings
	language    TEXT NOT NULL,
	publisher   TEXT NOT NULL,
	summary     TEXT NOT NULL,
	content_ref TEXT NOT NULL,
	search_text TEXT NOT NULL,
	created_at  TEXT NOT NULL
) STRICT;

CREATE INDEX ebook_titles_work ON ebook_titles (work_id, id);
CREATE INDEX ebook_titles_format ON ebook_titles (format, id);

CREATE TABLE ebook_licenses (
	id              TEXT PRIMARY KEY,
	title_id        TEXT NOT NULL,
	model           TEXT NOT NULL,
	scope           TEXT NOT NULL,
	library_id      TEXT NOT NULL,
	district_wide   INTEGER NOT NULL,
	concurrency     INTEGER NOT NULL,
	checkouts_total INTEGER NOT NULL,
	checkouts_left  INTEGER NOT NULL,
	expires_at      TEXT,
	max_loan_days   INTEGER NOT NULL,
	available       INTEGER NOT NULL,
	in_use          INTEGER NOT NULL,
	created_at      TEXT NOT NULL,
	CHECK (in_use >= 0),
	CHECK (concurrency = -1 OR (available >= 0 AND available + in_use = concurrency)),
	CHECK (checkouts_total = -1 OR checkouts_left >= 0)
) STRICT;

CREATE INDEX ebook_licenses_title ON ebook_licenses (title_id, id);
CREATE INDEX ebook_licenses_in_use ON ebook_licenses (id) WHERE in_use > 0;

CREATE TABLE ebook_seats (
	license_id  TEXT NOT NULL,
	holder_id   TEXT NOT NULL,
	kind        TEXT NOT NULL,
	acquired_at TEXT NOT NULL,
	PRIMARY KEY (license_id, holder_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE ebook_loans (
	id              TEXT PRIMARY KEY,
	title_id        TEXT NOT NULL,
	license_id      TEXT NOT NULL,
	reader_id       TEXT NOT NULL,
	state           TEXT NOT NULL,
	started_at      TEXT NOT NULL,
	ends_at         TEXT NOT NULL,
	ended_at        TEXT,
	renewals        INTEGER NOT NULL,
	hold_id         TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	slot            INTEGER NOT NULL,
	idem_key        TEXT UNIQUE,
	active_key      TEXT UNIQUE,
	slot_key        TEXT UNIQUE,
	version         INTEGER NOT NULL
) STRICT;

CREATE INDEX ebook_loans_reader ON ebook_loans (reader_id, started_at, id);
CREATE INDEX ebook_loans_active_end ON ebook_loans (ends_at, id) WHERE state = 'ACTIVE';
CREATE INDEX ebook_loans_active_title ON ebook_loans (title_id, ends_at) WHERE state = 'ACTIVE';

CREATE TABLE ebook_holds (
	id              TEXT PRIMARY KEY,
	title_id        TEXT NOT NULL,
	reader_id       TEXT NOT NULL,
	state           TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	loan_days       INTEGER NOT NULL,
	auto_borrow     INTEGER NOT NULL,
	suspended_until TEXT,
	license_id      TEXT NOT NULL,
	reserved_at     TEXT,
	reserved_until  TEXT,
	missed_once     INTEGER NOT NULL,
	loan_id         TEXT NOT NULL,
	ended_at        TEXT,
	idempotency_key TEXT NOT NULL,
	idem_key        TEXT UNIQUE,
	active_key      TEXT UNIQUE,
	version         INTEGER NOT NULL
) STRICT;

CREATE INDEX ebook_holds_queue ON ebook_holds (title_id, created_at, id) WHERE active_key IS NOT NULL;
CREATE INDEX ebook_holds_reader ON ebook_holds (reader_id, created_at, id);
CREATE INDEX ebook_holds_reserved ON ebook_holds (reserved_until) WHERE state = 'RESERVED';
CREATE INDEX ebook_holds_suspended ON ebook_holds (suspended_until) WHERE state = 'SUSPENDED';
CREATE INDEX ebook_holds_waiting ON ebook_holds (title_id) WHERE state = 'WAITING';

CREATE TABLE events (
	key         TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	reader_id   TEXT NOT NULL,
	subject_id  TEXT NOT NULL,
	work_id     TEXT NOT NULL,
	library_id  TEXT NOT NULL,
	at          TEXT NOT NULL,
	data        TEXT NOT NULL, -- JSON object of strings
	recorded_at TEXT NOT NULL,
	handled_at  TEXT
) STRICT;

CREATE INDEX events_unhandled ON events (recorded_at, key) WHERE handled_at IS NULL;
CREATE INDEX events_reader ON events (reader_id, recorded_at);
