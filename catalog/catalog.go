// Package catalog owns the bibliographic model of the network's union
// catalogue: a Record is one library's description of a publication (kept with
// its source), an Item is one physical copy held by a library, and a Work is
// the cluster of records that describe the same publication. It also owns the
// rules that decide what "the same publication" means: ISBN normalisation and
// the work clustering key.
//
// The package has no storage and no I/O. Readers that build records from MARC,
// Dublin Core and CSV live in package ingest; the store interfaces come with
// the store.
package catalog

import (
	"strings"

	"github.com/bacninh/thuvienso/vietnamese"
)

// Format is the kind of material a record describes.
type Format string

// The formats of the catalogue; they match enum Format of the GraphQL schema.
const (
	FormatBook       Format = "BOOK"
	FormatEbook      Format = "EBOOK"
	FormatAudiobook  Format = "AUDIOBOOK"
	FormatPeriodical Format = "PERIODICAL"
	FormatThesis     Format = "THESIS"
	FormatMap        Format = "MAP"
	FormatVideo      Format = "VIDEO"
	FormatMusic      Format = "MUSIC"
	FormatOther      Format = "OTHER"
)

// Formats lists every Format in display order.
var Formats = []Format{FormatBook, FormatEbook, FormatAudiobook, FormatPeriodical,
	FormatThesis, FormatMap, FormatVideo, FormatMusic, FormatOther}

// Valid reports whether f is one of Formats.
func (f Format) Valid() bool {
	for _, g := range Formats {
		if f == g {
			return true
		}
	}
	return false
}

// SourceFormat says how a record reached the catalogue.
type SourceFormat string

// The source formats the ingest readers produce.
const (
	SourceMARC21  SourceFormat = "MARC21"  // ISO 2709, UTF-8
	SourceMARCXML SourceFormat = "MARCXML" // MARC21 slim XML
	SourceOAIDC   SourceFormat = "OAI_DC"  // Dublin Core harvested through OAI-PMH
	SourceCSV     SourceFormat = "CSV"     // spreadsheet of a library without an ILS
)

// AuthorKind tells a person from an organisation or a meeting (MARC X00, X10,
// X11).
type AuthorKind string

// The kinds of author.
const (
	AuthorPerson    AuthorKind = "PERSON"
	AuthorCorporate AuthorKind = "CORPORATE"
	AuthorMeeting   AuthorKind = "MEETING"
)

// Common author roles. Role is free text (MARC relator terms are kept as
// catalogued, NFC); these are the values readers use when the source says
// nothing more specific.
const (
	RoleAuthor      = "author"
	RoleContributor = "contributor"
	RoleEditor      = "editor"
	RoleTranslator  = "translator"
	RoleIllustrator = "illustrator"
)

// Author is a name responsible for the work, with its role.
type Author struct {
	Name string
	Role string
	Kind AuthorKind
}

// Link is an electronic location of the resource or of something about it
// (MARC 856): a full text, a cover, a table of contents.
type Link struct {
	URL string
	// Note is what the link points to, as catalogued (856 $3, $y or $z).
	Note string
}

// Record is one library's bibliographic description of a publication, kept
// with its source. (LibraryID, SourceID) identifies it: importing the same
// source record again replaces it instead of adding a second one.
//
// All text is NFC with runs of white space collapsed (see Normalize).
type Record struct {
	LibraryID string
	// SourceID is the record's identifier in the library's own system: MARC
	// 001, the OAI identifier, or a key derived from a CSV row.
	SourceID     string
	SourceFormat SourceFormat
	// RawMARC is the record as ISO 2709 (UTF-8) when it came as MARC21 or
	// MARCXML; nil otherwise.
	RawMARC []byte

	Title    string
	Subtitle string
	Authors  []Author
	Subjects []string
	Edition  string
	// Publisher and Place are the first publication statement (264 _1 or 260).
	Publisher string
	Place     string
	// Year is the year of publication, 0 when unknown.
	Year  int
	ISBNs []ISBN
	// DDC is the Dewey Decimal Classification number (082 $a).
	DDC                 string
	Summary             string
	Series              []string
	PhysicalDescription string
	Links               []Link
	Format              Format
	// Languages are ISO 639-2/B codes ("vie", "eng"), the main one first.
	Languages []string
}

// ItemStatus is where a copy is in its life; it matches enum ItemStatus of
// the GraphQL schema.
type ItemStatus string

// The item statuses.
const (
	StatusAvailable     ItemStatus = "AVAILABLE"
	StatusOnLoan        ItemStatus = "ON_LOAN"
	StatusInTransit     ItemStatus = "IN_TRANSIT"
	StatusOnHoldShelf   ItemStatus = "ON_HOLD_SHELF"
	StatusInProcessing  ItemStatus = "IN_PROCESSING"
	StatusLost          ItemStatus = "LOST"
	StatusDamaged       ItemStatus = "DAMAGED"
	StatusReferenceOnly ItemStatus = "REFERENCE_ONLY"
)

// ItemStatuses lists every ItemStatus.
var ItemStatuses = []ItemStatus{StatusAvailable, StatusOnLoan, StatusInTransit,
	StatusOnHoldShelf, StatusInProcessing, StatusLost, StatusDamaged, StatusReferenceOnly}

// Valid reports whether s is one of ItemStatuses.
func (s ItemStatus) Valid() bool {
	for _, t := range ItemStatuses {
		if s == t {
			return true
		}
	}
	return false
}

// Lendable reports whether a copy in status s can be checked out now.
func (s ItemStatus) Lendable() bool { return s == StatusAvailable }

// Item is one physical copy. Its barcode is unique in the network.
type Item struct {
	Barcode   string
	LibraryID string
	// RecordSourceID is the SourceID of the owning library's record this
	// copy belongs to.
	RecordSourceID string
	// Branch is the branch code the source system gave (Koha 952 $a, 852 $b),
	// kept for mapping to a library of the network.
	Branch string
	// Location is the shelving location ("Kho mở", "Thiếu nhi", Koha 952 $c).
	Location   string
	CallNumber string
	// LoanType is the library's loan category for the copy (Koha item type,
	// "REFERENCE", …); the circulation rules interpret it.
	LoanType string
	Status   ItemStatus
}

// RecordRef names one record of a work.
type RecordRef struct {
	LibraryID string
	SourceID  string
}

// Work is the cluster of records that describe the same publication: one
// entry in search results, holding every library's copies.
type Work struct {
	// Key names the cluster: the key of its smallest ISBN-13 when any record
	// has a valid ISBN, else the shared title key (see WorkKey, Cluster).
	Key       string
	Title     string
	Subtitle  string
	Authors   []Author
	Year      int
	Format    Format
	Languages []string
	// ISBNs are the valid ISBN-13s of all records, without duplicates.
	ISBNs   []string
	Records []RecordRef
}

// Normalize puts every text field of r in the stored form (vietnamese.Clean:
// NFC, trimmed, inner white space collapsed), drops empty and duplicate list
// entries, and fills defaults (Format OTHER when unset). Summary keeps its
// line breaks.
func (r *Record) Normalize() {
	c := vietnamese.Clean
	r.LibraryID = strings.TrimSpace(r.LibraryID)
	r.SourceID = c(r.SourceID)
	r.Title, r.Subtitle = c(r.Title), c(r.Subtitle)
	r.Edition, r.Publisher, r.Place = c(r.Edition), c(r.Publisher), c(r.Place)
	r.DDC = c(r.DDC)
	r.PhysicalDescription = c(r.PhysicalDescription)
	r.Summary = cleanParagraphs(r.Summary)
	authors := r.Authors[:0]
	seenA := map[string]bool{}
	for _, a := range r.Authors {
		a.Name, a.Role = c(a.Name), c(a.Role)
		k := vietnamese.Key(a.Name) + "\x00" + a.Role
		if a.Name == "" || seenA[k] {
			continue
		}
		seenA[k] = true
		authors = append(authors, a)
	}
	r.Authors = authors
	r.Subjects = cleanList(r.Subjects)
	r.Series = cleanList(r.Series)
	links := r.Links[:0]
	seenL := map[string]bool{}
	for _, l := range r.Links {
		l.URL, l.Note = strings.TrimSpace(l.URL), c(l.Note)
		if l.URL == "" || seenL[l.URL] {
			continue
		}
		seenL[l.URL] = true
		links = append(links, l)
	}
	r.Links = links
	isbns := r.ISBNs[:0]
	seenI := map[string]bool{}
	for _, i := range r.ISBNs {
		k := i.ISBN13
		if k == "" {
			k = "raw:" + i.Raw
		}
		if i.Raw == "" || seenI[k] {
			continue
		}
		seenI[k] = true
		isbns = append(isbns, i)
	}
	r.ISBNs = isbns
	langs := r.Languages[:0]
	seen := map[string]bool{}
	for _, l := range r.Languages {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		langs = append(langs, l)
	}
	r.Languages = langs
	if !r.Format.Valid() {
		r.Format = FormatOther
	}
	if r.Year < 0 || r.Year > 9999 {
		r.Year = 0
	}
}

// cleanList cleans each entry and drops empty ones and ones equal under
// vietnamese.Key.
func cleanList(in []string) []string {
	out := in[:0]
	seen := map[string]bool{}
	for _, s := range in {
		s = vietnamese.Clean(s)
		k := vietnamese.Key(s)
		if s == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// cleanParagraphs cleans each line of s and keeps non-empty lines.
func cleanParagraphs(s string) string {
	lines := strings.Split(vietnamese.NFC(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// ValidISBN13s returns the normalised ISBN-13s of r's valid ISBNs, in order.
func (r *Record) ValidISBN13s() []string {
	var out []string
	for _, i := range r.ISBNs {
		if i.Valid() {
			out = append(out, i.ISBN13)
		}
	}
	return out
}

// FirstAuthor returns the name of r's first author, "" when it has none.
func (r *Record) FirstAuthor() string {
	if len(r.Authors) == 0 {
		return ""
	}
	return r.Authors[0].Name
}
