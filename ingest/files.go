package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest/marc"
)

// ReadMARC reads an ISO 2709 file of MARC 21 records (UTF-8; ASCII-only
// MARC-8 records are accepted, other MARC-8 records are skipped with the
// reason). source names the file in the report. The returned error is set
// only when the input itself fails (a read error); bad records are in the
// report.
func ReadMARC(r io.Reader, source string, o Options) (*Batch, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	b := newBatch(source, catalog.SourceMARC21, o)
	seen, barcodes := map[string]int{}, map[string]bool{}
	rd := marc.NewReader(r)
	pos := 0
	for {
		rec, raw, err := rd.Next()
		if err == io.EOF {
			break
		}
		pos++
		if err != nil {
			var re *marc.RecordError
			if errors.As(err, &re) {
				b.Report.Read++
				b.Report.skip(Note{Position: re.Position, Offset: re.Offset, SourceID: re.ID, Reason: re.Err.Error()})
				continue
			}
			b.Report.Error = err.Error()
			b.Report.Elapsed = time.Since(start)
			return b, fmt.Errorf("reading %s: %w", source, err)
		}
		b.addMARC(pos, 0, rec, raw, o, catalog.SourceMARC21, seen, barcodes)
	}
	b.Report.Elapsed = time.Since(start)
	return b, nil
}

// ReadMARCXML reads a MARCXML document (a collection, one record, or any
// XML that embeds slim records). An XML syntax error ends reading: the
// records before it are kept and the error is returned and reported.
func ReadMARCXML(r io.Reader, source string, o Options) (*Batch, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	b := newBatch(source, catalog.SourceMARCXML, o)
	seen, barcodes := map[string]int{}, map[string]bool{}
	x := marc.NewXMLReader(r)
	pos := 0
	for {
		rec, err := x.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *marc.RecordError
			if errors.As(err, &re) {
				pos++
				b.Report.Read++
				b.Report.skip(Note{Position: re.Position, Offset: re.Offset, SourceID: re.ID, Reason: re.Err.Error()})
				continue
			}
			b.Report.Error = err.Error()
			b.Report.Elapsed = time.Since(start)
			return b, fmt.Errorf("reading %s: %w", source, err)
		}
		pos++
		raw, err := rec.Encode()
		if err != nil {
			b.Report.Read++
			b.Report.skip(Note{Position: pos, SourceID: rec.Control("001"), Reason: "cannot be stored as ISO 2709: " + err.Error()})
			continue
		}
		b.addMARC(pos, 0, rec, raw, o, catalog.SourceMARCXML, seen, barcodes)
	}
	b.Report.Elapsed = time.Since(start)
	return b, nil
}

// addMARC maps one parsed record: a deleted record (leader/05 'd') becomes a
// Deletion, any other goes through MapMARC into the batch.
func (b *Batch) addMARC(pos int, off int64, rec *marc.Record, raw []byte, o Options, f catalog.SourceFormat, seen map[string]int, barcodes map[string]bool) {
	b.Report.Read++
	if rec.LeaderByte(5) == 'd' {
		id := strings.TrimSpace(rec.Control("001"))
		if id == "" {
			b.Report.skip(Note{Position: pos, Offset: off, Reason: "deleted record (leader/05 'd') without 001"})
			return
		}
		b.Deletions = append(b.Deletions, Deletion{LibraryID: o.LibraryID, SourceID: id})
		b.Report.Deleted++
		return
	}
	if rec.First("245") == nil && rec.First("200") != nil {
		b.Report.skip(Note{Position: pos, Offset: off, SourceID: rec.Control("001"),
			Reason: "UNIMARC record (title in 200, no 245): only MARC 21 is read; convert it to MARC 21 first"})
		return
	}
	r, items, warnings := MapMARC(rec, raw, o, f)
	b.add(pos, off, r, items, append(rec.Warnings, warnings...), seen, barcodes)
}

// Kind is a file format ReadFile recognises.
type Kind string

// The file kinds.
const (
	KindISO2709 Kind = "iso2709"
	KindMARCXML Kind = "marcxml"
	KindCSV     Kind = "csv"
)

// Detect tells the kind of a file from its first bytes and its name: five
// digits then a leader are ISO 2709, XML is MARCXML, a .csv/.tsv/.txt name or
// any other text is CSV.
func Detect(name string, head []byte) (Kind, error) {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) >= 5 && allDigits(trimmed[:5]):
		return KindISO2709, nil
	case len(trimmed) > 0 && trimmed[0] == '<':
		return KindMARCXML, nil
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		return KindCSV, nil
	case ".mrc", ".marc", ".dat", ".iso":
		return KindISO2709, nil
	case ".xml":
		return KindMARCXML, nil
	}
	if len(trimmed) == 0 {
		return "", fmt.Errorf("%s: empty file", name)
	}
	return KindCSV, nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ReadFile opens path, detects its kind and reads it with the matching
// reader. The report's Source is the file's base name.
func ReadFile(path string, o Options) (*Batch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	return Read(f, filepath.Base(path), o)
}

// Read detects the kind of the file named name from its name and first
// bytes, and reads it with the matching reader (an upload, a harvest
// body). The report's Source is name.
func Read(r io.Reader, name string, o Options) (*Batch, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	kind, err := Detect(name, head)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	switch kind {
	case KindISO2709:
		return ReadMARC(br, name, o)
	case KindMARCXML:
		return ReadMARCXML(br, name, o)
	default:
		return ReadCSV(br, name, o)
	}
}
