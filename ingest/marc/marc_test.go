package marc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sharedMARC is the folder of real MARC files, beside the repository.
var sharedMARC = filepath.Join("..", "..", "..", "shared", "data", "marc")

func readAll(t testing.TB, data []byte) (recs []*Record, raws [][]byte, errs []error) {
	t.Helper()
	r := NewReader(bytes.NewReader(data))
	for i := 0; i < 1_000_000; i++ {
		rec, raw, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("non-record error: %v", err)
			}
			errs = append(errs, err)
			continue
		}
		recs = append(recs, rec)
		raws = append(raws, raw)
	}
	t.Fatal("reader did not end")
	return
}

func TestRealISO2709(t *testing.T) {
	want := map[string]int{
		"chabon.mrc": 2, "multi_isbn.dat": 1, "one.dat": 1, "pride-and-prejudice-fixed.mrc": 383,
		"summerland.mrc": 1, "test.dat": 10, "utf8_multirecord.marc": 2, "vn-tiki-derived.nfc.mrc": 500,
	}
	for name, n := range want {
		data, err := os.ReadFile(filepath.Join(sharedMARC, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, raws, errs := readAll(t, data)
		if len(recs) != n || len(errs) != 0 {
			t.Errorf("%s: %d records, errors %v; want %d", name, len(recs), errs, n)
		}
		for i, rec := range recs {
			if rec.Leader[9] != 'a' || raws[i][9] != 'a' {
				t.Errorf("%s: record %d not marked UTF-8", name, i+1)
			}
			enc, err := rec.Encode()
			if err != nil {
				t.Fatalf("%s: encode %d: %v", name, i+1, err)
			}
			back, err := Parse(enc)
			if err != nil || !reflect.DeepEqual(back.Fields, rec.Fields) {
				t.Fatalf("%s: round trip of record %d: %v", name, i+1, err)
			}
		}
	}
}

func TestRealMARCXML(t *testing.T) {
	want := map[string]int{
		"1474920681_KOHA_LFL_5.xml": 1, "batch.xml": 2, "chabon.xml": 2, "one.xml": 1,
		"summerland.xml": 1, "utf8.xml": 1, "vn-tiki-derived.xml": 500,
	}
	for name, n := range want {
		f, err := os.Open(filepath.Join(sharedMARC, name))
		if err != nil {
			t.Fatal(err)
		}
		x := NewXMLReader(f)
		got := 0
		for {
			rec, err := x.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(rec.Leader) != 24 || rec.First("245") == nil {
				t.Errorf("%s: record %d: leader %q, no 245", name, got+1, rec.Leader)
			}
			got++
		}
		f.Close()
		if got != n {
			t.Errorf("%s: %d records, want %d", name, got, n)
		}
	}
}

// TestISOAndXMLAgree reads the Vietnamese records in both syntaxes.
func TestISOAndXMLAgree(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(sharedMARC, "vn-tiki-derived.nfc.mrc"))
	iso, _, _ := readAll(t, data)
	f, _ := os.Open(filepath.Join(sharedMARC, "vn-tiki-derived.xml"))
	defer f.Close()
	x := NewXMLReader(f)
	for i := 0; ; i++ {
		rec, err := x.Next()
		if err == io.EOF {
			if i != len(iso) {
				t.Fatalf("xml has %d records, iso %d", i, len(iso))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rec.Fields, iso[i].Fields) {
			t.Fatalf("record %d differs:\nxml %+v\niso %+v", i+1, rec.Fields, iso[i].Fields)
		}
	}
}

func rec(fields ...Field) *Record {
	return &Record{Leader: "00000nam a2200000 a 4500", Fields: fields}
}

func TestBadRecords(t *testing.T) {
	good, err := rec(Field{Tag: "001", Value: "x1"}, Field{Tag: "245", Ind1: '1', Ind2: '0',
		Subfields: []Subfield{{'a', "Tên sách"}}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"short", []byte("00010nam\x1d"), ErrLength},
		{"length mismatch", mut(func(b []byte) []byte { b[4]++; return b }), ErrLength},
		{"length not digits", mut(func(b []byte) []byte { b[0] = 'x'; return b }), ErrLeader},
		{"base address", mut(func(b []byte) []byte { b[16] = '8'; return b }), ErrDirectory},
		{"directory tag", mut(func(b []byte) []byte { b[24] = '#'; return b }), ErrDirectory},
		{"field outside", mut(func(b []byte) []byte { b[24+3] = '9'; return b }), ErrDirectory},
		{"no terminator", mut(func(b []byte) []byte { b[len(b)-2] = 'x'; return b }), ErrField},
		{"bad utf8", mut(func(b []byte) []byte { b[len(b)-4] = 0xff; return b }), ErrEncoding},
		{"marc8 non-ascii", mut(func(b []byte) []byte { b[9] = ' '; return b }), ErrMARC8},
	}
	for _, tt := range tests {
		_, err := Parse(tt.data)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// A bad record between two good ones: the reader reports it and goes on.
	bad := mut(func(b []byte) []byte { b[4]++; return b })
	stream := bytes.Join([][]byte{good, []byte("\r\n"), bad, good, []byte("garbage")}, nil)
	recs, _, errs := readAll(t, stream)
	if len(recs) != 2 || len(errs) != 2 {
		t.Fatalf("recs %d errs %v", len(recs), errs)
	}
	var re *RecordError
	if !errors.As(errs[0], &re) || re.Position != 2 || re.Offset != int64(len(good)+2) || re.ID != "" {
		t.Errorf("first error %#v", errs[0])
	}
	// An over-long record is skipped without reading it into memory whole.
	long := append(bytes.Repeat([]byte("9"), MaxRecordLen+500), RecordTerminator)
	recs, _, errs = readAll(t, append(long, good...))
	if len(recs) != 1 || len(errs) != 1 || !errors.Is(errs[0], ErrTooLong) {
		t.Errorf("long: recs %d errs %v", len(recs), errs)
	}
}

func TestMARC8ASCIIAccepted(t *testing.T) {
	r := rec(Field{Tag: "245", Ind1: '0', Ind2: '0', Subfields: []Subfield{{'a', "Plain title"}}})
	b, _ := r.Encode()
	b[9] = ' '
	got, err := Parse(b)
	if err != nil || got.Leader[9] != 'a' || got.First("245").Sub('a') != "Plain title" {
		t.Fatalf("%v %+v", err, got)
	}
}

func TestXMLErrors(t *testing.T) {
	doc := `<collection xmlns="http://www.loc.gov/MARC21/slim">
<record><leader>short</leader><datafield tag="245"><subfield code="a">A</subfield></datafield></record>
<record><leader>00000nam a2200000 a 4500</leader><datafield tag="24" ind1="1"><subfield code="a">B</subfield></datafield></record>
<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245" ind1="1"><subfield code="a">C</subfield></datafield></record>
<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245"><subfield code="a">D</subfield>`
	x := NewXMLReader(strings.NewReader(doc))
	var got []string
	for i := 0; i < 10; i++ {
		rec, err := x.Next()
		if err == io.EOF {
			break
		}
		switch {
		case err == nil:
			got = append(got, rec.First("245").Sub('a'))
		case errors.As(err, new(*RecordError)):
			got = append(got, "skip")
		default:
			got = append(got, "fatal")
			if _, err2 := x.Next(); err2 == nil {
				t.Error("reader continued after a syntax error")
			}
			i = 10
		}
	}
	if strings.Join(got, ",") != "skip,skip,C,fatal" {
		t.Errorf("got %v", got)
	}
}
