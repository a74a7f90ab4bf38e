package search

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// A search reads the index in up to three passes, all on one snapshot:
//
//  1. The match pass (scan) walks every matching work unscored: it counts
//     them, counts the facets through columns and, under TITLE and NEWEST,
//     keeps the page by the sort keys' columns. Unscored, Bleve turns a
//     conjunction or disjunction of terms into one operation on the
//     postings bitmaps, so a word matching two thirds of the catalogue
//     costs an iteration, not a scoring.
//  2. Under RELEVANCE, the rank pass scores only the works that match a
//     scoring clause (see textQuery): for a frequent word, the titles that
//     hold it rather than every work that mentions it somewhere.
//  3. Matches no scoring clause reaches score 0 and come last, by ID (the
//     tail); a page reaches them only after every scored work.

// scan runs q on r and calls fn with the global document number of each
// match, in index order, and its score when scored is true (0 otherwise).
func (x *Index) scan(ctx context.Context, r index.IndexReader, q query.Query, scored bool, fn func(n uint64, score float64)) error {
	opts := bsearch.SearcherOptions{Score: "none"}
	if scored {
		opts.Score = ""
	}
	s, err := q.Searcher(ctx, r, x.b.Mapping(), opts)
	if err != nil {
		return fmt.Errorf("search: preparing a scan: %w", err)
	}
	defer s.Close()
	sctx := &bsearch.SearchContext{
		DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize()+1, 0),
		IndexReader:       r,
	}
	const checkEvery = 4096
	seen := 0
	for {
		d, err := s.Next(sctx)
		if err != nil {
			return fmt.Errorf("search: scanning: %w", err)
		}
		if d == nil {
			return nil
		}
		if seen++; seen%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("search: scanning: %w", err)
			}
		}
		fn(d.IndexInternalID.Value(), d.Score)
		sctx.DocumentMatchPool.Put(d)
	}
}

// matches calls fn with every match of q (unscored): its segment's
// columns, its global and its segment-local document numbers. Queries of
// terms are read from postings bitmaps (see bitmap.go), others through
// Bleve's searchers.
func (p *pass) matches(ctx context.Context, q query.Query, fn func(sc *segmentColumns, n, d uint64)) error {
	snap, ok := p.r.(*scorch.IndexSnapshot)
	if !useBitmaps || !ok || !bitmapQuery(q) {
		return p.x.scan(ctx, p.r, q, false, func(n uint64, _ float64) {
			sc, d := p.cols.locate(n)
			fn(sc, n, d)
		})
	}
	buf := make([]uint32, 1024)
	for i, ss := range snap.Segments() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("search: matching: %w", err)
		}
		bm, err := matchBitmap(q, ss)
		if err != nil {
			return err
		}
		sc, base := p.cols.cols[i], p.cols.offsets[i]
		it := bm.ManyIterator()
		for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
			for _, d := range buf[:k] {
				fn(sc, base+uint64(d), uint64(d))
			}
		}
	}
	return nil
}

// facetCounter counts the requested facets over the matches of a scan.
type facetCounter struct {
	names []FacetName
	want  [len(columnFacets)]bool
	// By facet slot: counts by value ordinal, value occurrences, and the
	// matches with at least one value.
	counts [len(columnFacets)][]uint32
	total  [len(columnFacets)]int
	has    [len(columnFacets)]int
	docs   int
}

func newFacetCounter(names []FacetName) *facetCounter {
	fc := &facetCounter{names: names}
	for _, n := range names {
		fc.want[facetSlot(n)] = true
	}
	return fc
}

// add counts the facet values of document d of sc.
func (fc *facetCounter) add(sc *segmentColumns, d uint64) {
	fc.docs++
	last := uint32(len(columnFacets))
	for _, v := range sc.facetVals[sc.facetStart[d]:sc.facetStart[d+1]] {
		slot := v >> slotShift
		if !fc.want[slot] {
			continue
		}
		o := v & ordMask
		if int(o) >= len(fc.counts[slot]) {
			c := fc.counts[slot]
			fc.counts[slot] = append(c, make([]uint32, int(o)+1-len(c)+len(c)/2)...)
		}
		fc.counts[slot][o]++
		fc.total[slot]++
		if slot != last {
			fc.has[slot]++
			last = slot
		}
	}
}

// facets returns the counts as Facets: the size most frequent values of
// each (ties by value), Other and Missing as Bleve defines them.
func (fc *facetCounter) facets(cache *columnCache, size int) []Facet {
	out := make([]Facet, len(fc.names))
	for i, name := range fc.names {
		slot := facetSlot(name)
		dict := &cache.dicts[slot]
		var vals []FacetValue
		for o, n := range fc.counts[slot] {
			if n > 0 {
				vals = append(vals, FacetValue{Value: dict.value(uint32(o)), Count: int(n)})
			}
		}
		sort.Slice(vals, func(a, b int) bool {
			if vals[a].Count != vals[b].Count {
				return vals[a].Count > vals[b].Count
			}
			return vals[a].Value < vals[b].Value
		})
		if len(vals) > size {
			vals = vals[:size]
		}
		f := Facet{Name: name, Values: vals, Missing: fc.docs - fc.has[slot], Other: fc.total[slot]}
		for _, v := range vals {
			f.Other -= v.Count
		}
		if name == FacetDecade {
			sort.Slice(f.Values, func(a, b int) bool { return f.Values[a].Value > f.Values[b].Value })
		}
		out[i] = f
	}
	return out
}

// keyed is a match placed by its score and sort keys.
type keyed struct {
	n     uint64
	score float64
	keys  [3][]byte // sort keys in order of precedence; the last is the ID
}

// keyOrder orders matches: RELEVANCE by score descending then ID, NEWEST by
// year descending then title then ID, TITLE by title then ID, and the
// relevance tail by ID. Every order ends with the ID, so no two works tie
// and a cursor never skips or repeats one.
type keyOrder struct {
	score bool
	desc  [3]bool
	count int
}

var (
	orderRelevance = keyOrder{score: true, count: 1}
	orderTitle     = keyOrder{count: 2}
	orderNewest    = keyOrder{desc: [3]bool{true}, count: 3}
	orderID        = keyOrder{count: 1}
)

// keys returns document d's sort keys under o.
func (o keyOrder) keys(sc *segmentColumns, d uint64) [3][]byte {
	switch o.count {
	case 3:
		return [3][]byte{sc.yearKey.of(d), sc.titleKey.of(d), sc.id.of(d)}
	case 2:
		return [3][]byte{sc.titleKey.of(d), sc.id.of(d)}
	}
	return [3][]byte{sc.id.of(d)}
}

// compare orders a before b (<0) or after (>0). An empty key (a work
// without a title) sorts last, as Bleve's missing-last did.
func (o keyOrder) compare(a, b *keyed) int {
	if o.score && a.score != b.score {
		if a.score > b.score {
			return -1
		}
		return 1
	}
	for i := 0; i < o.count; i++ {
		ea, eb := len(a.keys[i]) == 0, len(b.keys[i]) == 0
		var c int
		switch {
		case ea && eb:
		case ea:
			c = 1
		case eb:
			c = -1
		default:
			c = bytes.Compare(a.keys[i], b.keys[i])
			if o.desc[i] {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// cursorValues returns k's position as a cursor's sort values.
func (o keyOrder) cursorValues(k *keyed) []string {
	var out []string
	if o.score {
		out = append(out, strconv.FormatFloat(k.score, 'g', -1, 64))
	}
	for i := 0; i < o.count; i++ {
		out = append(out, string(k.keys[i]))
	}
	return out
}

// topKeyed keeps the first k matches under an order that come after a
// cursor position.
type topKeyed struct {
	order keyOrder
	k     int
	after *keyed
	h     keyedHeap
}

// newTopKeyed returns a topKeyed for the first k matches after the cursor
// values after (nil for the first page), which cursorValues made and
// decodeCursor checked.
func newTopKeyed(order keyOrder, k int, after []string) *topKeyed {
	t := &topKeyed{order: order, k: k, h: keyedHeap{order: order}}
	if after != nil {
		a := &keyed{}
		if order.score {
			a.score, _ = strconv.ParseFloat(after[0], 64) // checked by decodeCursor
			after = after[1:]
		}
		for i := 0; i < order.count && i < len(after); i++ {
			a.keys[i] = []byte(after[i])
		}
		t.after = a
	}
	return t
}

// add offers document d of sc, global number n, with its score.
func (t *topKeyed) add(sc *segmentColumns, n, d uint64, score float64) {
	k := keyed{n: n, score: score, keys: t.order.keys(sc, d)}
	if t.after != nil && t.order.compare(&k, t.after) <= 0 {
		return
	}
	if len(t.h.items) == t.k {
		// The heap's root is the last kept: replace it only with a better one.
		if t.order.compare(&k, &t.h.items[0]) >= 0 {
			return
		}
		t.h.items[0] = k
		heap.Fix(&t.h, 0)
		return
	}
	heap.Push(&t.h, k)
}

// sorted returns the kept matches, first first.
func (t *topKeyed) sorted() []keyed {
	out := append([]keyed(nil), t.h.items...)
	sort.Slice(out, func(i, j int) bool { return t.order.compare(&out[i], &out[j]) < 0 })
	return out
}

// keyedHeap is a max-heap under its order: the root is the last kept match.
type keyedHeap struct {
	order keyOrder
	items []keyed
}

func (h *keyedHeap) Len() int { return len(h.items) }
func (h *keyedHeap) Less(i, j int) bool {
	return h.order.compare(&h.items[i], &h.items[j]) > 0
}
func (h *keyedHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *keyedHeap) Push(v any)    { h.items = append(h.items, v.(keyed)) }
func (h *keyedHeap) Pop() any {
	v := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return v
}

// storedTitle reads the stored title of the work with external ID id.
func storedTitle(r index.IndexReader, id string) (string, error) {
	doc, err := r.Document(id)
	if err != nil || doc == nil {
		return "", err
	}
	var title string
	doc.VisitFields(func(f index.Field) {
		if f.Name() == fTitle && title == "" {
			title = string(f.Value())
		}
	})
	return title, nil
}
