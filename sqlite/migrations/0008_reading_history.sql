-- Reading history and the pull list (package circulation).
--
-- circ_history_settings has one row per reader who ever chose: whether their
-- reading history is kept (off by default: no row means off). version
-- advances on every change and on every clear; a writer that recorded an
-- entry and then reads another version withdraws it, so an entry being
-- recorded while the reader clears does not survive the clear.
--
-- circ_history has one row per returned loan of a reader who had the
-- history on (id is the loan's ID, so a return recorded twice is kept
-- once), with a snapshot of the work's title and authors (JSON array) and
-- the lending library's name. Only the reader reads it; a clear deletes the
-- rows. Read newest first by (returned_at, id).

CREATE TABLE circ_history_settings (
	reader_id  TEXT PRIMARY KEY,
	enabled    INTEGER NOT NULL,
	updated_at TEXT NOT NULL,
	version    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE circ_history (
	id           TEXT PRIMARY KEY,
	reader_id    TEXT NOT NULL,
	work_id      TEXT NOT NULL,
	title        TEXT NOT NULL,
	authors      TEXT NOT NULL,
	library_id   TEXT NOT NULL,
	library_name TEXT NOT NULL,
	borrowed_at  TEXT NOT NULL,
	returned_at  TEXT NOT NULL
) STRICT;

CREATE INDEX circ_history_reader ON circ_history (reader_id, returned_at, id);

-- The pull list reads the works that have a WAITING hold.
CREATE INDEX circ_holds_waiting ON circ_holds (work_id) WHERE state = 'WAITING';
