package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
)

// CatalogStore implements catalog.Store on SQLite. Apply runs one
// immediate transaction per batch, so clustering (read the key owners,
// claim keys, recompute works) and the change sequence are serialised with
// every other writer of the database file: sequence numbers commit in
// order and have no gaps.
type CatalogStore struct {
	db *pools
}

var _ catalog.Store = (*CatalogStore)(nil)

// Apply implements catalog.Store.
func (s *CatalogStore) Apply(ctx context.Context, b *catalog.Batch) (*catalog.ApplyResult, error) {
	if strings.TrimSpace(b.LibraryID) == "" {
		return nil, catalog.ErrNoLibrary
	}
	at := b.At
	if at.IsZero() {
		at = time.Now()
	}
	// The hashes, keys and JSON of the batch need no database: they are
	// computed on every core before the write lock is taken.
	prep, itemHashes, err := prepare(b)
	if err != nil {
		return nil, fmt.Errorf("applying batch of library %s: %w", b.LibraryID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return nil, fmt.Errorf("applying batch of library %s: %w", b.LibraryID, err)
	}
	defer tx.Rollback()
	// The statements run without ctx's cancellation: with a context that
	// can end, the driver starts a goroutine per statement to interrupt
	// it, a few percent of an import for statements of a millisecond or
	// less. ctx is checked between the steps instead, and ending it rolls
	// the transaction back (database/sql watches the BeginTx context).
	a := &applier{ctx: context.WithoutCancel(ctx), tx: tx, lib: b.LibraryID, at: fmtTime(at), atTime: at, prep: prep, itemHashes: itemHashes,
		res: &catalog.ApplyResult{}, recompute: map[string]bool{}, changed: map[string]bool{}, newKey: map[string]string{},
		full: map[string]bool{}, added: map[string][]*catalog.Record{}, fresh: map[string][]*catalog.Record{}, workOf: map[string]string{},
		rowidOf: map[string]int64{}}
	steps := []struct {
		what string
		run  func() error
	}{
		{"records", func() error { return a.records(b.Records) }},
		{"items", func() error { return a.items(b.Items) }},
		{"deletions", func() error { return a.deletions(b.Deletions) }},
		{"works", a.works},
		{"changes", a.changes},
	}
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("applying batch of library %s: %w", b.LibraryID, err)
		}
		if err := st.run(); err != nil {
			return nil, fmt.Errorf("applying batch of library %s: %s: %w", b.LibraryID, st.what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("applying batch of library %s: commit: %w", b.LibraryID, err)
	}
	return a.res, nil
}

// applier is one Apply transaction.
type applier struct {
	ctx    context.Context
	tx     *sql.Tx
	lib    string
	at     string
	atTime time.Time
	res    *catalog.ApplyResult
	// recompute are works whose records changed; changed are works that
	// get a change entry (recompute plus works whose items changed).
	recompute, changed map[string]bool
	// newKey is the key of each work created in this transaction.
	newKey map[string]string
	// full are works whose records must all be read again; the other
	// works to recompute only gained the records in added, which may
	// leave their display unchanged (catalog.JoinsQuietly).
	full  map[string]bool
	added map[string][]*catalog.Record
	// fresh holds the records of each work created in this transaction:
	// all of its records, so works summarises it without reading it or
	// its records back (the common case of a book's first copy).
	fresh map[string][]*catalog.Record
	// prep and itemHashes are prepare's results for the batch's records
	// and items, by index.
	prep       []preparedRecord
	itemHashes []string
	// workOf is the work of each record of the batch, by source ID, once
	// records has run, and rowidOf its row ID (catalog_items.record_rowid).
	workOf  map[string]string
	rowidOf map[string]int64
}

// preparedRecord is what Apply computes of a record outside its
// transaction.
type preparedRecord struct {
	hash           string   // catalog.RecordHash
	lookup, claims []string // catalog.Keys
	data           string   // recordJSON
}

// prepare sets every record's LibraryID to b.LibraryID and computes the
// records' hashes, clustering keys and JSON and the items' hashes, spread
// over GOMAXPROCS goroutines: about a tenth of an import's CPU, which
// would otherwise run on one core while the write lock is held. The keys
// and JSON of records found unchanged are not used; a re-import pays that
// on every core rather than in the transaction.
func prepare(b *catalog.Batch) ([]preparedRecord, []string, error) {
	prep := make([]preparedRecord, len(b.Records))
	itemHashes := make([]string, len(b.Items))
	errs := make([]error, len(b.Records))
	const chunk = 64
	n := len(b.Records) + len(b.Items)
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	var next atomic.Int64
	work := func() {
		for {
			start := int(next.Add(chunk)) - chunk
			if start >= n {
				return
			}
			for i := start; i < min(start+chunk, n); i++ {
				if i >= len(b.Records) {
					j := i - len(b.Records)
					itemHashes[j] = catalog.ItemHash(&b.Items[j])
					continue
				}
				r := &b.Records[i]
				p := &prep[i]
				p.hash = catalog.RecordHash(r)
				p.lookup, p.claims = catalog.Keys(r)
				p.data, errs[i] = recordJSON(r)
			}
		}
	}
	for i := range b.Records {
		b.Records[i].LibraryID = b.LibraryID
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return prep, itemHashes, errors.Join(errs...)
}

// query runs q and calls scan for each row.
func (a *applier) query(q string, scan func(*sql.Rows) error, args ...any) error {
	return queryRows(a.ctx, a.tx, q, scan, args...)
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func queryRows(ctx context.Context, db querier, q string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// records upserts the batch's records and clusters the new and changed
// ones.
func (a *applier) records(recs []catalog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	type existing struct {
		hash, work string
		rowid      int64
	}
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].SourceID
	}
	stored := map[string]existing{}
	if err := a.query(`SELECT source_id, hash, work_id, rowid FROM catalog_records
		WHERE library_id = ? AND source_id IN (SELECT value FROM json_each(?))`, func(r *sql.Rows) error {
		var id string
		var e existing
		if err := r.Scan(&id, &e.hash, &e.work, &e.rowid); err != nil {
			return err
		}
		stored[id] = e
		return nil
	}, a.lib, jsonArray(ids)); err != nil {
		return fmt.Errorf("reading stored records: %w", err)
	}
	type todo struct {
		r     *catalog.Record
		p     *preparedRecord
		cur   string
		rowid int64 // of a stored record
	}
	var work []todo
	var keys []string
	for i := range recs {
		r, p := &recs[i], &a.prep[i]
		e, ok := stored[r.SourceID]
		if ok && e.hash == p.hash {
			a.res.RecordsUnchanged++
			a.workOf[r.SourceID] = e.work
			a.rowidOf[r.SourceID] = e.rowid
			continue
		}
		work = append(work, todo{r: r, p: p, cur: e.work, rowid: e.rowid})
		keys = append(keys, p.claims...)
	}
	if len(work) == 0 {
		return nil
	}
	owners := map[string]string{}
	if err := a.query(`SELECT key, work_id FROM catalog_work_keys WHERE key IN (SELECT value FROM json_each(?))`,
		func(r *sql.Rows) error {
			var k, w string
			if err := r.Scan(&k, &w); err != nil {
				return err
			}
			owners[k] = w
			return nil
		}, jsonArray(keys)); err != nil {
		return fmt.Errorf("reading work keys: %w", err)
	}
	claim, err := a.tx.PrepareContext(a.ctx, `INSERT INTO catalog_work_keys (key, work_id) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`)
	if err != nil {
		return err
	}
	defer claim.Close()
	upsert, err := a.tx.PrepareContext(a.ctx, `INSERT INTO catalog_records
		(library_id, source_id, work_id, hash, source_format, data, raw_marc, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (library_id, source_id) DO UPDATE SET work_id = excluded.work_id, hash = excluded.hash,
			source_format = excluded.source_format, data = excluded.data, raw_marc = excluded.raw_marc,
			updated_at = excluded.updated_at`)
	if err != nil {
		return err
	}
	defer upsert.Close()
	// New and moved records, whose stored items follow them: a moved
	// record's items by its row ID, and a new record's items stored
	// before it (record_rowid NULL) by its key. A new record's row ID is
	// never in an item: a deleted record's items went with it.
	var attachNew, attachMoved []string
	for _, t := range work {
		r := t.r
		w := catalog.ChooseWork(t.p.lookup, owners, t.cur)
		claims := t.p.claims
		if w == "" {
			w = newID()
			var key string
			if len(claims) > 0 {
				key = claims[0] // WorkKey(r)
			} else {
				key = catalog.RecordKey(r)
				claims = []string{key}
			}
			a.newKey[w] = key
			a.res.WorksCreated++
		}
		for _, k := range claims {
			if _, ok := owners[k]; ok {
				continue
			}
			if _, err := claim.ExecContext(a.ctx, k, w); err != nil {
				return fmt.Errorf("claiming key %q: %w", k, err)
			}
			owners[k] = w
		}
		res, err := upsert.ExecContext(a.ctx, r.LibraryID, r.SourceID, w, t.p.hash, string(r.SourceFormat), t.p.data,
			blobOrNil(r.RawMARC), a.at)
		if err != nil {
			return fmt.Errorf("writing record %s: %w", r.SourceID, err)
		}
		// An update keeps the row's ID: a stored record's was read above,
		// and a record twice in the batch keeps the one its first insert
		// got. Otherwise the upsert inserted.
		rowid, ok := a.rowidOf[r.SourceID]
		if t.cur != "" {
			rowid = t.rowid
		} else if !ok {
			if rowid, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("writing record %s: %w", r.SourceID, err)
			}
		}
		if t.cur == "" {
			a.res.RecordsNew++
		} else {
			a.res.RecordsUpdated++
		}
		if _, created := a.newKey[w]; created {
			a.fresh[w] = append(a.fresh[w], r)
		} else if t.cur == "" {
			a.added[w] = append(a.added[w], r)
		} else {
			a.full[w] = true
		}
		if t.cur == "" {
			attachNew = append(attachNew, r.SourceID)
		} else if w != t.cur {
			attachMoved = append(attachMoved, r.SourceID)
			a.recompute[t.cur] = true
			a.full[t.cur] = true
		}
		a.recompute[w] = true
		a.workOf[r.SourceID] = w
		a.rowidOf[r.SourceID] = rowid
	}
	if len(attachMoved) > 0 {
		if _, err := a.tx.ExecContext(a.ctx, `UPDATE catalog_items SET work_id = r.work_id
			FROM catalog_records AS r
			WHERE r.library_id = ? AND r.source_id IN (SELECT value FROM json_each(?))
				AND catalog_items.record_rowid = r.rowid AND catalog_items.work_id != r.work_id`,
			a.lib, jsonArray(attachMoved)); err != nil {
			return fmt.Errorf("attaching items to their records' works: %w", err)
		}
	}
	if len(attachNew) > 0 {
		if _, err := a.tx.ExecContext(a.ctx, `UPDATE catalog_items SET work_id = r.work_id, record_rowid = r.rowid
			FROM catalog_records AS r
			WHERE catalog_items.record_rowid IS NULL
				AND catalog_items.record_library_id = ? AND catalog_items.record_source_id IN (SELECT value FROM json_each(?))
				AND r.library_id = catalog_items.record_library_id AND r.source_id = catalog_items.record_source_id`,
			a.lib, jsonArray(attachNew)); err != nil {
			return fmt.Errorf("attaching items to their new records: %w", err)
		}
	}
	return nil
}

// items upserts the batch's items by barcode, refusing barcodes owned
// through another library's records. The status of a stored item is
// never overwritten by an import.
func (a *applier) items(items []catalog.Item) error {
	if len(items) == 0 {
		return nil
	}
	type existing struct {
		recLib, hash, work string
		rowid              sql.NullInt64
	}
	barcodes := make([]string, len(items))
	// The works and row IDs of the batch's own records are known; only
	// the records of other imports are read.
	workOf := map[string]string{}
	rowidOf := map[string]int64{}
	var srcIDs []string
	for i := range items {
		barcodes[i] = items[i].Barcode
		src := items[i].RecordSourceID
		if w, ok := a.workOf[src]; ok {
			workOf[src] = w
			rowidOf[src] = a.rowidOf[src]
		} else {
			srcIDs = append(srcIDs, src)
		}
	}
	stored := map[string]existing{}
	if err := a.query(`SELECT barcode, record_library_id, hash, work_id, record_rowid FROM catalog_items
		WHERE barcode IN (SELECT value FROM json_each(?))`, func(r *sql.Rows) error {
		var bc string
		var e existing
		if err := r.Scan(&bc, &e.recLib, &e.hash, &e.work, &e.rowid); err != nil {
			return err
		}
		stored[bc] = e
		return nil
	}, jsonArray(barcodes)); err != nil {
		return fmt.Errorf("reading stored items: %w", err)
	}
	if len(srcIDs) > 0 {
		if err := a.query(`SELECT source_id, work_id, rowid FROM catalog_records
			WHERE library_id = ? AND source_id IN (SELECT value FROM json_each(?))`, func(r *sql.Rows) error {
			var id, w string
			var rowid int64
			if err := r.Scan(&id, &w, &rowid); err != nil {
				return err
			}
			workOf[id] = w
			rowidOf[id] = rowid
			return nil
		}, a.lib, jsonArray(srcIDs)); err != nil {
			return fmt.Errorf("reading the items' records: %w", err)
		}
	}
	insert, err := a.tx.PrepareContext(a.ctx, `INSERT INTO catalog_items (barcode, library_id, record_library_id,
		record_source_id, record_rowid, work_id, branch, location, call_number, loan_type, status, hash, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	for i := range items {
		it := &items[i]
		h := a.itemHashes[i]
		w := workOf[it.RecordSourceID]
		rowid, has := rowidOf[it.RecordSourceID]
		rec := sql.NullInt64{Int64: rowid, Valid: has} // NULL while the record is not stored
		e, ok := stored[it.Barcode]
		switch {
		case ok && e.recLib != a.lib:
			a.res.ItemsConflicting++
			a.res.Conflicts = append(a.res.Conflicts, catalog.Problem{ID: it.Barcode,
				Reason: fmt.Sprintf("%s (%s)", catalog.ErrBarcodeTaken.EN, e.recLib)})
			continue
		case ok && e.hash == h && e.work == w && e.rowid == rec:
			a.res.ItemsUnchanged++
			continue
		case ok:
			if _, err := a.tx.ExecContext(a.ctx, `UPDATE catalog_items SET library_id = ?, record_source_id = ?, record_rowid = ?,
				work_id = ?, branch = ?, location = ?, call_number = ?, loan_type = ?, hash = ?, updated_at = ? WHERE barcode = ?`,
				it.LibraryID, it.RecordSourceID, rec, w, it.Branch, it.Location, it.CallNumber, it.LoanType, h, a.at, it.Barcode); err != nil {
				return fmt.Errorf("updating item %s: %w", it.Barcode, err)
			}
			a.res.ItemsUpdated++
			if e.work != "" {
				a.changed[e.work] = true
			}
		default:
			if _, err := insert.ExecContext(a.ctx, it.Barcode, it.LibraryID, a.lib, it.RecordSourceID, rec, w, it.Branch, it.Location, it.CallNumber,
				it.LoanType, string(it.Status), h, a.at); err != nil {
				return fmt.Errorf("inserting item %s: %w", it.Barcode, err)
			}
			a.res.ItemsNew++
		}
		if w != "" {
			a.changed[w] = true
		}
	}
	return nil
}

// deletions removes the library's records named and their items.
func (a *applier) deletions(refs []catalog.RecordRef) error {
	if len(refs) == 0 {
		return nil
	}
	ids := make([]string, len(refs))
	for i, d := range refs {
		ids[i] = d.SourceID
	}
	found := map[string]bool{}
	if err := a.query(`SELECT source_id, work_id FROM catalog_records
		WHERE library_id = ? AND source_id IN (SELECT value FROM json_each(?))`, func(r *sql.Rows) error {
		var id, w string
		if err := r.Scan(&id, &w); err != nil {
			return err
		}
		found[id] = true
		a.recompute[w] = true
		a.full[w] = true
		delete(a.fresh, w) // its records in memory no longer tell
		return nil
	}, a.lib, jsonArray(ids)); err != nil {
		return fmt.Errorf("reading records to delete: %w", err)
	}
	for _, id := range ids {
		if !found[id] {
			a.res.DeletionsMissing++
		}
	}
	// The items of stored records by row ID, and those stored without
	// their record by its key.
	res, err := a.tx.ExecContext(a.ctx, `DELETE FROM catalog_items
		WHERE record_rowid IN (SELECT rowid FROM catalog_records
			WHERE library_id = ? AND source_id IN (SELECT value FROM json_each(?)))`, a.lib, jsonArray(ids))
	if err != nil {
		return fmt.Errorf("deleting items: %w", err)
	}
	n, _ := res.RowsAffected()
	if res, err = a.tx.ExecContext(a.ctx, `DELETE FROM catalog_items WHERE record_rowid IS NULL
		AND record_library_id = ? AND record_source_id IN (SELECT value FROM json_each(?))`, a.lib, jsonArray(ids)); err != nil {
		return fmt.Errorf("deleting items: %w", err)
	}
	n2, _ := res.RowsAffected()
	n += n2
	a.res.ItemsDeleted += int(n)
	if res, err = a.tx.ExecContext(a.ctx, `DELETE FROM catalog_records
		WHERE library_id = ? AND source_id IN (SELECT value FROM json_each(?))`, a.lib, jsonArray(ids)); err != nil {
		return fmt.Errorf("deleting records: %w", err)
	}
	n, _ = res.RowsAffected()
	a.res.Deleted += int(n)
	return nil
}

// works recomputes the display metadata of every work whose records
// changed; a work left without records becomes a tombstone. A work created
// in this transaction is summarised from its records in memory; a stored
// work is read back (what clustering and JoinsQuietly need of it), and its
// records too unless it only gained records that change nothing shown.
func (a *applier) works() error {
	if len(a.recompute) == 0 {
		return nil
	}
	ids := sortedKeys(a.recompute)
	var stored []string
	for _, id := range ids {
		if _, ok := a.fresh[id]; !ok {
			stored = append(stored, id)
		}
	}
	// One statement reads the stored works and counts the records they
	// gained, touching each row once: a work whose display the new records
	// leave unchanged is then done (its count and time are columns, which
	// override the copies in meta when a work is read), and a work found to
	// need recomputing is written again below with the count of its
	// records.
	prev := map[string]*workHead{}
	if len(stored) > 0 {
		counts := make([][2]any, len(stored)) // [id, records added]
		for i, id := range stored {
			counts[i] = [2]any{id, len(a.added[id])}
		}
		b, err := json.Marshal(counts)
		if err != nil {
			return fmt.Errorf("encoding work counts: %w", err)
		}
		if err := a.query(`UPDATE catalog_works SET record_count = record_count + q.n, updated_at = ?
			FROM (SELECT value ->> 0 AS id, value ->> 1 AS n FROM json_each(?)) AS q
			WHERE catalog_works.id = q.id
			RETURNING catalog_works.id, catalog_works.key, catalog_works.meta, catalog_works.deleted`,
			func(r *sql.Rows) error {
				h, err := scanWorkHead(r)
				if err == nil {
					prev[h.ID] = h
				}
				return err
			}, a.at, string(b)); err != nil {
			return fmt.Errorf("reading and counting works: %w", err)
		}
	}
	// Works that only gained records which change nothing shown are not
	// read again: the common case of another library's copy of a book.
	var reread []string
	quiet := map[string]bool{}
	for _, id := range stored {
		p := prev[id]
		ok := !a.full[id] && p != nil
		for _, r := range a.added[id] {
			ok = ok && catalog.JoinsQuietly(&p.StoredWork, p.Best, r)
		}
		if ok {
			quiet[id] = true
		} else {
			reread = append(reread, id)
		}
	}
	recs := map[string][]*catalog.Record{}
	if len(reread) > 0 {
		if err := a.query(`SELECT work_id, data FROM catalog_records WHERE work_id IN (SELECT value FROM json_each(?))`,
			func(r *sql.Rows) error {
				var w, data string
				if err := r.Scan(&w, &data); err != nil {
					return err
				}
				var rec catalog.Record
				if err := json.Unmarshal([]byte(data), &rec); err != nil {
					return fmt.Errorf("work %s: stored record: %w", w, err)
				}
				recs[w] = append(recs[w], &rec)
				return nil
			}, jsonArray(reread)); err != nil {
			return fmt.Errorf("reading the works' records: %w", err)
		}
	}
	for id, rs := range a.fresh {
		recs[id] = rs
	}
	upsert, err := a.tx.PrepareContext(a.ctx, `INSERT INTO catalog_works (id, key, meta, record_count, deleted, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET key = excluded.key, meta = excluded.meta,
		record_count = excluded.record_count, deleted = excluded.deleted, updated_at = excluded.updated_at`)
	if err != nil {
		return err
	}
	defer upsert.Close()
	for _, id := range ids {
		p := prev[id]
		a.changed[id] = true
		if quiet[id] {
			continue
		}
		key := a.newKey[id]
		var pw *catalog.StoredWork
		if p != nil {
			key = p.Key
			if len(recs[id]) == 0 {
				// A tombstone keeps the last metadata: read it in full.
				m, err := p.full()
				if err != nil {
					return err
				}
				pw = &m.StoredWork
			}
		}
		m := workMeta{StoredWork: *catalog.Summarize(id, key, recs[id], pw, a.atTime), Best: catalog.BestOf(recs[id])}
		if m.Deleted && (p == nil || !p.Deleted) {
			a.res.WorksDeleted++
		}
		meta, err := json.Marshal(&m)
		if err != nil {
			return fmt.Errorf("encoding work %s: %w", id, err)
		}
		if _, err := upsert.ExecContext(a.ctx, id, m.Key, string(meta), m.RecordCount, m.Deleted, a.at); err != nil {
			return fmt.Errorf("writing work %s: %w", id, err)
		}
	}
	return nil
}

// workHead is what Apply needs of a stored work: its key and state, and
// the lists and best record that decide whether a new record changes its
// display (catalog.JoinsQuietly). The rest of its metadata stays encoded
// until a tombstone needs it: decoding all of it for every work a batch
// touches showed in an import's profile.
type workHead struct {
	catalog.StoredWork
	Best catalog.Best `json:"best"`
	meta string
}

// scanWorkHead reads id, key, meta, deleted into a workHead, decoding of
// meta only the lists JoinsQuietly compares and the best record.
func scanWorkHead(row interface{ Scan(...any) error }) (*workHead, error) {
	var (
		h    workHead
		lite struct {
			ISBNs, Languages, Subjects, Series []string
			Best                               catalog.Best `json:"best"`
		}
	)
	if err := row.Scan(&h.ID, &h.Key, &h.meta, &h.Deleted); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(h.meta), &lite); err != nil {
		return nil, fmt.Errorf("work %s: %w", h.ID, err)
	}
	h.ISBNs, h.Languages, h.Subjects, h.Series, h.Best = lite.ISBNs, lite.Languages, lite.Subjects, lite.Series, lite.Best
	return &h, nil
}

// full decodes every field of the work's stored metadata.
func (h *workHead) full() (*workMeta, error) {
	var m workMeta
	if err := json.Unmarshal([]byte(h.meta), &m); err != nil {
		return nil, fmt.Errorf("work %s: %w", h.ID, err)
	}
	m.ID, m.Key, m.Deleted = h.ID, h.Key, h.Deleted
	compactWork(&m.StoredWork)
	return &m, nil
}

// changes appends one change per changed work, in work ID order.
func (a *applier) changes() error {
	ids := sortedKeys(a.changed)
	if len(ids) == 0 {
		return nil
	}
	// json_each yields the array in order, so sequence numbers follow it.
	if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO catalog_changes (work_id, at)
		SELECT value, ? FROM json_each(?) ORDER BY key`, a.at, jsonArray(ids)); err != nil {
		return err
	}
	a.res.Changes += len(ids)
	return nil
}

// sortedKeys returns the non-empty keys of m, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// recordJSON encodes r without its raw MARC (stored as a BLOB beside it).
func recordJSON(r *catalog.Record) (string, error) {
	c := *r
	c.RawMARC = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encoding record %s: %w", r.SourceID, err)
	}
	return string(b), nil
}

// blobOrNil stores nil as NULL.
func blobOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

const workColumns = `id, key, meta, record_count, deleted, updated_at`

// workMeta is the stored JSON of a work: its display metadata and the
// record that display comes from.
type workMeta struct {
	catalog.StoredWork
	Best catalog.Best `json:"best"`
}

func scanWork(row interface{ Scan(...any) error }) (*catalog.StoredWork, error) {
	m, err := scanWorkMeta(row)
	if err != nil {
		return nil, err
	}
	return &m.StoredWork, nil
}

func scanWorkMeta(row interface{ Scan(...any) error }) (*workMeta, error) {
	var (
		id, key, meta, updated string
		count                  int
		deleted                bool
	)
	if err := row.Scan(&id, &key, &meta, &count, &deleted, &updated); err != nil {
		return nil, err
	}
	var m workMeta
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		return nil, fmt.Errorf("work %s: %w", id, err)
	}
	m.ID, m.Key, m.RecordCount, m.Deleted = id, key, count, deleted
	var err error
	if m.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, fmt.Errorf("work %s: %w", id, err)
	}
	compactWork(&m.StoredWork)
	return &m, nil
}

// compactWork makes empty lists nil, as the contract returns them.
func compactWork(w *catalog.StoredWork) {
	if len(w.Authors) == 0 {
		w.Authors = nil
	}
	if len(w.Languages) == 0 {
		w.Languages = nil
	}
	if len(w.ISBNs) == 0 {
		w.ISBNs = nil
	}
	if len(w.Subjects) == 0 {
		w.Subjects = nil
	}
	if len(w.Series) == 0 {
		w.Series = nil
	}
	if len(w.Links) == 0 {
		w.Links = nil
	}
}

// compactRecord makes empty lists nil, as the contract returns them.
func compactRecord(r *catalog.Record) {
	if len(r.Authors) == 0 {
		r.Authors = nil
	}
	if len(r.Subjects) == 0 {
		r.Subjects = nil
	}
	if len(r.ISBNs) == 0 {
		r.ISBNs = nil
	}
	if len(r.Series) == 0 {
		r.Series = nil
	}
	if len(r.Links) == 0 {
		r.Links = nil
	}
	if len(r.Languages) == 0 {
		r.Languages = nil
	}
}

// Work implements catalog.Store.
func (s *CatalogStore) Work(ctx context.Context, id string) (*catalog.StoredWork, error) {
	w, err := scanWork(s.db.QueryRowContext(ctx, `SELECT `+workColumns+` FROM catalog_works WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("work %s: %w", id, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("work %s: %w", id, err)
	}
	return w, nil
}

// WorksByID implements catalog.Store.
func (s *CatalogStore) WorksByID(ctx context.Context, ids []string) ([]*catalog.StoredWork, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.works(ctx, `SELECT `+workColumns+` FROM catalog_works WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
}

// Works implements catalog.Store.
func (s *CatalogStore) Works(ctx context.Context, afterID string, limit int) ([]*catalog.StoredWork, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.works(ctx, `SELECT `+workColumns+` FROM catalog_works WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?`, afterID, limit)
}

func (s *CatalogStore) works(ctx context.Context, q string, args ...any) ([]*catalog.StoredWork, error) {
	var out []*catalog.StoredWork
	err := queryRows(ctx, s.db, q, func(r *sql.Rows) error {
		w, err := scanWork(r)
		if err == nil {
			out = append(out, w)
		}
		return err
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("reading works: %w", err)
	}
	return out, nil
}

const recordColumns = `library_id, source_id, work_id, hash, data, raw_marc, updated_at`

func scanRecord(row interface{ Scan(...any) error }) (*catalog.StoredRecord, error) {
	var (
		r                  catalog.StoredRecord
		lib, src, data, up string
		raw                []byte
	)
	if err := row.Scan(&lib, &src, &r.WorkID, &r.Hash, &data, &raw, &up); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), &r.Record); err != nil {
		return nil, fmt.Errorf("record %s/%s: %w", lib, src, err)
	}
	r.LibraryID, r.SourceID, r.RawMARC = lib, src, raw
	compactRecord(&r.Record)
	var err error
	if r.UpdatedAt, err = parseTime(up); err != nil {
		return nil, fmt.Errorf("record %s/%s: %w", lib, src, err)
	}
	return &r, nil
}

// RecordsByWork implements catalog.Store.
func (s *CatalogStore) RecordsByWork(ctx context.Context, workIDs []string) ([]*catalog.StoredRecord, error) {
	if len(workIDs) == 0 {
		return nil, nil
	}
	var out []*catalog.StoredRecord
	err := queryRows(ctx, s.db, `SELECT `+recordColumns+` FROM catalog_records
		WHERE work_id IN (SELECT value FROM json_each(?)) ORDER BY work_id, library_id, source_id`,
		func(r *sql.Rows) error {
			rec, err := scanRecord(r)
			if err == nil {
				out = append(out, rec)
			}
			return err
		}, jsonArray(workIDs))
	if err != nil {
		return nil, fmt.Errorf("records by work: %w", err)
	}
	return out, nil
}

// Record implements catalog.Store.
func (s *CatalogStore) Record(ctx context.Context, libraryID, sourceID string) (*catalog.StoredRecord, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM catalog_records
		WHERE library_id = ? AND source_id = ?`, libraryID, sourceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("record %s of library %s: %w", sourceID, libraryID, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("record %s of library %s: %w", sourceID, libraryID, err)
	}
	return r, nil
}

const itemColumns = `barcode, library_id, record_library_id, record_source_id, work_id, branch, location,
	call_number, loan_type, status, updated_at`

// itemColumnsOf returns itemColumns qualified with a table alias.
func itemColumnsOf(alias string) string {
	cols := strings.Split(itemColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

func scanItem(row interface{ Scan(...any) error }) (*catalog.StoredItem, error) {
	var (
		it         catalog.StoredItem
		status, up string
	)
	if err := row.Scan(&it.Barcode, &it.LibraryID, &it.RecordLibraryID, &it.RecordSourceID, &it.WorkID,
		&it.Branch, &it.Location, &it.CallNumber, &it.LoanType, &status, &up); err != nil {
		return nil, err
	}
	it.Status = catalog.ItemStatus(status)
	var err error
	if it.UpdatedAt, err = parseTime(up); err != nil {
		return nil, fmt.Errorf("item %s: %w", it.Barcode, err)
	}
	return &it, nil
}

func (s *CatalogStore) items(ctx context.Context, q string, args ...any) ([]*catalog.StoredItem, error) {
	var out []*catalog.StoredItem
	err := queryRows(ctx, s.db, q, func(r *sql.Rows) error {
		it, err := scanItem(r)
		if err == nil {
			out = append(out, it)
		}
		return err
	}, args...)
	return out, err
}

// ItemsByWork implements catalog.Store.
func (s *CatalogStore) ItemsByWork(ctx context.Context, workIDs []string) ([]*catalog.StoredItem, error) {
	if len(workIDs) == 0 {
		return nil, nil
	}
	// Through the works' records: catalog_items has no index on work_id
	// (migration 0009), an item's work is its record's, and items refer to
	// their record by row ID (migration 0011), which the records' work
	// index holds, so no record row is read.
	out, err := s.items(ctx, `SELECT `+itemColumnsOf("i")+` FROM catalog_records AS r
		JOIN catalog_items AS i ON i.record_rowid = r.rowid
		WHERE r.work_id IN (SELECT value FROM json_each(?)) AND i.work_id = r.work_id
		ORDER BY i.work_id, i.library_id, i.barcode`, jsonArray(workIDs))
	if err != nil {
		return nil, fmt.Errorf("items by work: %w", err)
	}
	return out, nil
}

// Item implements catalog.Store.
func (s *CatalogStore) Item(ctx context.Context, barcode string) (*catalog.StoredItem, error) {
	it, err := scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM catalog_items WHERE barcode = ?`, barcode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item %s: %w", barcode, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", barcode, err)
	}
	return it, nil
}

// ItemsByBarcode implements catalog.Store.
func (s *CatalogStore) ItemsByBarcode(ctx context.Context, barcodes []string) ([]*catalog.StoredItem, error) {
	if len(barcodes) == 0 {
		return nil, nil
	}
	out, err := s.items(ctx, `SELECT `+itemColumns+` FROM catalog_items
		WHERE barcode IN (SELECT value FROM json_each(?))`, jsonArray(barcodes))
	if err != nil {
		return nil, fmt.Errorf("items by barcode: %w", err)
	}
	return out, nil
}

// SetItemStatus implements catalog.Store with one UPDATE … WHERE status
// IN (…) RETURNING and the change entry in the same transaction.
func (s *CatalogStore) SetItemStatus(ctx context.Context, barcode string, from []catalog.ItemStatus, to catalog.ItemStatus, at time.Time) (*catalog.StoredItem, error) {
	if err := catalog.ValidStatusChange(from, to); err != nil {
		return nil, fmt.Errorf("item %s: %w", barcode, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("item %s: status: %w", barcode, err)
	}
	defer tx.Rollback()
	it, err := scanItem(tx.QueryRowContext(ctx, `UPDATE catalog_items SET status = ?, updated_at = ?
		WHERE barcode = ? AND status IN (SELECT value FROM json_each(?)) RETURNING `+itemColumns,
		string(to), fmtTime(at), barcode, jsonArray(catalog.StatusStrings(from))))
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM catalog_items WHERE barcode = ?`, barcode).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("item %s: %w", barcode, thuvienso.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("item %s: status: %w", barcode, err)
		}
		return nil, fmt.Errorf("item %s: %w", barcode, catalog.ErrItemStatusConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("item %s: status: %w", barcode, err)
	}
	if it.WorkID != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_changes (work_id, at) VALUES (?, ?)`, it.WorkID, fmtTime(at)); err != nil {
			return nil, fmt.Errorf("item %s: change: %w", barcode, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("item %s: status: %w", barcode, err)
	}
	return it, nil
}

// Changes implements catalog.Store.
func (s *CatalogStore) Changes(ctx context.Context, afterSeq int64, limit int) ([]catalog.Change, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []catalog.Change
	err := queryRows(ctx, s.db, `SELECT seq, work_id, at FROM catalog_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		func(r *sql.Rows) error {
			var c catalog.Change
			var at string
			if err := r.Scan(&c.Seq, &c.WorkID, &at); err != nil {
				return err
			}
			var err error
			c.At, err = parseTime(at)
			out = append(out, c)
			return err
		}, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("changes after %d: %w", afterSeq, err)
	}
	return out, nil
}

// LatestSeq implements catalog.Store.
func (s *CatalogStore) LatestSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM catalog_changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("latest change: %w", err)
	}
	return seq, nil
}

// Counts implements catalog.Store.
func (s *CatalogStore) Counts(ctx context.Context) (catalog.Counts, error) {
	var c catalog.Counts
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM catalog_works WHERE deleted = 0),
		(SELECT count(*) FROM catalog_records), (SELECT count(*) FROM catalog_items)`).Scan(&c.Works, &c.Records, &c.Items)
	if err != nil {
		return c, fmt.Errorf("counting the catalogue: %w", err)
	}
	return c, nil
}

// HarvestCheckpoint implements catalog.Store.
func (s *CatalogStore) HarvestCheckpoint(ctx context.Context, libraryID string) (*catalog.HarvestCheckpoint, error) {
	c := catalog.HarvestCheckpoint{LibraryID: libraryID}
	var up string
	err := s.db.QueryRowContext(ctx, `SELECT url, set_spec, state, updated_at FROM catalog_harvests WHERE library_id = ?`,
		libraryID).Scan(&c.URL, &c.Set, &c.State, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("harvest state of library %s: %w", libraryID, thuvienso.ErrNotFound)
	}
	if err == nil {
		c.UpdatedAt, err = parseTime(up)
	}
	if err != nil {
		return nil, fmt.Errorf("harvest state of library %s: %w", libraryID, err)
	}
	return &c, nil
}

// PutHarvestCheckpoint implements catalog.Store.
func (s *CatalogStore) PutHarvestCheckpoint(ctx context.Context, c *catalog.HarvestCheckpoint) error {
	state := c.State
	if state == nil {
		state = []byte{}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO catalog_harvests (library_id, url, set_spec, state, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (library_id) DO UPDATE SET url = excluded.url, set_spec = excluded.set_spec,
		state = excluded.state, updated_at = excluded.updated_at`,
		c.LibraryID, c.URL, c.Set, state, fmtTime(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("saving harvest state of library %s: %w", c.LibraryID, err)
	}
	return nil
}
