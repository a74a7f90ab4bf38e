package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest/oai"
)

// oaiServer serves the shared OAI-PMH chain (ListRecords.xml →
// ListRecords2.xml → ListRecords3.xml; the token of page 3 names a file that
// does not exist, so page 3 is served as the last page).
func oaiServer(t *testing.T) *httptest.Server {
	dir := filepath.Join(shared, "oai-pmh")
	token := regexp.MustCompile(`<resumptionToken[^>]*>[^<]*</resumptionToken>`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		file := "ListRecords.xml"
		switch {
		case q.Get("verb") == "Identify":
			file = "Identify.xml"
		case q.Get("resumptionToken") != "":
			file = filepath.Base(q.Get("resumptionToken"))
		}
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if file == "ListRecords3.xml" {
			data = token.ReplaceAll(data, []byte(`<resumptionToken completeListSize="6" cursor="4"/>`))
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHarvestDublinCore(t *testing.T) {
	srv := oaiServer(t)
	c := &oai.Client{BaseURL: srv.URL}
	st := &oai.HarvestState{MetadataPrefix: "oai_dc"}
	var batches []*Batch
	rep, err := Harvest(context.Background(), c, st, Options{LibraryID: "dai-hoc"}, func(b *Batch) error {
		batches = append(batches, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.String())
	if len(batches) != 3 || rep.Read != 6 || rep.Deleted != 3 || rep.Imported != 3 || rep.Skipped != 0 {
		t.Fatalf("report %s", rep.String())
	}
	b := batches[0]
	if len(b.Deletions) != 1 || b.Deletions[0].SourceID != "oai:test.example.com:1585310" ||
		b.Deletions[0].LibraryID != "dai-hoc" || b.Deletions[0].Datestamp.Year() != 2011 {
		t.Errorf("deletions %+v", b.Deletions)
	}
	r := b.Records[0]
	if r.SourceID != "oai:test.example.com:1585322" || r.Title != "Sample Title" || r.Publisher != "Sample Publisher" ||
		r.Year != 2010 || len(r.Authors) != 1 || r.FirstAuthor() != "John Doe" || r.Format != catalog.FormatOther ||
		!reflect.DeepEqual(r.Languages, []string{"eng"}) || len(r.Links) != 1 || r.SourceFormat != catalog.SourceOAIDC ||
		r.Summary == "" {
		t.Errorf("record %+v", r)
	}
	if st.From != "2013-02-27" || st.ResumptionToken != "" {
		t.Errorf("state %+v", st)
	}
}

func TestOAIPageSupersedes(t *testing.T) {
	dc := []byte(`<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
		`<dc:title>Lịch sử Bắc Ninh</dc:title><dc:creator>Nguyễn Văn A</dc:creator><dc:type>Text</dc:type>` +
		`<dc:identifier>ISBN 978-0-85170-577-4</dc:identifier><dc:language>vi</dc:language><dc:date>2019-05-01</dc:date></oai_dc:dc>`)
	page := &oai.Page{Records: []oai.Record{
		{Header: oai.Header{Identifier: "a"}, Metadata: dc},
		{Header: oai.Header{Identifier: "b", Deleted: true}},
		{Header: oai.Header{Identifier: "a", Deleted: true}},
		{Header: oai.Header{Identifier: "b"}, Metadata: dc},
		{Header: oai.Header{Identifier: ""}},
		{Header: oai.Header{Identifier: "c"}, Metadata: []byte(`<mods/>`)},
	}}
	b := newBatch("test", catalog.SourceOAIDC, opts)
	b.AddOAIPage(page, 1, opts)
	r := b.Report
	if r.Read != 6 || r.Imported != 1 || r.Deleted != 1 || r.Skipped != 4 || len(b.Records) != 1 || len(b.Deletions) != 1 {
		t.Fatalf("%s %v", r.String(), r.Skips)
	}
	rec := b.Records[0]
	if rec.SourceID != "b" || b.Deletions[0].SourceID != "a" || rec.Format != catalog.FormatBook ||
		rec.Year != 2019 || rec.Languages[0] != "vie" || rec.ValidISBN13s()[0] != "9780851705774" {
		t.Errorf("%+v %+v", rec, b.Deletions)
	}
}

// BenchmarkParseMARC reads the 500 Vietnamese records of
// vn-tiki-derived.nfc.mrc into catalog records (ISO 2709 parsing, mapping,
// NFC normalisation); it reports records/s.
func BenchmarkParseMARC(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(shared, "marc", "vn-tiki-derived.nfc.mrc"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch, err := ReadMARC(bytes.NewReader(data), "bench", opts)
		if err != nil || batch.Report.Imported != 500 {
			b.Fatal(err)
		}
		n += batch.Report.Imported
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkParseMARCXML is the same for the MARCXML copy.
func BenchmarkParseMARCXML(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(shared, "marc", "vn-tiki-derived.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		batch, err := ReadMARCXML(bytes.NewReader(data), "bench", opts)
		if err != nil || batch.Report.Imported != 500 {
			b.Fatal(err)
		}
		n += batch.Report.Imported
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
