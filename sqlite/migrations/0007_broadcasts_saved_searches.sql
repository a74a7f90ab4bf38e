-- Notifications, continued: broadcasts from libraries to their readers,
-- readers' saved searches, and the indexes the reminders and the fan-out
-- read by.

CREATE TABLE notification_broadcasts (
	id              TEXT PRIMARY KEY,
	sender_id       TEXT NOT NULL,
	library_id      TEXT NOT NULL, -- the readers of this home library; '' for every reader
	title           TEXT NOT NULL,
	body            TEXT NOT NULL,
	title_en        TEXT NOT NULL,
	body_en         TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	idem_key        TEXT UNIQUE, -- sender|key, NULL without a key
	created_at      TEXT NOT NULL,
	cursor          TEXT NOT NULL, -- the last reader ID fanned out to
	recipients      INTEGER NOT NULL,
	finished_at     TEXT
) STRICT;

CREATE INDEX notification_broadcasts_list ON notification_broadcasts (created_at, id);
CREATE INDEX notification_broadcasts_library ON notification_broadcasts (library_id, created_at, id);
CREATE INDEX notification_broadcasts_unfinished ON notification_broadcasts (created_at, id) WHERE finished_at IS NULL;

CREATE TABLE notification_saved_searches (
	id          TEXT PRIMARY KEY,
	reader_id   TEXT NOT NULL,
	name        TEXT NOT NULL,
	query       TEXT NOT NULL,
	filter      TEXT NOT NULL, -- JSON of search.Filter
	created_at  TEXT NOT NULL,
	last_run_at TEXT,
	next_run_at TEXT NOT NULL,
	seen        TEXT NOT NULL, -- JSON array of work IDs matched at the last run
	version     INTEGER NOT NULL,
	UNIQUE (reader_id, name)
) STRICT;

CREATE INDEX notification_saved_searches_reader ON notification_saved_searches (reader_id, created_at, id);
CREATE INDEX notification_saved_searches_due ON notification_saved_searches (next_run_at, id);

-- Reminders read the open loans by due date, page by page.
CREATE INDEX circ_loans_due ON circ_loans (due_at, id) WHERE state = 'ACTIVE';

-- A broadcast is fanned out to the readers of a home library in ID order.
CREATE INDEX accounts_home_library ON accounts (home_library_id, id) WHERE role = 'READER';
