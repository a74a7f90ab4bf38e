package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// DefaultBatchSize is how many records Service.Import hands the store at
// once (one SQLite transaction, a few MongoDB bulk writes).
const DefaultBatchSize = 500

// ErrNoLibrary is returned by Import for a batch without a library.
var ErrNoLibrary = thuvienso.Invalid("library", "choose the library the records belong to", "hãy chọn thư viện sở hữu các biểu ghi")

// Service imports into the catalogue. The ingest readers (package ingest)
// turn files and harvests into records, items and deletions; Import checks
// them and writes them through the Store in batches. Importing the same
// content again changes nothing.
type Service struct {
	Store Store
	// BatchSize is the number of records per Store.Apply
	// (DefaultBatchSize when ≤ 0).
	BatchSize int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Import writes one library's records, items and deletions. A record of
// another library, without source ID or title, or repeating a source ID
// of the batch is skipped and reported in Skips; an item without barcode,
// repeating a barcode of the batch or whose barcode another library owns
// is refused and reported in Conflicts; the rest lands. b.At is set when
// zero. Batches are applied in order; on error the result so far is
// returned with it, and importing again completes the job.
func (s *Service) Import(ctx context.Context, b *Batch) (*ApplyResult, error) {
	lib := strings.TrimSpace(b.LibraryID)
	if lib == "" {
		return nil, ErrNoLibrary
	}
	at := b.At
	if at.IsZero() {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		at = now()
	}
	size := s.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	res := &ApplyResult{}
	// Sized up front: an import may hand over a whole file, and growing
	// these by appending copied its records again and again.
	records := make([]Record, 0, len(b.Records))
	seen := make(map[string]bool, len(b.Records))
	for _, r := range b.Records {
		if r.LibraryID == "" {
			r.LibraryID = lib
		}
		switch {
		case r.LibraryID != lib:
			res.skip(r.SourceID, fmt.Sprintf("the record belongs to library %q, not %q", r.LibraryID, lib))
			continue
		case r.Validate() != nil:
			res.skip(r.SourceID, reason(r.Validate()))
			continue
		case seen[r.SourceID]:
			res.skip(r.SourceID, "source id repeated in the batch")
			continue
		}
		seen[r.SourceID] = true
		records = append(records, r)
	}
	// Items go with the batch of their record; items whose record is not
	// in this import go last, with the deletions.
	chunkOf := make(map[string]int, len(records))
	for i, r := range records {
		chunkOf[r.SourceID] = i / size
	}
	nChunks := (len(records) + size - 1) / size
	itemsOf := make([][]Item, nChunks+1)
	barcodes := make(map[string]bool, len(b.Items))
	for _, it := range b.Items {
		it.Barcode = strings.TrimSpace(it.Barcode)
		if it.LibraryID == "" {
			it.LibraryID = lib
		}
		if !it.Status.Valid() {
			it.Status = StatusAvailable
		}
		switch {
		case it.Barcode == "":
			res.conflict(it.Barcode, "item without barcode")
			continue
		case barcodes[it.Barcode]:
			res.conflict(it.Barcode, "barcode repeated in the batch")
			continue
		}
		barcodes[it.Barcode] = true
		c, ok := chunkOf[it.RecordSourceID]
		if !ok {
			c = nChunks
		}
		itemsOf[c] = append(itemsOf[c], it)
	}
	var deletions []RecordRef
	for _, d := range b.Deletions {
		if d.LibraryID == "" {
			d.LibraryID = lib
		}
		if d.LibraryID != lib || d.SourceID == "" {
			res.skip(d.SourceID, "deletion of another library's record or without source id")
			continue
		}
		deletions = append(deletions, d)
	}
	for c := 0; c <= nChunks; c++ {
		chunk := &Batch{LibraryID: lib, Items: itemsOf[c], At: at}
		if c < nChunks {
			chunk.Records = records[c*size : min((c+1)*size, len(records))]
		} else {
			chunk.Deletions = deletions
		}
		if len(chunk.Records)+len(chunk.Items)+len(chunk.Deletions) == 0 {
			continue
		}
		r, err := s.Store.Apply(ctx, chunk)
		res.Add(r)
		if err != nil {
			return res, fmt.Errorf("importing into library %s (batch %d of %d): %w", lib, c+1, nChunks+1, err)
		}
	}
	return res, nil
}

func (r *ApplyResult) skip(id, why string) {
	r.RecordsSkipped++
	r.Skips = append(r.Skips, Problem{ID: id, Reason: why})
}

func (r *ApplyResult) conflict(id, why string) {
	r.ItemsConflicting++
	r.Conflicts = append(r.Conflicts, Problem{ID: id, Reason: why})
}

// String is a one-line summary for logs and the CLI.
func (r *ApplyResult) String() string {
	return fmt.Sprintf("records: %d new, %d updated, %d unchanged, %d skipped; items: %d new, %d updated, %d unchanged, %d refused; deletions: %d deleted (%d items), %d not found; works: %d created, %d emptied; %d changes",
		r.RecordsNew, r.RecordsUpdated, r.RecordsUnchanged, r.RecordsSkipped,
		r.ItemsNew, r.ItemsUpdated, r.ItemsUnchanged, r.ItemsConflicting,
		r.Deleted, r.ItemsDeleted, r.DeletionsMissing, r.WorksCreated, r.WorksDeleted, r.Changes)
}

// reason renders err for a report: the English message of a
// *thuvienso.Error, else the error text.
func reason(err error) string {
	var e *thuvienso.Error
	if errors.As(err, &e) {
		return e.EN
	}
	return err.Error()
}
