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
-- catalog_records has no INTEGER PRIMARY KEY, so its row IDs are kept by
-- copies of the file (`.backup`) and, in SQLite as it is (checked with
-- 3.40), by VACUUM and VACUUM INTO (docs/DEPLOYMENT.md's backups), though
-- SQLite's documentation does not promise it; a copy made by re-inserting
-- the rows (`.dump`) renumbers them. The UPDATE below repairs such a copy.
ALTER TABLE catalog_items ADD COLUMN record_rowid INTEGER;

UPDATE catalog_items SET record_rowid = (SELECT r.rowid FROM catalog_records AS r
	WHERE r.library_id = catalog_items.record_library_id AND r.source_id = catalog_items.record_source_id);

DROP INDEX catalog_items_record;
CREATE INDEX catalog_items_record ON catalog_items (record_rowid);
CREATE INDEX catalog_items_orphan ON catalog_items (record_library_id, record_source_id) WHERE record_rowid IS NULL;

DROP INDEX catalog_records_work;
CREATE INDEX catalog_records_work ON catalog_records (work_id);
