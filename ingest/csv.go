package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bacninh/thuvienso/catalog"
)

// CSV columns, recognised by their header. Headers are compared folded
// (no diacritics, lowercase, punctuation as spaces), so "Nhan đề", "NHAN DE"
// and "nhan_de" are one name.
const (
	colID          = "id"
	colTitle       = "title"
	colSubtitle    = "subtitle"
	colAuthor      = "author"
	colISBN        = "isbn"
	colYear        = "year"
	colPublisher   = "publisher"
	colPlace       = "place"
	colEdition     = "edition"
	colBarcode     = "barcode"
	colCallNumber  = "callnumber"
	colLocation    = "location"
	colLoanType    = "loantype"
	colSubject     = "subject"
	colLanguage    = "language"
	colSummary     = "summary"
	colDDC         = "ddc"
	colSeries      = "series"
	colPages       = "pages"
	colDescription = "physical"
)

// csvHeaders maps folded header names, English and Vietnamese, to columns.
var csvHeaders = map[string]string{
	"id": colID, "ma": colID, "ma sach": colID, "ma bieu ghi": colID, "record id": colID,
	"title": colTitle, "nhan de": colTitle, "ten sach": colTitle, "tieu de": colTitle, "ten tai lieu": colTitle, "nhan de chinh": colTitle,
	"subtitle": colSubtitle, "phu de": colSubtitle, "nhan de phu": colSubtitle,
	"author": colAuthor, "authors": colAuthor, "tac gia": colAuthor, "creator": colAuthor,
	"isbn": colISBN, "ma isbn": colISBN,
	"year": colYear, "nam": colYear, "nam xuat ban": colYear, "nam xb": colYear, "date": colYear,
	"publisher": colPublisher, "nha xuat ban": colPublisher, "nxb": colPublisher, "manufacturer": colPublisher,
	"place": colPlace, "noi xuat ban": colPlace, "noi xb": colPlace,
	"edition": colEdition, "lan xuat ban": colEdition, "tai ban": colEdition,
	"barcode": colBarcode, "ma vach": colBarcode, "dkcb": colBarcode, "so dkcb": colBarcode, "so dang ky ca biet": colBarcode,
	"call number": colCallNumber, "callnumber": colCallNumber, "call no": colCallNumber, "ky hieu xep gia": colCallNumber, "ky hieu": colCallNumber,
	"location": colLocation, "vi tri": colLocation, "kho": colLocation, "ke": colLocation,
	"loan type": colLoanType, "loai muon": colLoanType,
	"subject": colSubject, "subjects": colSubject, "chu de": colSubject, "the loai": colSubject, "category": colSubject, "catagory": colSubject,
	"language": colLanguage, "ngon ngu": colLanguage,
	"summary": colSummary, "tom tat": colSummary, "description": colSummary, "mo ta": colSummary,
	"ddc": colDDC, "dewey": colDDC, "phan loai": colDDC, "so phan loai": colDDC,
	"series": colSeries, "tung thu": colSeries, "collection": colSeries,
	"pages": colPages, "so trang": colPages,
	"physical description": colDescription, "mo ta vat ly": colDescription,
}

// languageNames maps folded language names and ISO 639-1 codes to ISO 639-2.
var languageNames = map[string]string{
	"vi": "vie", "tieng viet": "vie", "viet": "vie", "vietnamese": "vie",
	"en": "eng", "tieng anh": "eng", "english": "eng", "anh": "eng",
	"fr": "fre", "tieng phap": "fre", "french": "fre", "phap": "fre",
	"zh": "chi", "tieng trung": "chi", "chinese": "chi", "trung": "chi",
	"ru": "rus", "tieng nga": "rus", "russian": "rus",
	"ja": "jpn", "tieng nhat": "jpn", "japanese": "jpn",
	"ko": "kor", "tieng han": "kor", "korean": "kor",
	"de": "ger", "tieng duc": "ger", "german": "ger",
}

// normalizeLanguage returns an ISO 639-2 code for a code or name, "" if
// unknown.
func normalizeLanguage(s string) string {
	k := catalog.NormalizeTitle(s)
	if l, ok := languageNames[k]; ok {
		return l
	}
	if isLangCode(k) {
		return k
	}
	return ""
}

// ReadCSV reads a spreadsheet of a library without an ILS: UTF-8 with or
// without a byte order mark, comma, semicolon or tab separated, one copy per
// row, with a header row naming the columns (see csvHeaders: title, author,
// isbn, year, publisher, barcode, call number, … in English or Vietnamese).
// Rows that describe the same book (same id column, or same title, first
// author, year, ISBNs and publisher) become one record with several items;
// the record's source ID is the id column or a hash of that description, so
// importing the file again yields the same IDs.
//
// In the report, Read counts data rows, Imported the rows that landed (as a
// new record or a copy of one), Skipped the refused rows; Position is the
// line number.
func ReadCSV(r io.Reader, source string, o Options) (*Batch, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	b := newBatch(source, catalog.SourceCSV, o)
	defer func() { b.Report.Elapsed = time.Since(start) }()
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(4096)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(head)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			err = errors.New("empty file")
		}
		b.Report.Error = err.Error()
		return b, fmt.Errorf("reading %s: %w", source, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		k := catalog.NormalizeTitle(strings.ReplaceAll(h, "_", " "))
		c, ok := csvHeaders[k]
		if !ok {
			c, ok = csvHeaders[strings.ReplaceAll(k, " ", "")]
		}
		if !ok {
			if strings.TrimSpace(h) != "" {
				b.Report.warn(Note{Position: 1, Reason: fmt.Sprintf("column %q not recognised: ignored", strings.TrimSpace(h))})
			}
			continue
		}
		if _, dup := cols[c]; !dup {
			cols[c] = i
		}
	}
	if _, ok := cols[colTitle]; !ok {
		err := fmt.Errorf("no title column in the header (use title, nhan de or ten sach)")
		b.Report.Error = err.Error()
		return b, fmt.Errorf("reading %s: %w", source, err)
	}
	type entry struct {
		line int
		rec  catalog.Record
	}
	index := map[string]int{} // source id → entries index
	var entries []entry
	barcodes := map[string]int{}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				b.Report.Read++
				b.Report.skip(Note{Position: pe.StartLine, Reason: pe.Err.Error()})
				continue
			}
			b.Report.Error = err.Error()
			return b, fmt.Errorf("reading %s: %w", source, err)
		}
		get := func(c string) string {
			if i, ok := cols[c]; ok && i < len(row) {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue // blank line
		}
		b.Report.Read++
		rec, warns := csvRecord(get, o)
		rec.Normalize()
		if rec.SourceID == "" {
			rec.SourceID = csvSourceID(&rec)
		}
		if err := rec.Validate(); err != nil {
			b.Report.skip(Note{Position: line, Reason: reason(err)})
			continue
		}
		for _, w := range warns {
			b.Report.warn(Note{Position: line, SourceID: rec.SourceID, Reason: w})
		}
		bc := get(colBarcode)
		if first, dup := barcodes[bc]; bc != "" && dup {
			b.Report.skip(Note{Position: line, SourceID: rec.SourceID,
				Reason: fmt.Sprintf("barcode %q already used on line %d", bc, first)})
			continue
		}
		at, known := index[rec.SourceID]
		if !known {
			at = len(entries)
			index[rec.SourceID] = at
			entries = append(entries, entry{line: line, rec: rec})
		}
		if bc == "" {
			if known {
				b.Report.warn(Note{Position: line, SourceID: rec.SourceID,
					Reason: fmt.Sprintf("same book as line %d and no barcode: row adds nothing", entries[at].line)})
			}
			b.Report.Imported++
			continue
		}
		barcodes[bc] = line
		b.Items = append(b.Items, catalog.Item{
			Barcode: bc, LibraryID: o.LibraryID, RecordSourceID: rec.SourceID,
			Location: get(colLocation), CallNumber: get(colCallNumber), LoanType: get(colLoanType),
			Status: catalog.StatusAvailable,
		})
		b.Report.Items++
		b.Report.Imported++
	}
	for _, e := range entries {
		b.Records = append(b.Records, e.rec)
	}
	return b, nil
}

// csvRecord builds the record of one row.
func csvRecord(get func(string) string, o Options) (catalog.Record, []string) {
	var warns []string
	r := catalog.Record{
		LibraryID: o.LibraryID, SourceFormat: catalog.SourceCSV, SourceID: get(colID),
		Title: get(colTitle), Subtitle: get(colSubtitle), Publisher: get(colPublisher),
		Place: get(colPlace), Edition: get(colEdition), Summary: get(colSummary), DDC: get(colDDC),
		PhysicalDescription: get(colDescription), Format: catalog.FormatBook,
	}
	if r.PhysicalDescription == "" {
		if p := get(colPages); p != "" {
			if n, err := strconv.ParseFloat(p, 64); err == nil && n > 0 {
				r.PhysicalDescription = strconv.Itoa(int(n)) + " tr."
			}
		}
	}
	for _, a := range splitList(get(colAuthor)) {
		r.Authors = append(r.Authors, catalog.Author{Name: a, Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson})
	}
	r.Subjects = splitList(get(colSubject))
	r.Series = splitList(get(colSeries))
	if y := get(colYear); y != "" {
		if r.Year = extractYear(y); r.Year == 0 {
			warns = append(warns, fmt.Sprintf("year %q not understood", y))
		}
	}
	for _, s := range splitISBNs(get(colISBN)) {
		i, err := catalog.ParseISBN(s)
		if i.Raw == "" {
			continue
		}
		if err != nil {
			warns = append(warns, fmt.Sprintf("ISBN %q kept but not used for clustering: %s", i.Raw, reason(err)))
		}
		r.ISBNs = append(r.ISBNs, i)
	}
	for _, l := range splitList(get(colLanguage)) {
		if code := normalizeLanguage(l); code != "" {
			r.Languages = append(r.Languages, code)
		} else {
			warns = append(warns, fmt.Sprintf("language %q not understood", l))
		}
	}
	return r, warns
}

// csvSourceID derives a stable source ID from the description of a row
// without an id column.
func csvSourceID(r *catalog.Record) string {
	k := catalog.TitleKey(r) + "|" + strings.Join(r.ValidISBN13s(), ",") + "|" + catalog.NormalizeTitle(r.Publisher) +
		"|" + catalog.NormalizeTitle(r.Edition)
	sum := sha256.Sum256([]byte(k))
	return "csv:" + hex.EncodeToString(sum[:10])
}

// splitList splits a cell holding several values (";", "|" or ",").
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
	out := f[:0]
	for _, v := range f {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// splitISBNs splits a cell holding several ISBNs; hyphens and spaces inside
// one ISBN stay.
func splitISBNs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' || r == '/' })
}

// sniffDelimiter picks the most frequent of comma, semicolon and tab in the
// header line.
func sniffDelimiter(line []byte) rune {
	best, n := ',', bytes.Count(line, []byte{','})
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(line, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}
