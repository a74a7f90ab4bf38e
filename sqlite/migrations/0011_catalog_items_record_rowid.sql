-- Items refer to their record by the record's row ID, so that a work's
-- items are found through the narrow records' work index (whose entries
-- carry the row ID) without reading the records' rows and without the
-- wider index of 0010, which cost an import about 15% at full scale.
--
-- record_rowid is NULL while the copy's record is not stored (work_id is
-- then ''); record_library_id and record_source_id stay, and a partial
-- index finds such items by their record's key when it arrives or is
-- deleted.
--
-- The row ID is made an explicit INTEGER PRIMARY KEY (rid) of a rebuilt
-- catalog_records, keeping every record's row ID: SQLite promises to keep
-- such a column through VACUUM (and VACUUM INTO, docs/DEPLOYMENT.md's
-- backups), where an implicit row ID may be renumbered. The primary key of
-- 0002, (library_id, source_id), stays a unique key.
CREATE TABLE catalog_records_rebuilt (
	rid           INTEGER PRIMARY KEY,
	library_id    TEXT NOT NULL,
	source_id     TEXT NOT NULL,
	work_id       TEXT NOT NULL,
	hash          TEXT NOT NULL,
	source_format TEXT NOT NULL,
	data          TEXT NOT NULL, -- JSON of the catalog.Record without RawMARC
	raw_marc      BLOB,
	updated_at    TEXT NOT NULL,
	UNIQUE (library_id, source_id)
) STRICT;

INSERT INTO catalog_records_rebuilt (rid, library_id, source_id, work_id, hash, source_format, data, raw_marc, updated_at)
	SELECT rowid, library_id, source_id, work_id, hash, source_format, data, raw_marc, updated_at FROM catalog_records;

DROP TABLE catalog_records;
ALTER TABLE catalog_records_rebuilt RENAME TO catalog_records;
CREATE INDEX catalog_records_work ON catalog_records (work_id);

ALTER TABLE catalog_items ADD COLUMN record_rowid INTEGER;

UPDATE catalog_items SET record_rowid = (SELECT r.rowid FROM catalog_records AS r
	WHERE r.library_id = catalog_items.record_library_id AND r.source_id = catalog_items.record_source_id);

DROP INDEX catalog_items_record;
CREATE INDEX catalog_items_record ON catalog_items (record_rowid);
CREATE INDEX catalog_items_orphan ON catalog_items (record_library_id, record_source_id) WHERE record_rowid IS NULL;

