// Package marc owns the MARC 21 record structure and its two exchange
// syntaxes: ISO 2709 (read and written) and MARCXML (read). It knows nothing
// of the catalogue; package ingest maps its records to catalog.Record.
//
// The ISO 2709 reader is strict and bounded: a record is at most 99,999 bytes
// (the leader's five digits), its directory must be well formed and every
// field must lie inside the record and end with a field terminator. A bad
// record is returned as a *RecordError and the reader resynchronises on the
// next record terminator, so one damaged record never stops a file. The
// reader never panics on any input (see FuzzMARC).
//
// Character sets: records with leader/09 = 'a' are UTF-8 (invalid sequences
// are an error). MARC-8 records (leader/09 blank) are accepted when they
// hold only ASCII — the part of MARC-8 that is identical to UTF-8 — and are
// marked UTF-8 in the leader; any other MARC-8 record is refused with
// ErrMARC8: converting ANSEL diacritics and the escape-sequence character
// sets is left to the tools libraries already have (MarcEdit, yaz-marcdump).
package marc

import (
	"errors"
	"fmt"
	"strings"
)

// Structural limits and delimiters of ISO 2709 / MARC 21.
const (
	LeaderLen        = 24
	MaxRecordLen     = 99999
	RecordTerminator = 0x1D
	FieldTerminator  = 0x1E
	SubfieldDelim    = 0x1F
)

// Errors a record can be refused with; RecordError wraps them.
var (
	ErrLength    = errors.New("bad record length")
	ErrLeader    = errors.New("bad leader")
	ErrDirectory = errors.New("bad directory")
	ErrField     = errors.New("bad field")
	ErrEncoding  = errors.New("invalid UTF-8")
	ErrMARC8     = errors.New("MARC-8 record with non-ASCII characters: convert the file to MARC 21 UTF-8 (leader/09 = 'a') and import it again")
	ErrTooLong   = errors.New("record longer than 99999 bytes")
)

// Subfield is one coded element of a data field.
type Subfield struct {
	Code  byte
	Value string
}

// Field is a control field (tags 001–009: Value set) or a data field
// (indicators and subfields).
type Field struct {
	Tag        string
	Ind1, Ind2 byte
	Value      string
	Subfields  []Subfield
}

// IsControl reports whether tag names a control field (00X).
func IsControl(tag string) bool { return len(tag) == 3 && tag[0] == '0' && tag[1] == '0' }

// IsControl reports whether f is a control field.
func (f *Field) IsControl() bool { return IsControl(f.Tag) }

// Sub returns the value of the first subfield with code c, "" if none.
func (f *Field) Sub(c byte) string {
	for _, s := range f.Subfields {
		if s.Code == c {
			return s.Value
		}
	}
	return ""
}

// Subs returns the values of every subfield with one of the codes, in field
// order.
func (f *Field) Subs(codes string) []string {
	var out []string
	for _, s := range f.Subfields {
		if strings.IndexByte(codes, s.Code) >= 0 {
			out = append(out, s.Value)
		}
	}
	return out
}

// Record is one MARC record: a 24-byte leader and its fields in order.
type Record struct {
	Leader string
	Fields []Field
	// Warnings name what a reader repaired to read the record (a MARCXML
	// leader of the wrong length, say); the record is usable.
	Warnings []string
}

// Control returns the value of the first control field with tag, "" if none.
func (r *Record) Control(tag string) string {
	for i := range r.Fields {
		if r.Fields[i].Tag == tag {
			return r.Fields[i].Value
		}
	}
	return ""
}

// All returns the fields with one of the given tags, in record order.
func (r *Record) All(tags ...string) []*Field {
	var out []*Field
	for i := range r.Fields {
		for _, t := range tags {
			if r.Fields[i].Tag == t {
				out = append(out, &r.Fields[i])
				break
			}
		}
	}
	return out
}

// First returns the first field with tag, nil if none.
func (r *Record) First(tag string) *Field {
	for i := range r.Fields {
		if r.Fields[i].Tag == tag {
			return &r.Fields[i]
		}
	}
	return nil
}

// LeaderByte returns leader position i, ' ' when the leader is shorter.
func (r *Record) LeaderByte(i int) byte {
	if i < len(r.Leader) {
		return r.Leader[i]
	}
	return ' '
}

// RecordError says why one record of a file was refused and where it was.
type RecordError struct {
	// Position is the 1-based number of the record in the file.
	Position int
	// Offset is the byte offset of the record in an ISO 2709 file; for
	// MARCXML it is the input offset where the record ended.
	Offset int64
	// ID is the record's 001 when it could be read.
	ID  string
	Err error
}

// Error implements error.
func (e *RecordError) Error() string {
	id := ""
	if e.ID != "" {
		id = " (001 " + e.ID + ")"
	}
	return fmt.Sprintf("record %d at offset %d%s: %v", e.Position, e.Offset, id, e.Err)
}

// Unwrap returns the reason.
func (e *RecordError) Unwrap() error { return e.Err }
