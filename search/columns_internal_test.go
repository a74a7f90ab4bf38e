package search

import (
	"reflect"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// TestColumnsBuiltInPartsEqualColumnsBuiltWhole checks the parallel build
// of a large segment's columns: the parts, put together, are the columns
// one pass makes.
func TestColumnsBuiltInPartsEqualColumnsBuiltWhole(t *testing.T) {
	x, _ := newFixture(t)
	adv, err := x.b.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	segs := r.(*scorch.IndexSnapshot).Segments()
	if len(segs) == 0 || segs[0].Segment().Count() < 10 {
		t.Fatal("the fixture has no segment worth splitting")
	}
	seg := segs[0].Segment()
	dv := seg.(segment.DocValueVisitable)
	whole, err := x.columns.buildParts(seg, dv, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range []int{2, 3, 7} {
		split, err := x.columns.buildParts(seg, dv, parts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("columns built in %d parts differ from those built whole", parts)
		}
	}
}
