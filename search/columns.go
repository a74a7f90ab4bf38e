package search

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Columns are the index's facet and sort values decoded once per segment and
// kept in memory, the layout facet counting and sorting need: an array
// lookup per matching document instead of Bleve's doc-value visits, which
// decompress a chunk of values for every few documents they read. Counting
// seven facets over 200,000 matches through doc values took 70% of a
// search's time (docs/PERFORMANCE.md); through columns it is a few
// milliseconds.
//
// Scorch segments are immutable (a merge writes a new one), so the columns
// of a segment never go stale: they are built the first time a search meets
// the segment and dropped once no snapshot in use holds it. Deleted
// documents keep their (stale) entries; searchers never return them.

// columnFacets are the facet fields kept in columns, in a fixed order: a
// facet is its index in this list.
var columnFacets = [...]FacetName{FacetFormat, FacetLanguage, FacetLibraryType, FacetDistrict, FacetLibrary, FacetSubject, FacetDecade}

// librarySlot is the library facet's slot: a document's values there are
// the libraries holding a copy, which Copies.Libraries counts.
var librarySlot = facetSlot(FacetLibrary)

// facetSlot returns f's index in columnFacets, -1 when it has none.
func facetSlot(f FacetName) int {
	for i, c := range columnFacets {
		if c == f {
			return i
		}
	}
	return -1
}

// dictionary numbers the distinct values of one facet field across every
// segment, so that counts are kept in arrays. Values are only added; a
// value no document has any more keeps its number and counts 0.
type dictionary struct {
	mu     sync.RWMutex
	ord    map[string]uint32
	values []string
}

// ordinal returns the number of value, adding it when new.
func (d *dictionary) ordinal(value []byte) uint32 {
	d.mu.RLock()
	o, ok := d.ord[string(value)]
	d.mu.RUnlock()
	if ok {
		return o
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if o, ok := d.ord[string(value)]; ok {
		return o
	}
	o = uint32(len(d.values))
	s := string(value)
	d.ord[s] = o
	d.values = append(d.values, s)
	return o
}

// value returns the value numbered o.
func (d *dictionary) value(o uint32) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.values[o]
}

// Facet values are kept row by row: document d's values of every facet are
// facetVals[facetStart[d]:facetStart[d+1]], grouped by facet in
// columnFacets order, each the facet's slot in the top bits and the value's
// ordinal below. One row a document is one bounds lookup per match however
// many facets are counted.
const (
	slotShift = 28
	ordMask   = 1<<slotShift - 1
)

// stringColumn holds one byte string per document: document d's is
// data[off[d]:off[d+1]]. One backing array instead of a string a document
// keeps 300,000 titles in a few allocations.
type stringColumn struct {
	off  []uint32
	data []byte
}

func (c *stringColumn) of(d uint64) []byte { return c.data[c.off[d]:c.off[d+1]] }

func (c *stringColumn) add(v []byte) {
	c.data = append(c.data, v...)
	c.off = append(c.off, uint32(len(c.data)))
}

// segmentColumns are the columns of one segment.
type segmentColumns struct {
	facetStart []uint32
	facetVals  []uint32
	// titleKey is TitleSortKey of the title, yearKey the year as "%04d"
	// ("0000" when unknown), id the document ID.
	titleKey, yearKey, id stringColumn
	// copies holds each document's copies in the network and how many of
	// them are on the shelf (Document.TotalItems, AvailableItems).
	copies []Copies
}

// columnCache builds and keeps the columns of the segments searches meet.
type columnCache struct {
	dicts [len(columnFacets)]dictionary

	mu   sync.Mutex
	segs map[segment.Segment]*columnEntry
	// newest is the highest segment number of a snapshot seen.
	newest uint64
}

// columnEntry is one segment's columns, built once.
type columnEntry struct {
	once sync.Once
	cols *segmentColumns
	err  error
}

func newColumnCache() *columnCache {
	c := &columnCache{segs: map[segment.Segment]*columnEntry{}}
	for i := range c.dicts {
		c.dicts[i].ord = map[string]uint32{}
	}
	return c
}

// snapshotColumns resolves a snapshot's global document numbers to the
// columns of their segment.
type snapshotColumns struct {
	offsets []uint64 // first global number of each segment
	cols    []*segmentColumns
}

// locate returns the columns and the segment-local number of the global
// document number n.
func (s *snapshotColumns) locate(n uint64) (*segmentColumns, uint64) {
	// Most snapshots hold one large segment and a few small ones: a linear
	// scan from the end beats a binary search at these sizes.
	i := len(s.offsets) - 1
	for i > 0 && s.offsets[i] > n {
		i--
	}
	return s.cols[i], n - s.offsets[i]
}

// forReader returns the columns of every segment of r, building those not
// seen before.
func (c *columnCache) forReader(r index.IndexReader) (*snapshotColumns, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("search: columns need a scorch index, have %T", r)
	}
	segs := snap.Segments()
	out := &snapshotColumns{offsets: make([]uint64, len(segs)), cols: make([]*segmentColumns, len(segs))}
	entries := make([]*columnEntry, len(segs))
	c.mu.Lock()
	var running uint64
	for i, ss := range segs {
		seg := ss.Segment()
		out.offsets[i] = running
		running += seg.Count() // as scorch numbers documents: deleted ones included
		e := c.segs[seg]
		if e == nil {
			e = &columnEntry{}
			c.segs[seg] = e
		}
		entries[i] = e
	}
	// Forget the segments the newest snapshot no longer has (merged away):
	// scorch numbers segments in the order it makes them, so a snapshot
	// holding the highest number seen is the newest. A search still on an
	// older snapshot keeps the columns it holds.
	var newest uint64
	for _, ss := range segs {
		newest = max(newest, ss.Id())
	}
	if newest >= c.newest && len(c.segs) > len(segs) {
		c.newest = newest
		keep := make(map[segment.Segment]*columnEntry, len(segs))
		for i, ss := range segs {
			keep[ss.Segment()] = entries[i]
		}
		c.segs = keep
	}
	c.mu.Unlock()
	for i, ss := range segs {
		e := entries[i]
		e.once.Do(func() { e.cols, e.err = c.build(ss) })
		if e.err != nil {
			return nil, e.err
		}
		out.cols[i] = e.cols
	}
	return out, nil
}

// columnFields are the doc-value fields read into columns: the facet fields
// in columnFacets order, then the two sort keys and the copies.
var columnFields = func() []string {
	out := make([]string, 0, len(columnFacets)+3)
	for _, f := range columnFacets {
		out = append(out, facetFields[f])
	}
	return append(out, fTitleSort, fYearSort, fCopies)
}()

// buildParallelFrom is the segment size from which build splits the work
// across the cores: a 300,000-work segment takes about 0.6 s on one, and a
// server's first search waits for it.
const buildParallelFrom = 20_000

// build decodes one segment's doc values and IDs into columns, in parts
// read side by side for a large segment.
func (c *columnCache) build(ss *scorch.SegmentSnapshot) (*segmentColumns, error) {
	seg := ss.Segment()
	dv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return nil, fmt.Errorf("search: segment %T has no doc values", seg)
	}
	parts := 1
	if seg.Count() >= buildParallelFrom {
		parts = max(1, min(runtime.GOMAXPROCS(0), 4))
	}
	return c.buildParts(seg, dv, parts)
}

// buildParts is build in the given number of parts.
func (c *columnCache) buildParts(seg segment.Segment, dv segment.DocValueVisitable, parts int) (*segmentColumns, error) {
	n := seg.Count()
	pieces := make([]*segmentColumns, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			pieces[p], errs[p] = c.buildRange(seg, dv, n*uint64(p)/uint64(parts), n*uint64(p+1)/uint64(parts))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sc := pieces[0]
	for _, pc := range pieces[1:] {
		sc.append(pc)
	}
	return sc, nil
}

// append adds the documents of next, which follow sc's, to sc.
func (sc *segmentColumns) append(next *segmentColumns) {
	base := uint32(len(sc.facetVals))
	for _, st := range next.facetStart[1:] {
		sc.facetStart = append(sc.facetStart, base+st)
	}
	sc.facetVals = append(sc.facetVals, next.facetVals...)
	sc.copies = append(sc.copies, next.copies...)
	for _, pair := range [][2]*stringColumn{{&sc.titleKey, &next.titleKey}, {&sc.yearKey, &next.yearKey}, {&sc.id, &next.id}} {
		dst, src := pair[0], pair[1]
		base := uint32(len(dst.data))
		for _, o := range src.off[1:] {
			dst.off = append(dst.off, base+o)
		}
		dst.data = append(dst.data, src.data...)
	}
}

// buildRange decodes the documents lo ≤ d < hi of seg into columns that
// number them from 0.
func (c *columnCache) buildRange(seg segment.Segment, dv segment.DocValueVisitable, lo, hi uint64) (*segmentColumns, error) {
	n := hi - lo
	sc := &segmentColumns{facetStart: make([]uint32, 1, n+1), copies: make([]Copies, 0, n)}
	for _, s := range []*stringColumn{&sc.titleKey, &sc.yearKey, &sc.id} {
		s.off = make([]uint32, 1, n+1)
	}
	slot := make(map[string]int, len(columnFields))
	for i, f := range columnFields {
		slot[f] = i
	}
	var title, year []byte
	var copies Copies
	var row [len(columnFacets)][]uint32
	var state segment.DocVisitState
	visit := func(field string, term []byte) {
		i, ok := slot[field]
		switch {
		case !ok:
		case i < len(columnFacets):
			o := c.dicts[i].ordinal(term)
			if o <= ordMask { // more values than that in one facet: not counted
				row[i] = append(row[i], uint32(i)<<slotShift|o)
			}
		case field == fTitleSort:
			title = append(title[:0], term...)
		case field == fYearSort:
			year = append(year[:0], term...)
		default:
			copies = parseCopies(term)
		}
	}
	for d := lo; d < hi; d++ {
		title, year, copies = title[:0], year[:0], Copies{}
		for i := range row {
			row[i] = row[i][:0]
		}
		var err error
		if state, err = dv.VisitDocValues(d, columnFields, visit, state); err != nil {
			return nil, fmt.Errorf("search: reading doc values of document %d: %w", d, err)
		}
		for i := range row {
			sc.facetVals = append(sc.facetVals, row[i]...)
		}
		sc.facetStart = append(sc.facetStart, uint32(len(sc.facetVals)))
		if len(year) == 0 {
			year = append(year, "0000"...)
		}
		sc.titleKey.add(title)
		sc.yearKey.add(year)
		copies.Libraries = len(row[librarySlot]) // the libraries holding a copy
		sc.copies = append(sc.copies, copies)
		id, err := seg.DocID(d)
		if err != nil {
			return nil, fmt.Errorf("search: reading ID of document %d: %w", d, err)
		}
		sc.id.add(id)
	}
	return sc, nil
}

// parseCopies reads a "total/available" copies term; a malformed one (an
// index written by a bug) reads as no copies.
func parseCopies(term []byte) Copies {
	total, available, ok := strings.Cut(string(term), "/")
	t, err1 := strconv.Atoi(total)
	a, err2 := strconv.Atoi(available)
	if !ok || err1 != nil || err2 != nil {
		return Copies{}
	}
	return Copies{Total: t, Available: a}
}
