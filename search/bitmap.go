package search

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The match pass of most searches needs no score, only the set of matching
// works: the query words in the folded field of all text, and filters that
// are terms (a library, a district, a format). Such a query is answered per
// segment from the terms' postings bitmaps, which Bleve's segments keep as
// roaring bitmaps, with set operations; walking the result costs a few
// nanoseconds a work where going through Bleve's searchers costs about 30.
// Bleve itself does the same merge for unscored term conjunctions, but then
// still hands out one match at a time. A query with anything else (a
// phrase, a year range) goes through the searchers as before.

// useBitmaps lets tests compare the two ways of reading a match set.
var useBitmaps = true

// bitmapQuery reports whether q can be answered by matchBitmap.
func bitmapQuery(q query.Query) bool {
	switch q := q.(type) {
	case *query.MatchAllQuery:
		return true
	case *query.TermQuery:
		return q.FieldVal != ""
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			if !bitmapQuery(c) {
				return false
			}
		}
		return len(q.Conjuncts) > 0
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return false
		}
		for _, d := range q.Disjuncts {
			if !bitmapQuery(d) {
				return false
			}
		}
		return len(q.Disjuncts) > 0
	}
	return false
}

// matchBitmap returns the segment-local numbers of the live documents of ss
// that q (for which bitmapQuery holds) matches.
func matchBitmap(q query.Query, ss *scorch.SegmentSnapshot) (*roaring.Bitmap, error) {
	switch q := q.(type) {
	case *query.MatchAllQuery:
		return ss.DocNumbersLive(), nil
	case *query.TermQuery:
		return termBitmap(ss, q.FieldVal, q.Term)
	case *query.ConjunctionQuery:
		var out *roaring.Bitmap
		for _, c := range q.Conjuncts {
			bm, err := matchBitmap(c, ss)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = bm
			} else {
				out.And(bm)
			}
			if out.IsEmpty() {
				break
			}
		}
		return out, nil
	case *query.DisjunctionQuery:
		out := roaring.New()
		for _, d := range q.Disjuncts {
			bm, err := matchBitmap(d, ss)
			if err != nil {
				return nil, err
			}
			out.Or(bm)
		}
		return out, nil
	}
	return nil, fmt.Errorf("search: %T has no bitmap", q)
}

// termBitmap returns the live documents of ss holding term in field, as a
// bitmap the caller may change.
func termBitmap(ss *scorch.SegmentSnapshot, field, term string) (*roaring.Bitmap, error) {
	dict, err := ss.Segment().Dictionary(field)
	if err != nil {
		return nil, fmt.Errorf("search: dictionary of %s: %w", field, err)
	}
	pl, err := dict.PostingsList([]byte(term), ss.Deleted(), nil)
	if err != nil {
		return nil, fmt.Errorf("search: postings of %s:%s: %w", field, term, err)
	}
	out := roaring.New()
	if pl == nil || pl.Count() == 0 {
		return out, nil
	}
	it := pl.Iterator(false, false, false, nil)
	if opt, ok := it.(segment.OptimizablePostingsIterator); ok {
		if bm := opt.ActualBitmap(); bm != nil {
			out.Or(bm) // a copy: the segment's own bitmap is shared
			return out, nil
		}
		if n, ok := opt.DocNum1Hit(); ok {
			if d := ss.Deleted(); d == nil || !d.Contains(uint32(n)) {
				out.Add(uint32(n))
			}
			return out, nil
		}
	}
	// A segment type without bitmaps: read the postings one by one.
	for {
		p, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("search: postings of %s:%s: %w", field, term, err)
		}
		if p == nil {
			return out, nil
		}
		out.Add(uint32(p.Number()))
	}
}
