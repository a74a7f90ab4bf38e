package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/bacninh/thuvienso/app"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/ingest"
	"github.com/bacninh/thuvienso/ingest/oai"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/store"
)

// shared is the shared test material beside the repository.
var shared = filepath.Join("..", "..", "..", "shared", "data")

// tool is a data folder with one library, and the environment the tools
// read.
type tool struct {
	env   map[string]string
	libID string
}

func newTool(t *testing.T) *tool {
	t.Helper()
	tl := &tool{env: map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error"}}
	s := tl.open(t)
	defer s.Close(context.Background())
	l := &library.Library{Code: "BN-TS", Name: "Thư viện thị xã Từ Sơn", Type: library.TypeDistrict}
	if err := s.Libraries.CreateLibrary(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	tl.libID = l.ID
	return tl
}

func (tl *tool) getenv(k string) string { return tl.env[k] }

// open opens the tools' store as app.OpenStore does.
func (tl *tool) open(t *testing.T) *store.Set {
	t.Helper()
	cfg, err := config.Load(nil, tl.getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := app.OpenStore(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// state returns the catalogue's counts and latest change.
func (tl *tool) state(t *testing.T) (catalog.Counts, int64) {
	t.Helper()
	s := tl.open(t)
	defer s.Close(context.Background())
	c, err := s.Catalog.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	seq, err := s.Catalog.LatestSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c, seq
}

func sharedMARCFiles(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(shared, "marc")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("shared test data missing: %v", err)
	}
	var files []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "LICENSE") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

// Every shared MARC file imports with a report, each into its own library
// (several files share source IDs: chabon.mrc and chabon.xml are two
// versions of the same records, which in one library would replace each
// other); importing them all again changes nothing; the same book held by
// several libraries is one work; Vietnamese text and raw MARC come back
// unchanged.
func TestImportSharedMARC(t *testing.T) {
	tl := newTool(t)
	files := sharedMARCFiles(t)
	s := tl.open(t)
	for i := range files {
		l := &library.Library{Code: fmt.Sprintf("BN-%02d", i), Name: filepath.Base(files[i]), Type: library.TypeSchool}
		if err := s.Libraries.CreateLibrary(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	s.Close(context.Background())
	importAll := func() string {
		var out bytes.Buffer
		for i, f := range files {
			if err := importFiles(t.Context(), []string{"--library", fmt.Sprintf("BN-%02d", i), f}, tl.getenv, &out); err != nil {
				t.Fatalf("import %s: %v\n%s", f, err, out.String())
			}
			if !strings.Contains(out.String(), filepath.Base(f)+" (") {
				t.Errorf("no report for %s", filepath.Base(f))
			}
		}
		return out.String()
	}
	out := importAll()
	t.Log(out)
	counts, seq := tl.state(t)
	if counts.Records < 1300 || counts.Works == 0 || counts.Works >= counts.Records || counts.Items != 66 || seq == 0 {
		t.Fatalf("after the import: %+v, latest change %d", counts, seq)
	}

	out = importAll()
	if m := regexp.MustCompile(`records: [1-9]|[1-9]\d* updated|items: [1-9]|[1-9]\d* changes`).FindString(out); m != "" {
		t.Errorf("the second import wrote something (%q):\n%s", m, out)
	}
	counts2, seq2 := tl.state(t)
	if counts2 != counts || seq2 != seq {
		t.Errorf("the second import changed the catalogue: %+v → %+v, changes %d → %d", counts, counts2, seq, seq2)
	}

	s = tl.open(t)
	defer s.Close(context.Background())
	libOf := func(name string) string {
		for i, f := range files {
			if filepath.Base(f) == name {
				l, err := s.Libraries.LibraryByCode(t.Context(), fmt.Sprintf("BN-%02d", i))
				if err != nil {
					t.Fatal(err)
				}
				return l.ID
			}
		}
		t.Fatalf("no shared file %s", name)
		return ""
	}
	// The ISO 2709 and MARCXML copies of one file, held by two libraries,
	// are the same works.
	mrc, xml := libOf("vn-tiki-derived.nfc.mrc"), libOf("vn-tiki-derived.xml")
	b, err := ingest.ReadFile(filepath.Join(shared, "marc", "vn-tiki-derived.nfc.mrc"), ingest.Options{LibraryID: mrc})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range b.Records[:50] {
		got, err := s.Catalog.Record(t.Context(), mrc, want.SourceID)
		if err != nil {
			t.Fatalf("record %s: %v", want.SourceID, err)
		}
		if got.Title != want.Title || !norm.NFC.IsNormalString(got.Title) || !bytes.Equal(got.RawMARC, want.RawMARC) {
			t.Fatalf("record %s came back as %q (raw %d bytes), want %q (raw %d bytes)", want.SourceID, got.Title, len(got.RawMARC), want.Title, len(want.RawMARC))
		}
		other, err := s.Catalog.Record(t.Context(), xml, want.SourceID)
		if err != nil || other.WorkID != got.WorkID {
			t.Fatalf("the MARCXML copy of %s: %+v, %v; want work %s", want.SourceID, other, err, got.WorkID)
		}
		w, err := s.Catalog.Work(t.Context(), got.WorkID)
		if err != nil || w.Deleted || w.RecordCount < 2 || !norm.NFC.IsNormalString(w.Title) {
			t.Fatalf("work of %s: %+v, %v", want.SourceID, w, err)
		}
	}
}

func TestImportUsage(t *testing.T) {
	tl := newTool(t)
	var out bytes.Buffer
	if err := importFiles(t.Context(), []string{"x.mrc"}, tl.getenv, &out); err == nil {
		t.Error("import without --library succeeded")
	}
	if err := importFiles(t.Context(), []string{"--library", "NOPE", filepath.Join(shared, "marc", "one.dat")}, tl.getenv, &out); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("import into an unknown library: %v", err)
	}
	if err := importFiles(t.Context(), []string{"--library", "BN-TS", filepath.Join(t.TempDir(), "missing.mrc")}, tl.getenv, &out); err == nil {
		t.Error("import of a missing file succeeded")
	}
}

// oaiServer serves the shared OAI-PMH chain (ListRecords.xml →
// ListRecords2.xml → ListRecords3.xml, the last served as the last page)
// and records the from argument of each first request.
func oaiServer(t *testing.T) (*httptest.Server, func() []string) {
	dir := filepath.Join(shared, "oai-pmh")
	token := regexp.MustCompile(`<resumptionToken[^>]*>[^<]*</resumptionToken>`)
	var mu sync.Mutex
	var froms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		file := "ListRecords.xml"
		switch {
		case q.Get("verb") == "Identify":
			file = "Identify.xml"
		case q.Get("resumptionToken") != "":
			file = filepath.Base(q.Get("resumptionToken"))
		default:
			mu.Lock()
			froms = append(froms, q.Get("from"))
			mu.Unlock()
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
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), froms...) }
}

// The shared OAI-PMH chain harvests into the catalogue; the state is kept,
// so the next harvest is incremental and changes nothing.
func TestHarvestSharedOAI(t *testing.T) {
	tl := newTool(t)
	srv, froms := oaiServer(t)
	var out bytes.Buffer
	if err := harvestRepo(t.Context(), []string{"--library", "BN-TS", srv.URL}, tl.getenv, &out); err != nil {
		t.Fatalf("harvest: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "read 6, imported 3, skipped 0, deleted 3") {
		t.Errorf("report:\n%s", out.String())
	}
	counts, seq := tl.state(t)
	if counts.Records != 1 || seq == 0 { // the chain repeats one record and one deletion
		t.Fatalf("after the harvest: %+v, latest change %d", counts, seq)
	}
	s := tl.open(t)
	cp, err := s.Catalog.HarvestCheckpoint(t.Context(), tl.libID)
	s.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var st oai.HarvestState
	if err := json.Unmarshal(cp.State, &st); err != nil || st.From != "2013-02-27" || st.ResumptionToken != "" || cp.URL != srv.URL {
		t.Fatalf("saved state %+v (%v) of %s", st, err, cp.URL)
	}

	out.Reset()
	if err := harvestRepo(t.Context(), []string{"--library", "BN-TS", srv.URL}, tl.getenv, &out); err != nil {
		t.Fatalf("second harvest: %v\n%s", err, out.String())
	}
	if got := froms(); len(got) != 2 || got[0] != "" || got[1] != "2013-02-27" {
		t.Errorf("from arguments %q, want a full then an incremental harvest", got)
	}
	if !strings.Contains(out.String(), "records: 0 new, 0 updated, 3 unchanged") {
		t.Errorf("second harvest:\n%s", out.String())
	}
	counts2, seq2 := tl.state(t)
	if counts2 != counts || seq2 != seq {
		t.Errorf("the second harvest changed the catalogue: %+v → %+v, changes %d → %d", counts, counts2, seq, seq2)
	}
}
