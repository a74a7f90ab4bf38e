// Package ingest owns getting member libraries' catalogues into the network:
// readers that turn MARC 21 (ISO 2709 and MARCXML), Dublin Core harvested
// over OAI-PMH, and CSV spreadsheets into catalog records and items, each
// with a Report of what was read, imported and skipped (with the position and
// the reason). A bad record is reported and skipped; the rest of the file
// still comes through. Nothing here touches a database: the caller hands the
// Batch to the catalog store.
//
// Sub-packages own the wire formats: ingest/marc (the MARC record structure
// and its syntaxes) and ingest/oai (the OAI-PMH 2.0 protocol client).
package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
)

// ErrNoLibrary is returned when a reader is called without a library.
var ErrNoLibrary = thuvienso.Invalid("library", "choose the library the records belong to", "hãy chọn thư viện sở hữu các biểu ghi")

// DefaultMaxNotes bounds the skip and warning notes kept in one Report; the
// counts stay exact.
const DefaultMaxNotes = 1000

// Options tell a reader whose records it reads.
type Options struct {
	// LibraryID owns the records and, unless Branches says otherwise, the
	// items. Required.
	LibraryID string
	// Branches maps the source system's branch codes (Koha 952 $a, MARC
	// 852 $b) to library IDs of the network, for an ILS that serves several
	// member libraries. Items of unmapped branches belong to LibraryID.
	Branches map[string]string
	// MaxNotes bounds Report.Skips and Report.Warnings (DefaultMaxNotes when
	// zero).
	MaxNotes int
}

func (o Options) check() error {
	if strings.TrimSpace(o.LibraryID) == "" {
		return ErrNoLibrary
	}
	return nil
}

// Note says what happened to one record (or one of its items) and where it
// was in the source.
type Note struct {
	// Position is the 1-based record number in the file or harvest; for a
	// CSV file it is the line number.
	Position int
	// Offset is the byte offset in the file, when known.
	Offset int64
	// SourceID is the record's identifier when it could be read.
	SourceID string
	Reason   string
}

// String formats the note for logs and the CLI.
func (n Note) String() string {
	id := ""
	if n.SourceID != "" {
		id = " [" + n.SourceID + "]"
	}
	return fmt.Sprintf("#%d%s: %s", n.Position, id, n.Reason)
}

// Report is the account of reading one source.
type Report struct {
	// Source names what was read: a file name or a harvest URL.
	Source string
	Format catalog.SourceFormat
	// Read counts the records found, Imported those turned into records,
	// Skipped those refused, Deleted the deletions (MARC leader/05 'd',
	// OAI-PMH status="deleted"). Read = Imported + Skipped + Deleted.
	Read, Imported, Skipped, Deleted int
	// Items counts the copies read from the imported records.
	Items    int
	Skips    []Note
	Warnings []Note
	// WarningCount is the number of warnings, including any not kept.
	WarningCount int
	// Error is set when the source could not be read to its end (an XML
	// syntax error, a network failure); what was read before is kept.
	Error string
	// Elapsed is how long reading took.
	Elapsed  time.Duration
	maxNotes int
}

func (r *Report) skip(n Note) {
	r.Skipped++
	if len(r.Skips) < r.max() {
		r.Skips = append(r.Skips, n)
	}
}

func (r *Report) warn(n Note) {
	r.WarningCount++
	if len(r.Warnings) < r.max() {
		r.Warnings = append(r.Warnings, n)
	}
}

func (r *Report) max() int {
	if r.maxNotes > 0 {
		return r.maxNotes
	}
	return DefaultMaxNotes
}

// String is a one-line summary.
func (r *Report) String() string {
	s := fmt.Sprintf("%s (%s): read %d, imported %d, skipped %d, deleted %d, items %d, warnings %d",
		r.Source, r.Format, r.Read, r.Imported, r.Skipped, r.Deleted, r.Items, r.WarningCount)
	if r.Error != "" {
		s += "; stopped: " + r.Error
	}
	return s
}

// Deletion says that a library's source record no longer exists.
type Deletion struct {
	LibraryID string
	SourceID  string
	// Datestamp is when the source deleted it, when known.
	Datestamp time.Time
}

// Batch is what a reader got from one source: records ready for the store
// (normalised, NFC), their items, the deletions, and the report.
type Batch struct {
	Records   []catalog.Record
	Items     []catalog.Item
	Deletions []Deletion
	Report    Report

	ids      map[string]int  // source id → position, for AddOAIPage
	barcodes map[string]bool // barcodes in Items, for AddOAIPage
}

func newBatch(source string, f catalog.SourceFormat, o Options) *Batch {
	return &Batch{Report: Report{Source: source, Format: f, maxNotes: o.MaxNotes}}
}

// add records r and its items, refusing a duplicate source ID within the
// batch, and reports. The caller has counted the record as read.
func (b *Batch) add(pos int, off int64, r catalog.Record, items []catalog.Item, warnings []string, seen map[string]int, seenBarcodes map[string]bool) {
	r.Normalize()
	if err := r.Validate(); err != nil {
		b.Report.skip(Note{Position: pos, Offset: off, SourceID: r.SourceID, Reason: reason(err)})
		return
	}
	if first, dup := seen[r.SourceID]; dup {
		why := fmt.Sprintf("source id %q already used by #%d in this file", r.SourceID, first)
		if r.RawMARC != nil {
			for i := len(b.Records) - 1; i >= 0; i-- {
				if b.Records[i].SourceID == r.SourceID && bytes.Equal(b.Records[i].RawMARC, r.RawMARC) {
					why = fmt.Sprintf("exact duplicate of #%d", first)
					break
				}
			}
		}
		b.Report.skip(Note{Position: pos, Offset: off, SourceID: r.SourceID, Reason: why})
		return
	}
	seen[r.SourceID] = pos
	for _, w := range warnings {
		b.Report.warn(Note{Position: pos, Offset: off, SourceID: r.SourceID, Reason: w})
	}
	for _, it := range items {
		if seenBarcodes[it.Barcode] {
			b.Report.warn(Note{Position: pos, Offset: off, SourceID: r.SourceID,
				Reason: fmt.Sprintf("item %q: barcode already used in this file; copy skipped", it.Barcode)})
			continue
		}
		seenBarcodes[it.Barcode] = true
		b.Items = append(b.Items, it)
		b.Report.Items++
	}
	b.Records = append(b.Records, r)
	b.Report.Imported++
}

// reason renders an error for a report: the English message of a
// thuvienso.Error, else the error text.
func reason(err error) string {
	if e, ok := err.(*thuvienso.Error); ok {
		return e.EN
	}
	return err.Error()
}

// ForLibrary returns what b read as a catalog batch owned by libraryID,
// ready for catalog.Service.Import.
func (b *Batch) ForLibrary(libraryID string) *catalog.Batch {
	cb := &catalog.Batch{LibraryID: libraryID, Records: b.Records, Items: b.Items}
	for _, d := range b.Deletions {
		cb.Deletions = append(cb.Deletions, catalog.RecordRef{LibraryID: d.LibraryID, SourceID: d.SourceID})
	}
	return cb
}
