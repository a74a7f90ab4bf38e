-- Library cards and guardian–child links (package card). Times are UTC text
-- as in 0001.
--
-- A card's number is its primary key, so a number is used once, lost cards
-- included. "current" is 1 for the account's current card and 0 for cards
-- reported lost, which stay (status LOST, replaced_by the new number) so
-- that a lost number is recognised and refused. Two partial unique indexes
-- keep the invariants among current cards only: one current card per
-- account, and one current card per school registration (school library,
-- student ID), which a replacement card carries on from the lost one.

CREATE TABLE cards (
	number            TEXT PRIMARY KEY,
	account_id        TEXT NOT NULL,
	symbology         TEXT NOT NULL,
	status            TEXT NOT NULL,
	block_reason      TEXT NOT NULL,
	block_note        TEXT NOT NULL,
	current           INTEGER NOT NULL CHECK (current IN (0, 1)),
	replaced_by       TEXT NOT NULL,
	home_library_id   TEXT NOT NULL,
	issued_at         TEXT NOT NULL,
	expires_at        TEXT NOT NULL,
	school_library_id TEXT NOT NULL,
	student_id        TEXT NOT NULL,
	class             TEXT NOT NULL,
	student_key       TEXT, -- card.StudentKey: "<school library>/<student ID>", NULL for other cards
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX cards_current_account ON cards (account_id) WHERE current = 1;
CREATE UNIQUE INDEX cards_current_student ON cards (student_key) WHERE current = 1;
CREATE INDEX cards_account ON cards (account_id, issued_at);

CREATE TABLE card_links (
	guardian_id  TEXT NOT NULL,
	child_id     TEXT NOT NULL,
	status       TEXT NOT NULL,
	requested_at TEXT NOT NULL,
	approved_by  TEXT NOT NULL,
	approved_at  TEXT,
	PRIMARY KEY (guardian_id, child_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX card_links_child ON card_links (child_id, requested_at);
CREATE INDEX card_links_guardian ON card_links (guardian_id, requested_at);
