package search_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/store"
)

// rebuildStore is a catalog of one library holding the given titles.
func rebuildStore(t *testing.T, titles ...string) *store.Set {
	t.Helper()
	st := openStore(t)
	if err := st.Libraries.CreateLibrary(t.Context(), &library.Library{ID: "bn", Code: "BN", Name: "Thư viện tỉnh Bắc Ninh", Type: library.TypeProvincial}); err != nil {
		t.Fatal(err)
	}
	addTitles(t, st, titles...)
	return st
}

func addTitles(t *testing.T, st *store.Set, titles ...string) {
	t.Helper()
	var recs []catalog.Record
	for _, title := range titles {
		r := record("src:"+title, title, "Nguyễn Du", "")
		r.LibraryID = "bn"
		r.Normalize()
		recs = append(recs, r)
	}
	if _, err := (&catalog.Service{Store: st.Catalog}).Import(t.Context(), &catalog.Batch{LibraryID: "bn", Records: recs}); err != nil {
		t.Fatal(err)
	}
}

// found returns how many works the index in dir finds for query.
func found(t *testing.T, dir, query string) int {
	t.Helper()
	idx, err := search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	res, err := idx.Search(t.Context(), search.Request{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	return res.TotalCount
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRebuildDirReplacesTheIndexWithOneBuiltBesideIt(t *testing.T) {
	st := rebuildStore(t, "Truyện Kiều", "Lục Vân Tiên")
	dir := filepath.Join(t.TempDir(), "index")

	res, err := search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet)
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := st.Catalog.LatestSeq(t.Context())
	if res.Works != 2 || res.Watermark != latest || res.Bytes <= 0 || res.Took <= 0 {
		t.Fatalf("first rebuild: %+v (latest change %d)", res, latest)
	}
	if n := found(t, dir, "truyen kieu"); n != 1 {
		t.Fatalf("the new index finds %d works for truyen kieu", n)
	}

	// The catalog grows; a rebuild over the existing index shows it, and
	// leaves no build folder behind.
	addTitles(t, st, "Chinh phụ ngâm")
	if res, err = search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet); err != nil || res.Works != 3 {
		t.Fatalf("second rebuild: %+v, %v", res, err)
	}
	if n := found(t, dir, "chinh phu ngam"); n != 1 {
		t.Fatalf("the rebuilt index finds %d works for chinh phu ngam", n)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("beside the index: %v", entries)
	}
}

func TestFailedRebuildLeavesTheOldIndex(t *testing.T) {
	st := rebuildStore(t, "Truyện Kiều")
	dir := filepath.Join(t.TempDir(), "index")
	if _, err := search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet); err != nil {
		t.Fatal(err)
	}
	addTitles(t, st, "Chinh phụ ngâm")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := search.RebuildDir(ctx, dir, st.Catalog, st.Libraries, quiet); err == nil {
		t.Fatal("a cancelled rebuild succeeded")
	}
	if found(t, dir, "truyen kieu") != 1 || found(t, dir, "chinh phu ngam") != 0 {
		t.Fatal("a failed rebuild changed the index")
	}
}

func TestRebuildDirRefusesAnIndexAServerHasOpen(t *testing.T) {
	st := rebuildStore(t, "Truyện Kiều")
	dir := filepath.Join(t.TempDir(), "index")
	if _, err := search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet); err != nil {
		t.Fatal(err)
	}
	idx, err := search.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet)
	idx.Close()
	if !errors.Is(err, search.ErrIndexInUse) {
		t.Fatalf("rebuilding an open index: %v, want ErrIndexInUse", err)
	}
	if _, err := search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet); err != nil {
		t.Fatalf("rebuilding after the server closed it: %v", err)
	}
}

// A crash between the two renames of a swap (where folders cannot be
// exchanged atomically) leaves the previous index beside the folder; Open
// puts it back instead of starting an empty index.
func TestOpenRestoresTheIndexOfAnInterruptedSwap(t *testing.T) {
	st := rebuildStore(t, "Truyện Kiều")
	dir := filepath.Join(t.TempDir(), "index")
	if _, err := search.RebuildDir(t.Context(), dir, st.Catalog, st.Libraries, quiet); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if n := found(t, dir, "truyen kieu"); n != 1 {
		t.Fatalf("after the interrupted swap the index finds %d works", n)
	}
}
