package relay

import (
	"testing"

	thuvienso "github.com/bacninh/thuvienso"
)

func ptr[T any](v T) *T { return &v }

func TestPaginateWalksTheWholeListWithoutGapsOrRepeats(t *testing.T) {
	const total = 47
	seen := 0
	var after *string
	for pages := 0; ; pages++ {
		w, err := Paginate(total, ptr(10), after)
		if err != nil {
			t.Fatal(err)
		}
		if w.Start != seen {
			t.Fatalf("page %d starts at %d, want %d", pages, w.Start, seen)
		}
		seen = w.End
		if !w.HasNext() {
			break
		}
		after = ptr(Cursor(w.End - 1))
	}
	if seen != total {
		t.Fatalf("walked %d items, want %d", seen, total)
	}
}

func TestPaginateRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		first *int
		after *string
	}{
		"negative first": {ptr(-1), nil},
		"first too big":  {ptr(MaxPageSize + 1), nil},
		"forged cursor":  {nil, ptr("not-a-cursor")},
	} {
		_, err := Paginate(10, tc.first, tc.after)
		if thuvienso.ErrorCode(err) != thuvienso.CodeBadUserInput {
			t.Errorf("%s: error %v, want BAD_USER_INPUT", name, err)
		}
	}
}

func TestPaginatePastTheEndIsEmpty(t *testing.T) {
	w, err := Paginate(5, nil, ptr(Cursor(9)))
	if err != nil || w.Start != 5 || w.End != 5 || w.HasNext() || !w.HasPrevious() {
		t.Fatalf("window %+v, err %v", w, err)
	}
}
