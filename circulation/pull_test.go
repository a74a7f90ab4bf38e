package circulation_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/circulation"
)

func TestThePullListSendsStaffToTheShelfForCopiesThatWaitingHoldsCanTake(t *testing.T) {
	rules := circulation.DefaultRules()
	rules.LocalOnly = map[string]bool{private: true}
	e := newEnv(t, friday, circulation.WithRules(rules))
	e.reader("x", auth.CategoryAdult)
	// Each work: its copies (barcode → owner), those lent out first, and its
	// holds in queue order (pickup library, suspended).
	type hold struct {
		pickup    string
		suspended bool
	}
	works := []struct {
		title  string
		copies map[string]string
		lent   []string
		holds  []hold
	}{
		// A copy on a Từ Sơn shelf, wanted at Đông Ngàn in the same district.
		{"Dế Mèn phiêu lưu ký", map[string]string{"A-1": tuSon}, nil, []hold{{pickup: dongNgan}}},
		// Quế Võ has a copy for its own reader: Từ Sơn does not pull one too.
		{"Bỉ vỏ", map[string]string{"B-1": tuSon, "B-2": queVo}, nil, []hold{{pickup: queVo}}},
		// One copy, two holds: the one collected here comes first, as at check-in.
		{"Chí Phèo", map[string]string{"C-1": tuSon}, nil, []hold{{pickup: queVo}, {pickup: tuSon}}},
		// Two copies, one hold elsewhere in the province: one copy is pulled.
		{"Đất rừng phương Nam", map[string]string{"D-1": tuSon, "D-2": tuSon}, nil, []hold{{pickup: queVo}}},
		// A suspended hold takes nothing.
		{"Em bé Hà Nội", map[string]string{"E-1": tuSon}, nil, []hold{{pickup: tuSon, suspended: true}}},
		// A private library's copy serves only holds collected there.
		{"Gia phả họ Nguyễn", map[string]string{"F-1": private, "F-2": queVo}, []string{"F-2"}, []hold{{pickup: tuSon}}},
		// A copy out on loan is not on the shelf.
		{"Giông tố", map[string]string{"G-1": tuSon}, []string{"G-1"}, []hold{{pickup: tuSon}}},
	}
	holdOf := map[string][]*circulation.Hold{}
	n := 0
	for _, w := range works {
		id := e.work(w.title, "BOOK", w.copies)
		for _, bc := range w.lent {
			e.lend(w.copies[bc], "x", bc)
		}
		for _, h := range w.holds {
			r := e.reader(fmt.Sprintf("r%d", n), auth.CategoryAdult)
			n++
			placed := e.hold(r, id, h.pickup)
			if h.suspended {
				_, err := e.svc.SuspendHold(e.ctx, r, placed.ID, nil)
				e.must("SuspendHold", err)
			}
			holdOf[w.title] = append(holdOf[w.title], placed)
			e.clock.Add(time.Minute)
		}
	}
	type line struct {
		barcode, holdID string
		scope           circulation.PullScope
	}
	pulls := func(lib string) []line {
		t.Helper()
		ps, err := e.svc.PullList(e.ctx, e.staff[lib], lib)
		e.must("PullList "+lib, err)
		var out []line
		for _, p := range ps {
			out = append(out, line{p.Item.Barcode, p.Hold.ID, p.Scope})
		}
		return out
	}
	want := map[string][]line{
		tuSon: {
			{"C-1", holdOf["Chí Phèo"][1].ID, circulation.PullHere},
			{"A-1", holdOf["Dế Mèn phiêu lưu ký"][0].ID, circulation.PullDistrict},
			{"D-1", holdOf["Đất rừng phương Nam"][0].ID, circulation.PullProvince},
		},
		queVo:    {{"B-2", holdOf["Bỉ vỏ"][0].ID, circulation.PullHere}},
		dongNgan: nil,
		private:  nil,
	}
	for _, lib := range []string{tuSon, queVo, dongNgan, private} {
		if got := pulls(lib); !slices.Equal(got, want[lib]) {
			t.Fatalf("pull list of %s:\n got  %+v\n want %+v", lib, got, want[lib])
		}
	}

	// Fetched and checked in, each copy goes to the hold the list named.
	for lib, lines := range want {
		for _, l := range lines {
			res := e.checkIn(lib, l.barcode)
			if res.Hold == nil || res.Hold.ID != l.holdID {
				t.Fatalf("checking in %s at %s served %+v, want hold %s", l.barcode, lib, res.Hold, l.holdID)
			}
		}
	}
	for _, lib := range []string{tuSon, queVo} {
		if got := pulls(lib); len(got) != 0 {
			t.Fatalf("pull list of %s after the check-ins: %+v", lib, got)
		}
	}
	if _, err := e.svc.PullList(e.ctx, e.staff[queVo], tuSon); !errors.Is(err, thuvienso.ErrForbidden) {
		t.Fatalf("Quế Võ's librarian read Từ Sơn's pull list: %v", err)
	}
}
