package marc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzMARC feeds arbitrary bytes to the ISO 2709 reader. It must never panic
// or loop, must keep every record within the format's bounds, and every
// record it accepts must survive Encode and Parse unchanged. Seeds are the
// real files of ../shared/data/marc, whole and record by record.
func FuzzMARC(f *testing.F) {
	for _, pat := range []string{"*.mrc", "*.dat", "*.marc"} {
		files, _ := filepath.Glob(filepath.Join(sharedMARC, pat))
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) < 20_000 {
				f.Add(data)
			}
			for i, rec := range bytes.SplitAfter(data, []byte{RecordTerminator}) {
				if len(rec) > 0 && i < 20 {
					f.Add(rec)
				}
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte("00026nam a2200025 a 4500\x1e\x1d"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		// Every call consumes at least one byte or ends the stream.
		for calls := 0; calls <= len(data)+1; calls++ {
			rec, raw, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var re *RecordError
				if !errors.As(err, &re) {
					t.Fatalf("non-record error from an in-memory reader: %v", err)
				}
				continue
			}
			if len(raw) > MaxRecordLen || len(rec.Fields) > MaxRecordLen/12 {
				t.Fatalf("record beyond bounds: %d bytes, %d fields", len(raw), len(rec.Fields))
			}
			enc, err := rec.Encode()
			if err != nil {
				continue // e.g. a field that grew past 9999 bytes: nothing to compare
			}
			back, err := Parse(enc)
			if err != nil {
				t.Fatalf("re-parse of an accepted record: %v", err)
			}
			if !reflect.DeepEqual(back.Fields, rec.Fields) {
				t.Fatalf("round trip changed the fields:\n%q\n%q", rec.Fields, back.Fields)
			}
		}
		t.Fatal("reader did not reach the end")
	})
}
