package marc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// NamespaceSlim is the MARCXML namespace.
const NamespaceSlim = "http://www.loc.gov/MARC21/slim"

// XMLReader reads the MARCXML records of a document: every <record> element
// in the MARC21 slim namespace (or in no namespace), whether the document is
// a <collection>, a single <record>, or something that embeds them (an
// OAI-PMH response).
type XMLReader struct {
	d      *xml.Decoder
	pos    int
	failed error
}

// NewXMLReader returns an XMLReader over r.
func NewXMLReader(r io.Reader) *XMLReader {
	return &XMLReader{d: xml.NewDecoder(r)}
}

type xmlSubfield struct {
	Code  string `xml:"code,attr"`
	Value string `xml:",chardata"`
}

type xmlField struct {
	XMLName   xml.Name
	Tag       string        `xml:"tag,attr"`
	Ind1      string        `xml:"ind1,attr"`
	Ind2      string        `xml:"ind2,attr"`
	Value     string        `xml:",chardata"`
	Subfields []xmlSubfield `xml:"subfield"`
}

type xmlRecord struct {
	Leader string     `xml:"leader"`
	Fields []xmlField `xml:",any"`
}

// Next returns the next record. At the end it returns io.EOF. A record that
// is well-formed XML but not a valid MARC record yields a *RecordError and
// reading goes on; an XML syntax error ends the document (every later call
// returns it).
func (x *XMLReader) Next() (*Record, error) {
	if x.failed != nil {
		return nil, x.failed
	}
	for {
		tok, err := x.d.Token()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("MARCXML after record %d: %w", x.pos, err)
			}
			x.failed = err
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "record" || (se.Name.Space != NamespaceSlim && se.Name.Space != "") {
			continue
		}
		x.pos++
		var xr xmlRecord
		if err := x.d.DecodeElement(&xr, &se); err != nil {
			x.failed = fmt.Errorf("MARCXML record %d: %w", x.pos, err)
			return nil, x.failed
		}
		rec, err := fromXML(&xr)
		if err != nil {
			re := &RecordError{Position: x.pos, Offset: x.d.InputOffset(), Err: err}
			if rec != nil {
				re.ID = rec.Control("001")
			}
			return nil, re
		}
		return rec, nil
	}
}

// fromXML validates and converts one decoded record. MARCXML is Unicode by
// definition, so leader/09 is set to 'a'.
func fromXML(xr *xmlRecord) (*Record, error) {
	rec := &Record{Leader: xr.Leader, Fields: make([]Field, 0, len(xr.Fields))}
	for _, xf := range xr.Fields {
		switch xf.XMLName.Local {
		case "controlfield":
			tag := strings.TrimSpace(xf.Tag)
			if err := checkTag(tag); err != nil {
				return rec, err
			}
			rec.Fields = append(rec.Fields, Field{Tag: tag, Value: xf.Value})
		case "datafield":
			tag := strings.TrimSpace(xf.Tag)
			if err := checkTag(tag); err != nil {
				return rec, err
			}
			i1, err1 := indicator(xf.Ind1)
			i2, err2 := indicator(xf.Ind2)
			if err := errors.Join(err1, err2); err != nil {
				return rec, fmt.Errorf("%w: field %s: %v", ErrField, tag, err)
			}
			f := Field{Tag: tag, Ind1: i1, Ind2: i2, Subfields: make([]Subfield, 0, len(xf.Subfields))}
			for _, s := range xf.Subfields {
				if len(s.Code) != 1 || s.Code[0] == SubfieldDelim || s.Code[0] == FieldTerminator {
					return rec, fmt.Errorf("%w: field %s has subfield code %q", ErrField, tag, s.Code)
				}
				f.Subfields = append(f.Subfields, Subfield{Code: s.Code[0], Value: s.Value})
			}
			rec.Fields = append(rec.Fields, f)
		}
	}
	if len(rec.Leader) != LeaderLen {
		fixed, ok := repairLeader(rec.Leader)
		if !ok {
			return rec, fmt.Errorf("%w: leader %q has %d characters, want %d", ErrLeader, rec.Leader, len(rec.Leader), LeaderLen)
		}
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("leader %q has %d characters; read as %q", rec.Leader, len(rec.Leader), fixed))
		rec.Leader = fixed
	}
	rec.Leader = rec.Leader[:9] + "a" + rec.Leader[10:]
	return rec, nil
}

func checkTag(tag string) error {
	if len(tag) != 3 || !isTagByte(tag[0]) || !isTagByte(tag[1]) || !isTagByte(tag[2]) {
		return fmt.Errorf("%w: tag %q", ErrField, tag)
	}
	return nil
}

func indicator(s string) (byte, error) {
	switch len(s) {
	case 0:
		return ' ', nil
	case 1:
		if s[0] < 0x20 || s[0] > 0x7E {
			return 0, fmt.Errorf("indicator %q", s)
		}
		return s[0], nil
	}
	return 0, fmt.Errorf("indicator %q", s)
}

// repairLeader rebuilds a MARCXML leader of the wrong length when what the
// mapping needs survives. In MARCXML the structural positions (record length
// 00–04, counts 10–11, base address 12–16, entry map 20–23) mean nothing, so
// a leader that keeps positions 00–16 and ends with the entry map "4500" is
// read as its first 17 and last 7 characters; one that is too short but
// keeps 00–09 is padded with blanks.
func repairLeader(l string) (string, bool) {
	for i := 0; i < len(l); i++ {
		if l[i] < 0x20 || l[i] > 0x7E {
			return "", false
		}
	}
	switch {
	case len(l) > LeaderLen && len(l) <= 2*LeaderLen && strings.HasSuffix(l, "4500"):
		return l[:17] + l[len(l)-7:], true
	case len(l) < LeaderLen && len(l) >= 10:
		return l + strings.Repeat(" ", LeaderLen-len(l)), true
	}
	return "", false
}
