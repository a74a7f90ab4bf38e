package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bacninh/thuvienso/search"
)

// After an import, `reindex` builds an index (in INDEX_DIR, DATA_DIR/index
// by default) that finds the imported titles, typed with or without
// diacritics, and says how many works it indexed, how long it took and
// how big the index is.
func TestReindexBuildsAnIndexThatFindsImportedTitles(t *testing.T) {
	tl := newTool(t)
	var out bytes.Buffer
	if err := importFiles(t.Context(), []string{"--library", "BN-TS", filepath.Join(shared, "marc", "vn-tiki-derived.nfc.mrc")}, tl.getenv, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	counts, _ := tl.state(t)
	s := tl.open(t)
	rec, err := s.Catalog.Record(t.Context(), tl.libID, "tiki-00008") // Thư Viện Nửa Đêm, Matt Haig
	s.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	other := filepath.Join(t.TempDir(), "elsewhere", "index")
	for _, tc := range []struct {
		name string
		args []string
		dir  string
	}{
		{"default folder", nil, filepath.Join(tl.env["DATA_DIR"], "index")},
		{"-index-dir", []string{"-index-dir", other}, other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			if err := reindex(t.Context(), tc.args, tl.getenv, &out); err != nil {
				t.Fatalf("reindex: %v\n%s", err, out.String())
			}
			t.Log(out.String())
			m := regexp.MustCompile(`indexed (\d+) works in \S+; index size [\d.]+ [KMG]?i?B`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no summary in:\n%s", out.String())
			}
			if n, _ := strconv.Atoi(m[1]); n != counts.Works {
				t.Errorf("indexed %d works, the catalogue has %d", n, counts.Works)
			}

			idx, err := search.Open(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			defer idx.Close()
			for _, q := range []string{"Thư viện nửa đêm", "thu vien nua dem"} {
				res, err := idx.Search(t.Context(), search.Request{Query: q})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Hits) == 0 || res.Hits[0].ID != rec.WorkID {
					t.Errorf("search %q: %+v, want work %s first", q, res.Hits, rec.WorkID)
				}
			}
		})
	}
}

func TestReindexUsageSaysItIsForAStoppedServer(t *testing.T) {
	tl := newTool(t)
	var out bytes.Buffer
	if err := reindex(t.Context(), []string{"extra"}, tl.getenv, &out); err == nil {
		t.Error("reindex with an argument succeeded")
	}
	if !strings.Contains(out.String(), "stopped server") || !strings.Contains(out.String(), "-index-dir") {
		t.Errorf("usage:\n%s", out.String())
	}
}
