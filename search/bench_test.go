package search

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchWorks returns the size of the generated index: SEARCH_BENCH_WORKS,
// 20,000 by default.
func benchWorks(b *testing.B) int {
	n := 20000
	if s := os.Getenv("SEARCH_BENCH_WORKS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("SEARCH_BENCH_WORKS=%q: want a positive integer", s)
		}
		n = v
	}
	return n
}

// benchIndex builds an on-disk index of n generated works in batches of
// 5,000 and merges it to one segment, as a rebuild does.
func benchIndex(b *testing.B, n int) *Index {
	b.Helper()
	x, err := Open(filepath.Join(b.TempDir(), "idx"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = x.Close() })
	docs := genDocs(n)
	start := time.Now()
	for i := 0; i < len(docs); i += 5000 {
		if err := x.Index(ctx, docs[i:min(i+5000, len(docs))]...); err != nil {
			b.Fatal(err)
		}
	}
	indexed := time.Since(start)
	if err := x.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("indexed %d works in %v (%.0f works/s), merged in %v", n, indexed.Round(time.Millisecond),
		float64(n)/indexed.Seconds(), (time.Since(start) - indexed).Round(time.Millisecond))
	return x
}

// benchQueries are 1–3 syllable queries, common and rare.
var benchQueries = []struct{ name, query string }{
	{"1-common", "văn"},
	{"1-rare", "gióng"},
	{"2-common", "văn học"},
	{"2-folded", "van hoc"},
	{"2-phrase", "thư viện"},
	{"3-mixed", "kỹ thuật trồng lúa"},
	{"3-author", "nguyễn văn hùng"},
	{"2-none", "văn xyzzy"}, // nothing has both words: AND then OR
	{"isbn", genISBN(123)},
}

// BenchmarkSearch reports ns/op and, from the same runs, p50 and p99
// latency of a first page of 20 results on one client, for the queries
// above: plain, with all facets, sorted by title, and (for comparison with
// the conjunction) matching any word. SEARCH_BENCH_WORKS sets the index
// size.
func BenchmarkSearch(b *testing.B) {
	n := benchWorks(b)
	x := benchIndex(b, n)
	allFacets := []FacetName{FacetFormat, FacetLanguage, FacetLibraryType, FacetDistrict, FacetLibrary, FacetSubject, FacetDecade}
	variants := []struct {
		name    string
		req     func(q string) Request
		relaxed bool
	}{
		{"plain", func(q string) Request { return Request{Query: q} }, false},
		{"or", func(q string) Request { return Request{Query: q} }, true},
		{"facets", func(q string) Request { return Request{Query: q, Facets: allFacets, Highlight: true} }, false},
		{"title", func(q string) Request { return Request{Query: q, Sort: SortTitle} }, false},
	}
	for _, v := range variants {
		for _, q := range benchQueries {
			b.Run(v.name+"/"+q.name, func(b *testing.B) {
				req := v.req(q.query)
				res, err := x.search(ctx, req, v.relaxed)
				if err != nil {
					b.Fatal(err)
				}
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t := time.Now()
					if _, err := x.search(ctx, req, v.relaxed); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
				}
				b.StopTimer()
				reportPercentiles(b, lat)
				b.ReportMetric(float64(res.TotalCount), "hits")
			})
		}
	}
	b.Run("browse/available-at-library", func(b *testing.B) {
		req := Request{Filter: Filter{AvailableAt: "lib-000"}, Facets: allFacets}
		for i := 0; i < b.N; i++ {
			if _, err := x.Search(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("suggest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := x.Suggest(ctx, "van h", 10); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkIndex measures re-indexing generated works in batches of 1,000
// into an index that already holds them (the availability-update path).
func BenchmarkIndex(b *testing.B) {
	x, err := OpenMemory()
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	docs := genDocs(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := x.Index(ctx, docs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "works/s")
}
