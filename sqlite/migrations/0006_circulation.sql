-- Physical circulation (package circulation): holds, loans, copy claims and
-- closed days. Times are UTC text as in 0001. Holds and loans are updated by
-- compare-and-set on version. The *_key columns are NULL unless they apply,
-- so the UNIQUE constraints hold the invariants:
--   holds.idem_key   "<reader>|<idempotency key>" for requests with a key;
--   holds.active_key "<reader>|<work>" while the hold is active (WAITING,
--                    SUSPENDED, IN_TRANSIT, READY): one active hold per work;
--   holds.slot_key   "<reader>|<slot>" while active: a reader's holds take
--                    distinct slots below the hold limit;
--   holds.copy_key   the barcode while IN_TRANSIT or READY: a copy serves
--                    one hold at a time;
--   loans.idem_key, loans.slot_key likewise, and loans.copy_key the barcode
--                    while ACTIVE: a copy is on one loan at a time.
-- circ_copy_claims has one row per copy that was ever claimed, naming the
-- hold or loan it is attached to ("hold:<id>", "loan:<id>", "" when free);
-- it changes hands only by one conditional UPDATE (or upsert for a free
-- copy), so of two callers handing a copy on exactly one wins.

CREATE TABLE circ_holds (
	id                TEXT PRIMARY KEY,
	reader_id         TEXT NOT NULL,
	work_id           TEXT NOT NULL,
	item_barcode      TEXT NOT NULL,
	pickup_library_id TEXT NOT NULL,
	state             TEXT NOT NULL,
	created_at        TEXT NOT NULL,
	suspended_until   TEXT,
	barcode           TEXT NOT NULL,
	targeted_at       TEXT,
	ready_at          TEXT,
	pickup_deadline   TEXT,
	loan_id           TEXT NOT NULL,
	ended_at          TEXT,
	slot              INTEGER NOT NULL,
	idempotency_key   TEXT NOT NULL,
	idem_key          TEXT UNIQUE,
	active_key        TEXT UNIQUE,
	slot_key          TEXT UNIQUE,
	copy_key          TEXT UNIQUE,
	version           INTEGER NOT NULL
) STRICT;

CREATE INDEX circ_holds_queue ON circ_holds (work_id, created_at, id) WHERE active_key IS NOT NULL;
CREATE INDEX circ_holds_reader ON circ_holds (reader_id, created_at, id);
CREATE INDEX circ_holds_pickup ON circ_holds (pickup_library_id, state, targeted_at, id) WHERE copy_key IS NOT NULL;
CREATE INDEX circ_holds_ready ON circ_holds (pickup_deadline, id) WHERE state = 'READY';
CREATE INDEX circ_holds_suspended ON circ_holds (suspended_until, id) WHERE state = 'SUSPENDED';

CREATE TABLE circ_loans (
	id                TEXT PRIMARY KEY,
	reader_id         TEXT NOT NULL,
	barcode           TEXT NOT NULL,
	work_id           TEXT NOT NULL,
	library_id        TEXT NOT NULL,
	item_library_id   TEXT NOT NULL,
	hold_id           TEXT NOT NULL,
	state             TEXT NOT NULL,
	checked_out_at    TEXT NOT NULL,
	due_at            TEXT NOT NULL,
	renewals          INTEGER NOT NULL,
	returned_at       TEXT,
	return_library_id TEXT NOT NULL,
	notice            INTEGER NOT NULL,
	slot              INTEGER NOT NULL,
	idempotency_key   TEXT NOT NULL,
	renew_key         TEXT NOT NULL,
	idem_key          TEXT UNIQUE,
	copy_key          TEXT UNIQUE,
	slot_key          TEXT UNIQUE,
	version           INTEGER NOT NULL,
	CHECK (renewals >= 0)
) STRICT;

CREATE INDEX circ_loans_reader ON circ_loans (reader_id, checked_out_at, id);
CREATE INDEX circ_loans_notice ON circ_loans (notice, due_at, id) WHERE state = 'ACTIVE';

CREATE TABLE circ_copy_claims (
	barcode    TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	claimed_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE circ_closed_days (
	library_id TEXT NOT NULL, -- '' for every library
	date       TEXT NOT NULL, -- YYYY-MM-DD in the province's time
	reason     TEXT NOT NULL,
	PRIMARY KEY (library_id, date)
) STRICT, WITHOUT ROWID;

CREATE INDEX circ_closed_days_date ON circ_closed_days (date, library_id);
