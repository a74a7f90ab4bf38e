-- The union catalogue: works (clusters of records, with display metadata
-- recomputed from their records), the keys that cluster records into works,
-- each library's records and items as imported, the change sequence search
-- indexes follow, and per-library harvest checkpoints. Times are UTC text as
-- in 0001. Lists and structured values (authors, links, ISBNs) are JSON.

CREATE TABLE catalog_works (
	id           TEXT PRIMARY KEY,
	key          TEXT NOT NULL,
	meta         TEXT NOT NULL, -- JSON: title, authors, ISBNs, … (catalog.StoredWork)
	record_count INTEGER NOT NULL,
	deleted      INTEGER NOT NULL,
	updated_at   TEXT NOT NULL
) STRICT;

-- A clustering key (isbn:…, t:title|author|year) belongs to one work; the
-- primary key makes two imports of one book agree on one work.
CREATE TABLE catalog_work_keys (
	key     TEXT PRIMARY KEY,
	work_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX catalog_work_keys_work ON catalog_work_keys (work_id);

CREATE TABLE catalog_records (
	library_id    TEXT NOT NULL,
	source_id     TEXT NOT NULL,
	work_id       TEXT NOT NULL,
	hash          TEXT NOT NULL,
	source_format TEXT NOT NULL,
	data          TEXT NOT NULL, -- JSON of the catalog.Record without RawMARC
	raw_marc      BLOB,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (library_id, source_id)
) STRICT;

CREATE INDEX catalog_records_work ON catalog_records (work_id);

-- barcode is unique in the network. record_library_id is the library whose
-- import owns the copy (library_id may be another branch of its ILS);
-- work_id is '' while the copy's record is not stored.
CREATE TABLE catalog_items (
	barcode           TEXT PRIMARY KEY,
	library_id        TEXT NOT NULL,
	record_library_id TEXT NOT NULL,
	record_source_id  TEXT NOT NULL,
	work_id           TEXT NOT NULL,
	branch            TEXT NOT NULL,
	location          TEXT NOT NULL,
	call_number       TEXT NOT NULL,
	loan_type         TEXT NOT NULL,
	status            TEXT NOT NULL,
	hash              TEXT NOT NULL,
	updated_at        TEXT NOT NULL
) STRICT;

CREATE INDEX catalog_items_work ON catalog_items (work_id, library_id, barcode);
CREATE INDEX catalog_items_record ON catalog_items (record_library_id, record_source_id);

-- The change sequence: AUTOINCREMENT never reuses a number, and writers are
-- serialised, so numbers commit in order.
CREATE TABLE catalog_changes (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	work_id TEXT NOT NULL,
	at      TEXT NOT NULL
) STRICT;

CREATE TABLE catalog_harvests (
	library_id TEXT PRIMARY KEY,
	url        TEXT NOT NULL,
	set_spec   TEXT NOT NULL,
	state      BLOB NOT NULL,
	updated_at TEXT NOT NULL
) STRICT;
