package mongo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
)

// Catalog collections.
const (
	collWorks    = "catalogWorks"
	collWorkKeys = "catalogWorkKeys"
	collRecords  = "catalogRecords"
	collItems    = "catalogItems"
	collChanges  = "catalogChanges"
	collCounters = "counters"
	collHarvests = "catalogHarvests"
)

// changeCounter is the counters document that allocates change sequence
// numbers.
const changeCounter = "catalogChanges"

// maxRecomputeAttempts bounds the optimistic retries of a work's
// recomputation under contention.
const maxRecomputeAttempts = 20

// catalogIndexes are the indexes of the catalog collections.
func catalogIndexes() map[string][]mongodrv.IndexModel {
	plain := func(name string) *options.IndexOptionsBuilder { return options.Index().SetName(name) }
	return map[string][]mongodrv.IndexModel{
		collWorks: {
			{Keys: bson.D{{Key: "deleted", Value: 1}, {Key: "_id", Value: 1}}, Options: plain("deleted_id")},
		},
		collWorkKeys: {
			{Keys: bson.D{{Key: "workId", Value: 1}}, Options: plain("workId")},
		},
		collRecords: {
			{Keys: bson.D{{Key: "workId", Value: 1}, {Key: "libraryId", Value: 1}, {Key: "sourceId", Value: 1}}, Options: plain("workId_library_source")},
		},
		collItems: {
			{Keys: bson.D{{Key: "workId", Value: 1}, {Key: "libraryId", Value: 1}, {Key: "_id", Value: 1}}, Options: plain("workId_library_barcode")},
			{Keys: bson.D{{Key: "recordLibraryId", Value: 1}, {Key: "recordSourceId", Value: 1}}, Options: plain("record")},
		},
	}
}

// CatalogStore implements catalog.Store on MongoDB without multi-document
// transactions:
//
//   - Records are keyed by library and source ID (_id "<len>:<library>|<source>"),
//     items by barcode (_id), so upserts are single-document and a barcode
//     exists once in the network.
//   - A work is found through catalogWorkKeys (_id = clustering key →
//     workId). A new work is created by inserting its first key: of two
//     imports of one book at once, one insert wins and the other, on the
//     duplicate, reads the winner and joins its work.
//   - A work's display metadata is recomputed from its records after they
//     are written, optimistically: the work document carries a version and
//     the replace is conditional on the version read; a writer whose
//     replace lost (its token is not the one stored) reads and recomputes
//     again. The last successful recompute therefore read every record
//     written before it.
//   - Change sequence numbers come from one counter document ($inc through
//     FindOneAndUpdate, a range per batch); the changes are inserted right
//     after. Writers on several instances may commit them out of order;
//     catalog.Follower holds readers back at gaps.
type CatalogStore struct {
	works, keys, records, items, changes, counters, harvests *mongodrv.Collection
}

var _ catalog.Store = (*CatalogStore)(nil)

func newCatalogStore(db *mongodrv.Database) *CatalogStore {
	return &CatalogStore{
		works: db.Collection(collWorks), keys: db.Collection(collWorkKeys), records: db.Collection(collRecords),
		items: db.Collection(collItems), changes: db.Collection(collChanges), counters: db.Collection(collCounters),
		harvests: db.Collection(collHarvests),
	}
}

type authorDoc struct {
	Name string `bson:"name"`
	Role string `bson:"role,omitempty"`
	Kind string `bson:"kind,omitempty"`
}

type linkDoc struct {
	URL  string `bson:"url"`
	Note string `bson:"note,omitempty"`
}

type isbnDoc struct {
	Raw       string `bson:"raw"`
	ISBN13    string `bson:"isbn13,omitempty"`
	Qualifier string `bson:"qualifier,omitempty"`
}

// workDoc is a work as stored. Version and Writer make recomputation
// optimistic (see CatalogStore).
type workDoc struct {
	ID                  string        `bson:"_id"`
	Key                 string        `bson:"key"`
	Title               string        `bson:"title"`
	Subtitle            string        `bson:"subtitle,omitempty"`
	Authors             []authorDoc   `bson:"authors,omitempty"`
	Year                int           `bson:"year,omitempty"`
	Format              string        `bson:"format"`
	Languages           []string      `bson:"languages,omitempty"`
	ISBNs               []string      `bson:"isbns,omitempty"`
	Subjects            []string      `bson:"subjects,omitempty"`
	Series              []string      `bson:"series,omitempty"`
	Edition             string        `bson:"edition,omitempty"`
	Publisher           string        `bson:"publisher,omitempty"`
	Place               string        `bson:"place,omitempty"`
	DDC                 string        `bson:"ddc,omitempty"`
	Summary             string        `bson:"summary,omitempty"`
	PhysicalDescription string        `bson:"physicalDescription,omitempty"`
	Links               []linkDoc     `bson:"links,omitempty"`
	RecordCount         int           `bson:"recordCount"`
	Deleted             bool          `bson:"deleted"`
	Version             int64         `bson:"version"`
	Writer              string        `bson:"writer"`
	UpdatedAt           bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs         int32         `bson:"updatedAtNs,omitempty"`
}

// recordDoc is a record as stored.
type recordDoc struct {
	ID                  string        `bson:"_id"`
	LibraryID           string        `bson:"libraryId"`
	SourceID            string        `bson:"sourceId"`
	WorkID              string        `bson:"workId"`
	Hash                string        `bson:"hash"`
	SourceFormat        string        `bson:"sourceFormat,omitempty"`
	RawMARC             []byte        `bson:"rawMarc,omitempty"`
	Title               string        `bson:"title"`
	Subtitle            string        `bson:"subtitle,omitempty"`
	Authors             []authorDoc   `bson:"authors,omitempty"`
	Subjects            []string      `bson:"subjects,omitempty"`
	Edition             string        `bson:"edition,omitempty"`
	Publisher           string        `bson:"publisher,omitempty"`
	Place               string        `bson:"place,omitempty"`
	Year                int           `bson:"year,omitempty"`
	ISBNs               []isbnDoc     `bson:"isbns,omitempty"`
	DDC                 string        `bson:"ddc,omitempty"`
	Summary             string        `bson:"summary,omitempty"`
	Series              []string      `bson:"series,omitempty"`
	PhysicalDescription string        `bson:"physicalDescription,omitempty"`
	Links               []linkDoc     `bson:"links,omitempty"`
	Format              string        `bson:"format,omitempty"`
	Languages           []string      `bson:"languages,omitempty"`
	UpdatedAt           bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs         int32         `bson:"updatedAtNs,omitempty"`
}

// itemDoc is an item as stored; _id is the barcode.
type itemDoc struct {
	Barcode         string        `bson:"_id"`
	LibraryID       string        `bson:"libraryId"`
	RecordLibraryID string        `bson:"recordLibraryId"`
	RecordSourceID  string        `bson:"recordSourceId"`
	WorkID          string        `bson:"workId"`
	Branch          string        `bson:"branch,omitempty"`
	Location        string        `bson:"location,omitempty"`
	CallNumber      string        `bson:"callNumber,omitempty"`
	LoanType        string        `bson:"loanType,omitempty"`
	Status          string        `bson:"status"`
	Hash            string        `bson:"hash"`
	UpdatedAt       bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs     int32         `bson:"updatedAtNs,omitempty"`
}

// changeDoc is one entry of the change sequence; _id is the sequence
// number.
type changeDoc struct {
	Seq    int64         `bson:"_id"`
	WorkID string        `bson:"workId"`
	At     bson.DateTime `bson:"at"`
	AtNs   int32         `bson:"atNs,omitempty"`
}

type harvestDoc struct {
	LibraryID   string        `bson:"_id"`
	URL         string        `bson:"url"`
	Set         string        `bson:"set"`
	State       []byte        `bson:"state"`
	UpdatedAt   bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs int32         `bson:"updatedAtNs,omitempty"`
}

// recordID is the _id of a library's record: the library's length makes
// it unambiguous whatever characters the IDs contain.
func recordID(lib, src string) string {
	return strconv.Itoa(len(lib)) + ":" + lib + "|" + src
}

func toAuthorDocs(as []catalog.Author) []authorDoc {
	var out []authorDoc
	for _, a := range as {
		out = append(out, authorDoc{Name: a.Name, Role: a.Role, Kind: string(a.Kind)})
	}
	return out
}

func fromAuthorDocs(ds []authorDoc) []catalog.Author {
	var out []catalog.Author
	for _, d := range ds {
		out = append(out, catalog.Author{Name: d.Name, Role: d.Role, Kind: catalog.AuthorKind(d.Kind)})
	}
	return out
}

func toLinkDocs(ls []catalog.Link) []linkDoc {
	var out []linkDoc
	for _, l := range ls {
		out = append(out, linkDoc{URL: l.URL, Note: l.Note})
	}
	return out
}

func fromLinkDocs(ds []linkDoc) []catalog.Link {
	var out []catalog.Link
	for _, d := range ds {
		out = append(out, catalog.Link{URL: d.URL, Note: d.Note})
	}
	return out
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func toRecordDoc(r *catalog.Record, workID, hash string, at time.Time) *recordDoc {
	d := &recordDoc{
		ID: recordID(r.LibraryID, r.SourceID), LibraryID: r.LibraryID, SourceID: r.SourceID, WorkID: workID, Hash: hash,
		SourceFormat: string(r.SourceFormat), RawMARC: r.RawMARC, Title: r.Title, Subtitle: r.Subtitle,
		Authors: toAuthorDocs(r.Authors), Subjects: r.Subjects, Edition: r.Edition, Publisher: r.Publisher,
		Place: r.Place, Year: r.Year, DDC: r.DDC, Summary: r.Summary, Series: r.Series,
		PhysicalDescription: r.PhysicalDescription, Links: toLinkDocs(r.Links), Format: string(r.Format),
		Languages: r.Languages,
	}
	for _, i := range r.ISBNs {
		d.ISBNs = append(d.ISBNs, isbnDoc{Raw: i.Raw, ISBN13: i.ISBN13, Qualifier: i.Qualifier})
	}
	d.UpdatedAt, d.UpdatedAtNs = toDate(at)
	return d
}

func (d *recordDoc) record() *catalog.StoredRecord {
	r := &catalog.StoredRecord{WorkID: d.WorkID, Hash: d.Hash, UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs)}
	r.Record = catalog.Record{
		LibraryID: d.LibraryID, SourceID: d.SourceID, SourceFormat: catalog.SourceFormat(d.SourceFormat),
		RawMARC: nilIfEmpty(d.RawMARC), Title: d.Title, Subtitle: d.Subtitle, Authors: fromAuthorDocs(d.Authors),
		Subjects: nilIfEmpty(d.Subjects), Edition: d.Edition, Publisher: d.Publisher, Place: d.Place, Year: d.Year,
		DDC: d.DDC, Summary: d.Summary, Series: nilIfEmpty(d.Series), PhysicalDescription: d.PhysicalDescription,
		Links: fromLinkDocs(d.Links), Format: catalog.Format(d.Format), Languages: nilIfEmpty(d.Languages),
	}
	for _, i := range d.ISBNs {
		r.ISBNs = append(r.ISBNs, catalog.ISBN{Raw: i.Raw, ISBN13: i.ISBN13, Qualifier: i.Qualifier})
	}
	return r
}

func toWorkDoc(w *catalog.StoredWork) *workDoc {
	d := &workDoc{
		ID: w.ID, Key: w.Key, Title: w.Title, Subtitle: w.Subtitle, Authors: toAuthorDocs(w.Authors), Year: w.Year,
		Format: string(w.Format), Languages: w.Languages, ISBNs: w.ISBNs, Subjects: w.Subjects, Series: w.Series,
		Edition: w.Edition, Publisher: w.Publisher, Place: w.Place, DDC: w.DDC, Summary: w.Summary,
		PhysicalDescription: w.PhysicalDescription, Links: toLinkDocs(w.Links), RecordCount: w.RecordCount,
		Deleted: w.Deleted,
	}
	d.UpdatedAt, d.UpdatedAtNs = toDate(w.UpdatedAt)
	return d
}

func (d *workDoc) work() *catalog.StoredWork {
	return &catalog.StoredWork{
		ID: d.ID, Key: d.Key, Title: d.Title, Subtitle: d.Subtitle, Authors: fromAuthorDocs(d.Authors), Year: d.Year,
		Format: catalog.Format(d.Format), Languages: nilIfEmpty(d.Languages), ISBNs: nilIfEmpty(d.ISBNs),
		Subjects: nilIfEmpty(d.Subjects), Series: nilIfEmpty(d.Series), Edition: d.Edition, Publisher: d.Publisher,
		Place: d.Place, DDC: d.DDC, Summary: d.Summary, PhysicalDescription: d.PhysicalDescription,
		Links: fromLinkDocs(d.Links), RecordCount: d.RecordCount, Deleted: d.Deleted,
		UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs),
	}
}

func (d *itemDoc) item() *catalog.StoredItem {
	return &catalog.StoredItem{
		Item: catalog.Item{Barcode: d.Barcode, LibraryID: d.LibraryID, RecordSourceID: d.RecordSourceID,
			Branch: d.Branch, Location: d.Location, CallNumber: d.CallNumber, LoanType: d.LoanType,
			Status: catalog.ItemStatus(d.Status)},
		RecordLibraryID: d.RecordLibraryID, WorkID: d.WorkID, UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs),
	}
}

// in is the filter {field: {$in: values}}.
func in(field string, values []string) bson.D {
	return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: values}}}}
}

// findAll decodes every document matching filter into T.
func findAll[T any](ctx context.Context, c *mongodrv.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Apply implements catalog.Store.
func (s *CatalogStore) Apply(ctx context.Context, b *catalog.Batch) (*catalog.ApplyResult, error) {
	if strings.TrimSpace(b.LibraryID) == "" {
		return nil, catalog.ErrNoLibrary
	}
	at := b.At
	if at.IsZero() {
		at = time.Now()
	}
	a := &applier{s: s, ctx: ctx, lib: b.LibraryID, at: at, res: &catalog.ApplyResult{},
		recompute: map[string]bool{}, changed: map[string]bool{}, newKey: map[string]string{}}
	steps := []struct {
		what string
		run  func() error
	}{
		{"records", func() error { return a.applyRecords(b.Records) }},
		{"items", func() error { return a.applyItems(b.Items) }},
		{"deletions", func() error { return a.applyDeletions(b.Deletions) }},
		{"works", a.recomputeWorks},
		{"changes", func() error {
			n, err := s.appendChanges(ctx, sortedKeys(a.changed), at)
			a.res.Changes += n
			return err
		}},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			return a.res, fmt.Errorf("applying batch of library %s: %s: %w", b.LibraryID, st.what, err)
		}
	}
	return a.res, nil
}

// applier is one Apply.
type applier struct {
	s   *CatalogStore
	ctx context.Context
	lib string
	at  time.Time
	res *catalog.ApplyResult
	// recompute are works whose records changed; changed are works that
	// get a change entry.
	recompute, changed map[string]bool
	// newKey is the key of each work this Apply created.
	newKey map[string]string
}

// owners returns the owners of the claimed keys among keys.
func (a *applier) owners(keys []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	type keyDoc struct {
		Key    string `bson:"_id"`
		WorkID string `bson:"workId"`
	}
	docs, err := findAll[keyDoc](a.ctx, a.s.keys, in("_id", keys))
	if err != nil {
		return nil, fmt.Errorf("reading work keys: %w", err)
	}
	for _, d := range docs {
		out[d.Key] = d.WorkID
	}
	return out, nil
}

// claim inserts key → work for each key not yet claimed. A key claimed
// meanwhile by another writer stays theirs (the insert fails as a
// duplicate); the caller reads the owners again when it matters.
func (a *applier) claim(claims map[string]string) error {
	if len(claims) == 0 {
		return nil
	}
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	docs := make([]any, len(keys))
	for i, k := range keys {
		docs[i] = bson.D{{Key: "_id", Value: k}, {Key: "workId", Value: claims[k]}}
	}
	_, err := a.s.keys.InsertMany(a.ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("claiming work keys: %w", err)
	}
	return nil
}

// onlyDuplicates reports whether err is a bulk write failure made only of
// duplicate-key errors.
func onlyDuplicates(err error) bool {
	var bwe mongodrv.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return mongodrv.IsDuplicateKeyError(err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 && we.Code != 11001 && we.Code != 12582 {
			return false
		}
	}
	return true
}

func (a *applier) applyRecords(recs []catalog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]string, len(recs))
	for i := range recs {
		recs[i].LibraryID = a.lib
		ids[i] = recordID(a.lib, recs[i].SourceID)
	}
	type stub struct {
		ID     string `bson:"_id"`
		Hash   string `bson:"hash"`
		WorkID string `bson:"workId"`
	}
	stubs, err := findAll[stub](a.ctx, a.s.records, in("_id", ids),
		options.Find().SetProjection(bson.D{{Key: "hash", Value: 1}, {Key: "workId", Value: 1}}))
	if err != nil {
		return fmt.Errorf("reading stored records: %w", err)
	}
	stored := map[string]stub{}
	for _, st := range stubs {
		stored[st.ID] = st
	}
	type todo struct {
		r         *catalog.Record
		hash, cur string
		work      string
	}
	var work []*todo
	var keys []string
	for i := range recs {
		r := &recs[i]
		h := catalog.RecordHash(r)
		st, ok := stored[recordID(a.lib, r.SourceID)]
		if ok && st.Hash == h {
			a.res.RecordsUnchanged++
			continue
		}
		work = append(work, &todo{r: r, hash: h, cur: st.WorkID})
		keys = append(keys, catalog.ClaimKeys(r)...)
	}
	if len(work) == 0 {
		return nil
	}
	owners, err := a.owners(keys)
	if err != nil {
		return err
	}
	// Choose works in memory; a new work is tentative until its first key
	// is claimed.
	tentative := map[string]string{} // tentative work → its first key
	local := map[string]string{}     // owners plus this batch's choices
	for k, w := range owners {
		local[k] = w
	}
	for _, t := range work {
		t.work = catalog.ChooseWork(catalog.LookupKeys(t.r), local, t.cur)
		if t.work == "" {
			t.work = newID()
			key := catalog.WorkKey(t.r)
			if key == "" {
				key = catalog.RecordKey(t.r)
			}
			tentative[t.work] = key
			if _, ok := local[key]; !ok {
				local[key] = t.work
			}
		}
		for _, k := range catalog.ClaimKeys(t.r) {
			if _, ok := local[k]; !ok {
				local[k] = t.work
			}
		}
	}
	if len(tentative) > 0 {
		first := map[string]string{}
		var firstKeys []string
		for w, k := range tentative {
			first[k] = w
			firstKeys = append(firstKeys, k)
		}
		if err := a.claim(first); err != nil {
			return err
		}
		won, err := a.owners(firstKeys)
		if err != nil {
			return err
		}
		remap := map[string]string{}
		for w, k := range tentative {
			owner, ok := won[k]
			if !ok {
				return fmt.Errorf("work key %q was neither claimed nor found", k)
			}
			if owner == w {
				a.newKey[w] = k
				a.res.WorksCreated++
			} else {
				remap[w] = owner // another import created the work first
			}
		}
		for _, t := range work {
			if o, ok := remap[t.work]; ok {
				t.work = o
			}
		}
	}
	rest := map[string]string{}
	for _, t := range work {
		for _, k := range catalog.ClaimKeys(t.r) {
			if _, ok := owners[k]; !ok {
				if _, ok := rest[k]; !ok {
					rest[k] = t.work
				}
			}
		}
	}
	if err := a.claim(rest); err != nil {
		return err
	}
	models := make([]mongodrv.WriteModel, 0, len(work))
	var attach []mongodrv.WriteModel
	for _, t := range work {
		d := toRecordDoc(t.r, t.work, t.hash, a.at)
		models = append(models, mongodrv.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: d.ID}}).
			SetReplacement(d).SetUpsert(true))
		if t.cur == "" {
			a.res.RecordsNew++
		} else {
			a.res.RecordsUpdated++
		}
		if t.work != t.cur {
			attach = append(attach, mongodrv.NewUpdateManyModel().
				SetFilter(bson.D{{Key: "recordLibraryId", Value: a.lib}, {Key: "recordSourceId", Value: t.r.SourceID},
					{Key: "workId", Value: bson.D{{Key: "$ne", Value: t.work}}}}).
				SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "workId", Value: t.work}}}}))
			if t.cur != "" {
				a.recompute[t.cur] = true
			}
		}
		a.recompute[t.work] = true
	}
	if _, err := a.s.records.BulkWrite(a.ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("writing records: %w", err)
	}
	if len(attach) > 0 {
		if _, err := a.s.items.BulkWrite(a.ctx, attach, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("attaching items to their works: %w", err)
		}
	}
	return nil
}

func (a *applier) applyItems(items []catalog.Item) error {
	if len(items) == 0 {
		return nil
	}
	barcodes := make([]string, len(items))
	var recIDs []string
	for i := range items {
		barcodes[i] = items[i].Barcode
		recIDs = append(recIDs, recordID(a.lib, items[i].RecordSourceID))
	}
	type itemStub struct {
		Barcode         string `bson:"_id"`
		RecordLibraryID string `bson:"recordLibraryId"`
		Hash            string `bson:"hash"`
		WorkID          string `bson:"workId"`
	}
	proj := options.Find().SetProjection(bson.D{{Key: "recordLibraryId", Value: 1}, {Key: "hash", Value: 1}, {Key: "workId", Value: 1}})
	stubs, err := findAll[itemStub](a.ctx, a.s.items, in("_id", barcodes), proj)
	if err != nil {
		return fmt.Errorf("reading stored items: %w", err)
	}
	stored := map[string]itemStub{}
	for _, st := range stubs {
		stored[st.Barcode] = st
	}
	type recStub struct {
		ID     string `bson:"_id"`
		WorkID string `bson:"workId"`
	}
	recs, err := findAll[recStub](a.ctx, a.s.records, in("_id", recIDs), options.Find().SetProjection(bson.D{{Key: "workId", Value: 1}}))
	if err != nil {
		return fmt.Errorf("reading the items' records: %w", err)
	}
	workOf := map[string]string{}
	for _, r := range recs {
		workOf[r.ID] = r.WorkID
	}
	conflict := func(bc, owner string) {
		a.res.ItemsConflicting++
		a.res.Conflicts = append(a.res.Conflicts, catalog.Problem{ID: bc,
			Reason: fmt.Sprintf("%s (%s)", catalog.ErrBarcodeTaken.EN, owner)})
	}
	var inserts []any
	var inserted []*catalog.Item
	var updates []mongodrv.WriteModel
	for i := range items {
		it := &items[i]
		h := catalog.ItemHash(it)
		w := workOf[recordID(a.lib, it.RecordSourceID)]
		st, ok := stored[it.Barcode]
		switch {
		case ok && st.RecordLibraryID != a.lib:
			conflict(it.Barcode, st.RecordLibraryID)
			continue
		case ok && st.Hash == h && st.WorkID == w:
			a.res.ItemsUnchanged++
			continue
		case ok:
			d, ns := toDate(a.at)
			updates = append(updates, mongodrv.NewUpdateOneModel().
				SetFilter(bson.D{{Key: "_id", Value: it.Barcode}, {Key: "recordLibraryId", Value: a.lib}}).
				SetUpdate(bson.D{{Key: "$set", Value: bson.D{
					{Key: "libraryId", Value: it.LibraryID}, {Key: "recordSourceId", Value: it.RecordSourceID},
					{Key: "workId", Value: w}, {Key: "branch", Value: it.Branch}, {Key: "location", Value: it.Location},
					{Key: "callNumber", Value: it.CallNumber}, {Key: "loanType", Value: it.LoanType},
					{Key: "hash", Value: h}, {Key: "updatedAt", Value: d}, {Key: "updatedAtNs", Value: ns},
				}}}))
			a.res.ItemsUpdated++
			if st.WorkID != "" {
				a.changed[st.WorkID] = true
			}
		default:
			d := &itemDoc{Barcode: it.Barcode, LibraryID: it.LibraryID, RecordLibraryID: a.lib, RecordSourceID: it.RecordSourceID,
				WorkID: w, Branch: it.Branch, Location: it.Location, CallNumber: it.CallNumber, LoanType: it.LoanType,
				Status: string(it.Status), Hash: h}
			d.UpdatedAt, d.UpdatedAtNs = toDate(a.at)
			inserts = append(inserts, d)
			inserted = append(inserted, it)
		}
		if w != "" {
			a.changed[w] = true
		}
	}
	if len(updates) > 0 {
		if _, err := a.s.items.BulkWrite(a.ctx, updates, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("updating items: %w", err)
		}
	}
	if len(inserts) == 0 {
		return nil
	}
	_, err = a.s.items.InsertMany(a.ctx, inserts, options.InsertMany().SetOrdered(false))
	if err == nil {
		a.res.ItemsNew += len(inserts)
		return nil
	}
	if !onlyDuplicates(err) {
		return fmt.Errorf("inserting items: %w", err)
	}
	// Another import inserted some of these barcodes meanwhile: a copy of
	// another library is a conflict, one of this library's is there.
	var bcs []string
	for _, it := range inserted {
		bcs = append(bcs, it.Barcode)
	}
	now, err := findAll[itemStub](a.ctx, a.s.items, in("_id", bcs), proj)
	if err != nil {
		return fmt.Errorf("reading items after a duplicate: %w", err)
	}
	owner := map[string]string{}
	for _, st := range now {
		owner[st.Barcode] = st.RecordLibraryID
	}
	for _, it := range inserted {
		switch o, ok := owner[it.Barcode]; {
		case !ok:
			return fmt.Errorf("inserting item %s: neither inserted nor found", it.Barcode)
		case o != a.lib:
			conflict(it.Barcode, o)
		default:
			a.res.ItemsNew++
		}
	}
	return nil
}

func (a *applier) applyDeletions(refs []catalog.RecordRef) error {
	if len(refs) == 0 {
		return nil
	}
	ids := make([]string, len(refs))
	srcs := make([]string, len(refs))
	for i, d := range refs {
		ids[i], srcs[i] = recordID(a.lib, d.SourceID), d.SourceID
	}
	type recStub struct {
		ID     string `bson:"_id"`
		WorkID string `bson:"workId"`
	}
	found, err := findAll[recStub](a.ctx, a.s.records, in("_id", ids), options.Find().SetProjection(bson.D{{Key: "workId", Value: 1}}))
	if err != nil {
		return fmt.Errorf("reading records to delete: %w", err)
	}
	for _, r := range found {
		a.recompute[r.WorkID] = true
	}
	a.res.DeletionsMissing += len(refs) - len(found)
	if len(found) == 0 {
		return nil
	}
	res, err := a.s.items.DeleteMany(a.ctx, append(bson.D{{Key: "recordLibraryId", Value: a.lib}}, in("recordSourceId", srcs)...))
	if err != nil {
		return fmt.Errorf("deleting items: %w", err)
	}
	a.res.ItemsDeleted += int(res.DeletedCount)
	if res, err = a.s.records.DeleteMany(a.ctx, in("_id", ids)); err != nil {
		return fmt.Errorf("deleting records: %w", err)
	}
	a.res.Deleted += int(res.DeletedCount)
	return nil
}

// recomputeWorks rewrites the display metadata of every work whose records
// changed, optimistically (see CatalogStore).
func (a *applier) recomputeWorks() error {
	pending := sortedKeys(a.recompute)
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == maxRecomputeAttempts {
			return fmt.Errorf("works %v changed under every one of %d attempts", pending, attempt)
		}
		if err := a.ctx.Err(); err != nil {
			return err
		}
		prevDocs, err := findAll[workDoc](a.ctx, a.s.works, in("_id", pending))
		if err != nil {
			return fmt.Errorf("reading works: %w", err)
		}
		prev := map[string]*workDoc{}
		for i := range prevDocs {
			prev[prevDocs[i].ID] = &prevDocs[i]
		}
		recDocs, err := findAll[recordDoc](a.ctx, a.s.records, in("workId", pending),
			options.Find().SetProjection(bson.D{{Key: "rawMarc", Value: 0}}))
		if err != nil {
			return fmt.Errorf("reading the works' records: %w", err)
		}
		recs := map[string][]*catalog.Record{}
		for i := range recDocs {
			r := recDocs[i].record()
			recs[r.WorkID] = append(recs[r.WorkID], &r.Record)
		}
		token := newID()
		var models []mongodrv.WriteModel
		tombstones := map[string]bool{}
		for _, id := range pending {
			p := prev[id]
			var pw *catalog.StoredWork
			key := a.newKey[id]
			if p != nil {
				pw = p.work()
				key = p.Key
			}
			w := catalog.Summarize(id, key, recs[id], pw, a.at)
			d := toWorkDoc(w)
			d.Writer = token
			if w.Deleted && (p == nil || !p.Deleted) {
				tombstones[id] = true
			}
			if p == nil {
				d.Version = 1
				models = append(models, mongodrv.NewInsertOneModel().SetDocument(d))
			} else {
				d.Version = p.Version + 1
				models = append(models, mongodrv.NewReplaceOneModel().
					SetFilter(bson.D{{Key: "_id", Value: id}, {Key: "version", Value: p.Version}}).SetReplacement(d))
			}
		}
		if _, err := a.s.works.BulkWrite(a.ctx, models, options.BulkWrite().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
			return fmt.Errorf("writing works: %w", err)
		}
		type writerDoc struct {
			ID     string `bson:"_id"`
			Writer string `bson:"writer"`
		}
		written, err := findAll[writerDoc](a.ctx, a.s.works, in("_id", pending), options.Find().SetProjection(bson.D{{Key: "writer", Value: 1}}))
		if err != nil {
			return fmt.Errorf("reading works back: %w", err)
		}
		ours := map[string]bool{}
		for _, w := range written {
			ours[w.ID] = w.Writer == token
		}
		var again []string
		for _, id := range pending {
			if !ours[id] {
				again = append(again, id)
				continue
			}
			a.changed[id] = true
			if tombstones[id] {
				a.res.WorksDeleted++
			}
		}
		pending = again
	}
	return nil
}

// appendChanges allocates one sequence number per work from the counter and
// inserts the changes. It returns how many were written.
func (s *CatalogStore) appendChanges(ctx context.Context, works []string, at time.Time) (int, error) {
	if len(works) == 0 {
		return 0, nil
	}
	var counter struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: changeCounter}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(len(works))}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&counter)
	if err != nil {
		return 0, fmt.Errorf("allocating change numbers: %w", err)
	}
	first := counter.Seq - int64(len(works)) + 1
	d, ns := toDate(at)
	docs := make([]any, len(works))
	for i, w := range works {
		docs[i] = changeDoc{Seq: first + int64(i), WorkID: w, At: d, AtNs: ns}
	}
	if _, err := s.changes.InsertMany(ctx, docs); err != nil {
		return 0, fmt.Errorf("writing changes %d..%d: %w", first, counter.Seq, err)
	}
	return len(works), nil
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

// Work implements catalog.Store.
func (s *CatalogStore) Work(ctx context.Context, id string) (*catalog.StoredWork, error) {
	var d workDoc
	err := s.works.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("work %s: %w", id, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("work %s: %w", id, err)
	}
	return d.work(), nil
}

// WorksByID implements catalog.Store.
func (s *CatalogStore) WorksByID(ctx context.Context, ids []string) ([]*catalog.StoredWork, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.findWorks(ctx, in("_id", ids))
}

// Works implements catalog.Store.
func (s *CatalogStore) Works(ctx context.Context, afterID string, limit int) ([]*catalog.StoredWork, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.findWorks(ctx, bson.D{{Key: "deleted", Value: false}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: afterID}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

func (s *CatalogStore) findWorks(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) ([]*catalog.StoredWork, error) {
	docs, err := findAll[workDoc](ctx, s.works, filter, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading works: %w", err)
	}
	out := make([]*catalog.StoredWork, len(docs))
	for i := range docs {
		out[i] = docs[i].work()
	}
	return out, nil
}

// RecordsByWork implements catalog.Store.
func (s *CatalogStore) RecordsByWork(ctx context.Context, workIDs []string) ([]*catalog.StoredRecord, error) {
	if len(workIDs) == 0 {
		return nil, nil
	}
	docs, err := findAll[recordDoc](ctx, s.records, in("workId", workIDs),
		options.Find().SetSort(bson.D{{Key: "workId", Value: 1}, {Key: "libraryId", Value: 1}, {Key: "sourceId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("records by work: %w", err)
	}
	out := make([]*catalog.StoredRecord, len(docs))
	for i := range docs {
		out[i] = docs[i].record()
	}
	return out, nil
}

// Record implements catalog.Store.
func (s *CatalogStore) Record(ctx context.Context, libraryID, sourceID string) (*catalog.StoredRecord, error) {
	var d recordDoc
	err := s.records.FindOne(ctx, bson.D{{Key: "_id", Value: recordID(libraryID, sourceID)}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("record %s of library %s: %w", sourceID, libraryID, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("record %s of library %s: %w", sourceID, libraryID, err)
	}
	return d.record(), nil
}

func (s *CatalogStore) findItems(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) ([]*catalog.StoredItem, error) {
	docs, err := findAll[itemDoc](ctx, s.items, filter, opts...)
	if err != nil {
		return nil, err
	}
	out := make([]*catalog.StoredItem, len(docs))
	for i := range docs {
		out[i] = docs[i].item()
	}
	return out, nil
}

// ItemsByWork implements catalog.Store.
func (s *CatalogStore) ItemsByWork(ctx context.Context, workIDs []string) ([]*catalog.StoredItem, error) {
	if len(workIDs) == 0 {
		return nil, nil
	}
	out, err := s.findItems(ctx, in("workId", workIDs),
		options.Find().SetSort(bson.D{{Key: "workId", Value: 1}, {Key: "libraryId", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("items by work: %w", err)
	}
	return out, nil
}

// Item implements catalog.Store.
func (s *CatalogStore) Item(ctx context.Context, barcode string) (*catalog.StoredItem, error) {
	var d itemDoc
	err := s.items.FindOne(ctx, bson.D{{Key: "_id", Value: barcode}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("item %s: %w", barcode, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", barcode, err)
	}
	return d.item(), nil
}

// ItemsByBarcode implements catalog.Store.
func (s *CatalogStore) ItemsByBarcode(ctx context.Context, barcodes []string) ([]*catalog.StoredItem, error) {
	if len(barcodes) == 0 {
		return nil, nil
	}
	out, err := s.findItems(ctx, in("_id", barcodes))
	if err != nil {
		return nil, fmt.Errorf("items by barcode: %w", err)
	}
	return out, nil
}

// SetItemStatus implements catalog.Store with one FindOneAndUpdate whose
// filter holds the precondition, then appends the change. (Should the
// process die between the two, the index sees the status at the work's
// next change or reindex.)
func (s *CatalogStore) SetItemStatus(ctx context.Context, barcode string, from []catalog.ItemStatus, to catalog.ItemStatus, at time.Time) (*catalog.StoredItem, error) {
	if err := catalog.ValidStatusChange(from, to); err != nil {
		return nil, fmt.Errorf("item %s: %w", barcode, err)
	}
	d, ns := toDate(at)
	var doc itemDoc
	err := s.items.FindOneAndUpdate(ctx,
		append(bson.D{{Key: "_id", Value: barcode}}, in("status", catalog.StatusStrings(from))...),
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: string(to)}, {Key: "updatedAt", Value: d}, {Key: "updatedAtNs", Value: ns}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		found, xerr := exists(ctx, s.items, bson.D{{Key: "_id", Value: barcode}})
		switch {
		case xerr != nil:
			return nil, fmt.Errorf("item %s: status: %w", barcode, xerr)
		case !found:
			return nil, fmt.Errorf("item %s: %w", barcode, thuvienso.ErrNotFound)
		default:
			return nil, fmt.Errorf("item %s: %w", barcode, catalog.ErrItemStatusConflict)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("item %s: status: %w", barcode, err)
	}
	it := doc.item()
	if it.WorkID != "" {
		if _, err := s.appendChanges(ctx, []string{it.WorkID}, at); err != nil {
			return it, fmt.Errorf("item %s: status changed, but: %w", barcode, err)
		}
	}
	return it, nil
}

// Changes implements catalog.Store.
func (s *CatalogStore) Changes(ctx context.Context, afterSeq int64, limit int) ([]catalog.Change, error) {
	if limit <= 0 {
		return nil, nil
	}
	docs, err := findAll[changeDoc](ctx, s.changes, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterSeq}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("changes after %d: %w", afterSeq, err)
	}
	out := make([]catalog.Change, len(docs))
	for i, d := range docs {
		out[i] = catalog.Change{Seq: d.Seq, WorkID: d.WorkID, At: fromDate(d.At, d.AtNs)}
	}
	return out, nil
}

// LatestSeq implements catalog.Store: the highest change written (not the
// counter, which may be ahead while a writer is between allocating and
// inserting).
func (s *CatalogStore) LatestSeq(ctx context.Context) (int64, error) {
	var d changeDoc
	err := s.changes.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("latest change: %w", err)
	}
	return d.Seq, nil
}

// Counts implements catalog.Store.
func (s *CatalogStore) Counts(ctx context.Context) (catalog.Counts, error) {
	var c catalog.Counts
	for _, q := range []struct {
		coll   *mongodrv.Collection
		filter bson.D
		dst    *int
	}{
		{s.works, bson.D{{Key: "deleted", Value: false}}, &c.Works},
		{s.records, bson.D{}, &c.Records},
		{s.items, bson.D{}, &c.Items},
	} {
		n, err := q.coll.CountDocuments(ctx, q.filter)
		if err != nil {
			return c, fmt.Errorf("counting the catalogue: %w", err)
		}
		*q.dst = int(n)
	}
	return c, nil
}

// HarvestCheckpoint implements catalog.Store.
func (s *CatalogStore) HarvestCheckpoint(ctx context.Context, libraryID string) (*catalog.HarvestCheckpoint, error) {
	var d harvestDoc
	err := s.harvests.FindOne(ctx, bson.D{{Key: "_id", Value: libraryID}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("harvest state of library %s: %w", libraryID, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("harvest state of library %s: %w", libraryID, err)
	}
	state := d.State
	if state == nil {
		state = []byte{}
	}
	return &catalog.HarvestCheckpoint{LibraryID: d.LibraryID, URL: d.URL, Set: d.Set, State: state,
		UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs)}, nil
}

// PutHarvestCheckpoint implements catalog.Store.
func (s *CatalogStore) PutHarvestCheckpoint(ctx context.Context, c *catalog.HarvestCheckpoint) error {
	d := harvestDoc{LibraryID: c.LibraryID, URL: c.URL, Set: c.Set, State: c.State}
	if d.State == nil {
		d.State = []byte{}
	}
	d.UpdatedAt, d.UpdatedAtNs = toDate(c.UpdatedAt)
	if _, err := s.harvests.ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.LibraryID}}, d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("saving harvest state of library %s: %w", c.LibraryID, err)
	}
	return nil
}
