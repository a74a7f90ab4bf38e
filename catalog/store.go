package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// Store keeps the union catalogue: one library's records and items as they
// were imported, the works they cluster into, the change sequence that
// search indexes follow, and per-library harvest checkpoints.
// Implementations: sqlite.CatalogStore, mongo.CatalogStore; the contract is
// package storetest.
type Store interface {
	// Apply writes one library's batch: records upserted by (LibraryID,
	// SourceID) and clustered into works, items upserted by barcode (a
	// barcode whose record belongs to another library is refused and
	// reported in ApplyResult.Conflicts, the rest lands), deletions
	// removing records with their items. Content that is already stored
	// unchanged (equal RecordHash, ItemHash) is not written and appends no
	// change. Every work whose records, items or display changed gets one
	// change in the sequence. A store writes a batch in one transaction
	// where it has them; callers keep batches to a few hundred records
	// (Service does) and may apply a batch again after a failure.
	Apply(ctx context.Context, b *Batch) (*ApplyResult, error)

	// Work returns one work (tombstones included), or thuvienso.ErrNotFound.
	Work(ctx context.Context, id string) (*StoredWork, error)
	// WorksByID returns the works with these IDs that exist, tombstones
	// included, in any order: one round trip for a dataloader batch.
	WorksByID(ctx context.Context, ids []string) ([]*StoredWork, error)
	// Works returns up to limit live (not deleted) works with IDs greater
	// than afterID, ordered by ID: paging over the catalogue for a reindex.
	Works(ctx context.Context, afterID string, limit int) ([]*StoredWork, error)
	// RecordsByWork returns the records of these works, ordered by work ID,
	// library ID and source ID, in one round trip.
	RecordsByWork(ctx context.Context, workIDs []string) ([]*StoredRecord, error)
	// Record returns one library's record, or thuvienso.ErrNotFound.
	Record(ctx context.Context, libraryID, sourceID string) (*StoredRecord, error)
	// ItemsByWork returns the items of these works, ordered by work ID,
	// library ID and barcode, in one round trip.
	ItemsByWork(ctx context.Context, workIDs []string) ([]*StoredItem, error)
	// Item returns the item with this barcode, or thuvienso.ErrNotFound.
	Item(ctx context.Context, barcode string) (*StoredItem, error)
	// ItemsByBarcode returns the items with these barcodes that exist, in
	// any order, in one round trip.
	ItemsByBarcode(ctx context.Context, barcodes []string) ([]*StoredItem, error)

	// SetItemStatus changes the status of one item to `to`, provided its
	// current status is one of from, in one atomic conditional update; it
	// appends a change for the item's work and returns the updated item.
	// ErrItemStatusConflict (CONFLICT) when the status is not in from (a
	// concurrent change won), thuvienso.ErrNotFound when there is no such
	// item, ErrItemStatusInput when from is empty or a status is invalid.
	SetItemStatus(ctx context.Context, barcode string, from []ItemStatus, to ItemStatus, at time.Time) (*StoredItem, error)

	// Changes returns up to limit changes with Seq > afterSeq in Seq order.
	// Sequence numbers increase but may have gaps (see Follower).
	Changes(ctx context.Context, afterSeq int64, limit int) ([]Change, error)
	// LatestSeq returns the highest sequence number written, 0 when none.
	LatestSeq(ctx context.Context) (int64, error)
	// Counts returns the size of the catalogue.
	Counts(ctx context.Context) (Counts, error)

	// HarvestCheckpoint returns the saved harvest state of a library, or
	// thuvienso.ErrNotFound.
	HarvestCheckpoint(ctx context.Context, libraryID string) (*HarvestCheckpoint, error)
	// PutHarvestCheckpoint saves (replaces) the harvest state of
	// c.LibraryID.
	PutHarvestCheckpoint(ctx context.Context, c *HarvestCheckpoint) error
}

// Errors of the catalog store.
var (
	// ErrItemStatusConflict means the item's status was not one of those
	// the change expected: someone else changed it first.
	ErrItemStatusConflict = thuvienso.E(thuvienso.CodeConflict,
		"the copy's status has just changed; reload and try again",
		"trạng thái của bản sách vừa thay đổi; hãy tải lại và thử lại")
	// ErrItemStatusInput means a status change named no expected status or
	// an unknown status.
	ErrItemStatusInput = thuvienso.Invalid("status",
		"a status change needs the expected current statuses and a valid new status",
		"thay đổi trạng thái cần trạng thái hiện tại dự kiến và trạng thái mới hợp lệ")
	// ErrBarcodeTaken is the reason given for an item whose barcode belongs
	// to a copy of another library.
	ErrBarcodeTaken = thuvienso.E(thuvienso.CodeConflict,
		"the barcode belongs to a copy of another library",
		"mã vạch đã thuộc về bản sách của thư viện khác")
)

// Batch is what one Apply writes for one library.
type Batch struct {
	// LibraryID owns every record and deletion of the batch; an item's
	// record is (LibraryID, Item.RecordSourceID) even when Item.LibraryID
	// names another library (a branch of the same ILS).
	LibraryID string
	// Records are normalised and valid (ingest's readers make them so;
	// Service checks again). At most one per SourceID.
	Records []Record
	// Items are upserted by barcode. At most one per barcode.
	Items []Item
	// Deletions are source records the library no longer has.
	Deletions []RecordRef
	// At is the time of the import, stored as UpdatedAt and in changes;
	// the store's clock when zero.
	At time.Time
}

// ApplyResult counts what Apply (or Service.Import, summed over batches)
// did.
type ApplyResult struct {
	// RecordsNew, RecordsUpdated and RecordsUnchanged partition the
	// records that reached the store; RecordsSkipped were refused before
	// it (Skips say why).
	RecordsNew, RecordsUpdated, RecordsUnchanged, RecordsSkipped int
	// ItemsNew, ItemsUpdated, ItemsUnchanged count items written or found
	// unchanged; ItemsConflicting were refused (Conflicts say why).
	ItemsNew, ItemsUpdated, ItemsUnchanged, ItemsConflicting int
	// Deleted counts records removed; DeletionsMissing deletions of records
	// that were not stored; ItemsDeleted the items removed with them.
	Deleted, DeletionsMissing, ItemsDeleted int
	// WorksCreated counts new works; WorksDeleted works left without
	// records (now tombstones).
	WorksCreated, WorksDeleted int
	// Changes counts the change-sequence entries appended.
	Changes int
	// Skips name records refused before the store, with the reason.
	Skips []Problem
	// Conflicts name refused items: the barcode and the reason.
	Conflicts []Problem
}

// Problem names one refused record (by source ID) or item (by barcode).
type Problem struct {
	ID     string
	Reason string
}

// Add adds the counts and problems of o to r.
func (r *ApplyResult) Add(o *ApplyResult) {
	if o == nil {
		return
	}
	r.RecordsNew += o.RecordsNew
	r.RecordsUpdated += o.RecordsUpdated
	r.RecordsUnchanged += o.RecordsUnchanged
	r.RecordsSkipped += o.RecordsSkipped
	r.ItemsNew += o.ItemsNew
	r.ItemsUpdated += o.ItemsUpdated
	r.ItemsUnchanged += o.ItemsUnchanged
	r.ItemsConflicting += o.ItemsConflicting
	r.Deleted += o.Deleted
	r.DeletionsMissing += o.DeletionsMissing
	r.ItemsDeleted += o.ItemsDeleted
	r.WorksCreated += o.WorksCreated
	r.WorksDeleted += o.WorksDeleted
	r.Changes += o.Changes
	r.Skips = append(r.Skips, o.Skips...)
	r.Conflicts = append(r.Conflicts, o.Conflicts...)
}

// Changed reports whether anything was written.
func (r *ApplyResult) Changed() bool {
	return r.RecordsNew+r.RecordsUpdated+r.ItemsNew+r.ItemsUpdated+r.Deleted+r.ItemsDeleted > 0
}

// StoredWork is a work as the store keeps it: a stable ID, the key it was
// created under, and display metadata recomputed from its records by
// Summarize whenever they change. A work whose last record went is kept as
// a tombstone (Deleted, RecordCount 0, the last metadata) so that indexes
// following the change sequence drop it, and so that the same book
// imported again gets its old ID back through its keys.
type StoredWork struct {
	ID string
	// Key is the clustering key the work was created under (WorkKey of its
	// first record; "rec:…" for a record without keys).
	Key       string
	Title     string
	Subtitle  string
	Authors   []Author
	Year      int
	Format    Format
	Languages []string
	// ISBNs are the valid ISBN-13s of all its records, sorted.
	ISBNs []string
	// Subjects and Series are those of all its records, first occurrence
	// first, without duplicates.
	Subjects            []string
	Series              []string
	Edition             string
	Publisher           string
	Place               string
	DDC                 string
	Summary             string
	PhysicalDescription string
	Links               []Link
	// RecordCount is how many records the work has; 0 for a tombstone.
	RecordCount int
	Deleted     bool
	UpdatedAt   time.Time
}

// StoredRecord is a record with what the store adds: its work, the hash
// of its content (RecordHash) and when it last changed.
type StoredRecord struct {
	Record
	WorkID    string
	Hash      string
	UpdatedAt time.Time
}

// StoredItem is an item with what the store adds: the library whose
// record it belongs to (the import that owns it), its work ("" while that
// record is not stored) and when it last changed.
type StoredItem struct {
	Item
	RecordLibraryID string
	WorkID          string
	UpdatedAt       time.Time
}

// Change says that a work, its records or its items changed; followers
// re-read the work. Seq increases with each change written.
type Change struct {
	Seq    int64
	WorkID string
	At     time.Time
}

// Counts is the size of the catalogue.
type Counts struct {
	// Works counts live works (tombstones excluded).
	Works, Records, Items int
}

// HarvestCheckpoint is a library's saved OAI-PMH harvest state. State is
// opaque to the store (the harvester's JSON); URL and Set say which
// repository it belongs to, so that a harvest of another one starts afresh.
type HarvestCheckpoint struct {
	LibraryID string
	URL       string
	Set       string
	State     []byte
	UpdatedAt time.Time
}

// RecordHash returns the content hash of r that decides whether a
// re-import changes anything: hex SHA-256 (first 16 bytes) of every field,
// the raw MARC included. Both stores use it.
func RecordHash(r *Record) string {
	c := *r
	// Empty and nil lists are the same content.
	if len(c.Authors) == 0 {
		c.Authors = nil
	}
	if len(c.Subjects) == 0 {
		c.Subjects = nil
	}
	if len(c.ISBNs) == 0 {
		c.ISBNs = nil
	}
	if len(c.Series) == 0 {
		c.Series = nil
	}
	if len(c.Links) == 0 {
		c.Links = nil
	}
	if len(c.Languages) == 0 {
		c.Languages = nil
	}
	if len(c.RawMARC) == 0 {
		c.RawMARC = nil
	}
	b, err := json.Marshal(&c)
	if err != nil { // a Record always encodes; keep the hash total anyway
		b = []byte(r.LibraryID + "\x00" + r.SourceID)
	}
	return hashBytes(b)
}

// ItemHash returns the content hash of an item's import fields. The status
// is left out: after the first import it belongs to circulation
// (SetItemStatus), and a re-import never overwrites it.
func ItemHash(it *Item) string {
	b, _ := json.Marshal([]string{it.Barcode, it.LibraryID, it.RecordSourceID, it.Branch, it.Location, it.CallNumber, it.LoanType})
	return hashBytes(b)
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// LookupKeys returns the keys under which r joins an existing work, in
// order: its ISBN keys when it has a valid ISBN, else its title key. A
// record with ISBNs never joins through its title, so editions with
// different ISBNs stay apart (as Cluster keeps them).
func LookupKeys(r *Record) []string {
	var out []string
	for _, s := range r.ValidISBN13s() {
		out = append(out, ISBNKey(s))
	}
	if len(out) > 0 {
		return out
	}
	if t := TitleKey(r); t != "" {
		return []string{t}
	}
	return nil
}

// Keys returns LookupKeys and ClaimKeys of r at once, normalising the
// title once. The first claim key, when any, is WorkKey(r).
func Keys(r *Record) (lookup, claims []string) {
	claims = WorkKeys(r)
	if len(claims) > 0 && strings.HasPrefix(claims[len(claims)-1], keyTitle) && len(claims) > 1 {
		return claims[: len(claims)-1 : len(claims)-1], claims
	}
	return claims, claims
}

// ChooseWork decides the work of a record with these LookupKeys, given the
// owners of the keys that are claimed (key → work ID) and the record's
// current work ("" for a new record): the owner of the first claimed
// lookup key; else the current work, so an edit that changes no matching
// key never splits a work. "" means a new work is needed.
func ChooseWork(lookup []string, owners map[string]string, current string) string {
	for _, k := range lookup {
		if w, ok := owners[k]; ok && w != "" {
			return w
		}
	}
	return current
}

// ClaimKeys returns the keys r's work claims when r joins it: every key of
// WorkKeys (ISBN keys and the title key), so that a later record without
// an ISBN finds the work through its title. A key another work already
// owns stays with that work.
func ClaimKeys(r *Record) []string { return WorkKeys(r) }

// RecordKey is the work key of a record that has no WorkKeys: it forms a
// work of its own.
func RecordKey(r *Record) string { return "rec:" + r.LibraryID + ":" + r.SourceID }

// Summarize computes the display metadata of work id from its records
// (any order) into a StoredWork: the most complete record (see Cluster)
// gives the descriptive fields, ties going to the smallest (LibraryID,
// SourceID); ISBNs, languages, subjects and series are the union of all
// records. With no records the result is a tombstone that keeps prev's
// metadata (prev may be nil).
func Summarize(id, key string, records []*Record, prev *StoredWork, at time.Time) *StoredWork {
	if len(records) == 0 {
		w := &StoredWork{ID: id, Key: key}
		if prev != nil {
			*w = *prev
		}
		w.ID, w.RecordCount, w.Deleted, w.UpdatedAt = id, 0, true, at.UTC()
		if w.Key == "" {
			w.Key = key
		}
		return w
	}
	rs := slices.Clone(records)
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].LibraryID != rs[j].LibraryID {
			return rs[i].LibraryID < rs[j].LibraryID
		}
		return rs[i].SourceID < rs[j].SourceID
	})
	best := BestRecord(rs)
	w := &StoredWork{
		ID: id, Key: key,
		Title: best.Title, Subtitle: best.Subtitle,
		Authors: slices.Clone(best.Authors), Year: best.Year, Format: best.Format,
		Edition: best.Edition, Publisher: best.Publisher, Place: best.Place, DDC: best.DDC,
		Summary: best.Summary, PhysicalDescription: best.PhysicalDescription,
		Links:       slices.Clone(best.Links),
		RecordCount: len(rs), UpdatedAt: at.UTC(),
	}
	if prev != nil && w.Key == "" {
		w.Key = prev.Key
	}
	seen := map[string]bool{}
	union := func(dst []string, src []string, prefix string) []string {
		for _, s := range src {
			if !seen[prefix+s] {
				seen[prefix+s] = true
				dst = append(dst, s)
			}
		}
		return dst
	}
	w.Languages = union(nil, best.Languages, "l:")
	for _, r := range rs {
		w.ISBNs = union(w.ISBNs, r.ValidISBN13s(), "i:")
		w.Languages = union(w.Languages, r.Languages, "l:")
	}
	sort.Strings(w.ISBNs)
	w.Subjects = union(nil, best.Subjects, "s:")
	w.Series = union(nil, best.Series, "r:")
	for _, r := range rs {
		w.Subjects = union(w.Subjects, r.Subjects, "s:")
		w.Series = union(w.Series, r.Series, "r:")
	}
	return w
}

// BestRecord returns the record whose description a work shows: the most
// complete one, ties going to the smallest (LibraryID, SourceID); nil for
// none.
func BestRecord(records []*Record) *Record {
	var best *Record
	for _, r := range records {
		if best == nil || completeness(r) > completeness(best) ||
			completeness(r) == completeness(best) && refLess(r, best) {
			best = r
		}
	}
	return best
}

func refLess(a, b *Record) bool {
	if a.LibraryID != b.LibraryID {
		return a.LibraryID < b.LibraryID
	}
	return a.SourceID < b.SourceID
}

// Best names the record a work's display comes from and its completeness
// score, so that a store can tell whether a new record changes the work.
type Best struct {
	Score               int
	LibraryID, SourceID string
}

// BestOf returns the Best of records (BestRecord); zero for none.
func BestOf(records []*Record) Best {
	r := BestRecord(records)
	if r == nil {
		return Best{}
	}
	return Best{Score: completeness(r), LibraryID: r.LibraryID, SourceID: r.SourceID}
}

// JoinsQuietly reports whether adding the new record r to live work w,
// whose display comes from best, leaves Summarize's result unchanged but
// for RecordCount and UpdatedAt: r is not more complete than the best
// record (nor as complete with a smaller reference) and brings no ISBN,
// language, subject or series the work lacks. A store may then skip
// reading the work's records. It is false when best is unknown.
func JoinsQuietly(w *StoredWork, best Best, r *Record) bool {
	if w == nil || w.Deleted || best.LibraryID == "" {
		return false
	}
	score := completeness(r)
	if score > best.Score || score == best.Score && refLess(r, &Record{LibraryID: best.LibraryID, SourceID: best.SourceID}) {
		return false
	}
	return subset(r.ValidISBN13s(), w.ISBNs) && subset(r.Languages, w.Languages) &&
		subset(r.Subjects, w.Subjects) && subset(r.Series, w.Series)
}

func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// ValidStatusChange checks the arguments of Store.SetItemStatus.
func ValidStatusChange(from []ItemStatus, to ItemStatus) error {
	if len(from) == 0 || !to.Valid() {
		return ErrItemStatusInput
	}
	for _, s := range from {
		if !s.Valid() {
			return ErrItemStatusInput
		}
	}
	return nil
}

// StatusStrings returns statuses as strings, for a store's query.
func StatusStrings(ss []ItemStatus) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
