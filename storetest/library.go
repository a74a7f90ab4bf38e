package storetest

import (
	"slices"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/store"
)

// newLibrary returns a library with every field set.
func newLibrary(id, code string) *library.Library {
	return &library.Library{
		ID:       id,
		Code:     code,
		Name:     nameTuSon,
		Type:     library.TypeDistrict,
		ParentID: "lib-provincial",
		District: districtTuSon,
		Commune:  communeNFD,
		Address:  "Số 1 đường Lý Thái Tổ, phường Đông Ngàn",
		Location: &library.Point{Lat: 21.116873512, Lng: 105.965483201},
		Hours: []library.OpeningHours{
			{Weekday: time.Monday, Opens: "07:30", Closes: "11:30"},
			{Weekday: time.Monday, Opens: "13:30", Closes: "17:00"},
			{Weekday: time.Saturday, Opens: "08:00", Closes: "11:00"},
			{Weekday: time.Sunday, Opens: "08:00", Closes: "11:00"},
		},
		PickupPoint: true,
		Contact:     library.Contact{Phone: "+842223831234", Email: "tvtuson@bacninh.gov.vn", Website: "https://thuvien.tuson.bacninh.gov.vn"},
		CreatedAt:   at(0),
		UpdatedAt:   at(90 * time.Minute),
	}
}

// wantLibrary fails t unless got is want as a store returns it: times in
// UTC, no opening hours as nil.
func wantLibrary(t *testing.T, what string, got, want *library.Library) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil library", what)
	}
	w := *want
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	if len(w.Hours) == 0 {
		w.Hours = nil
	}
	wantUTC(t, what, got.CreatedAt, got.UpdatedAt)
	mustEqual(t, what, *got, w)
}

// codes returns the codes of ls in order.
func codes(ls []*library.Library) []string {
	var cs []string
	for _, l := range ls {
		cs = append(cs, l.Code)
	}
	return cs
}

var libraryTests = []test{
	{"Library/CreateAndGet", func(t *testing.T, s *store.Set) {
		ctx, ls := t.Context(), s.Libraries
		full := newLibrary("lib-tuson", "BN-TS")
		bare := &library.Library{ID: "lib-provincial", Code: "BN", Name: nameProvincial, Type: library.TypeProvincial,
			CreatedAt: at(time.Second), UpdatedAt: at(time.Second)}
		for _, l := range []*library.Library{full, bare} {
			must(t, "CreateLibrary "+l.Code, ls.CreateLibrary(ctx, l))
		}
		for _, want := range []*library.Library{full, bare} {
			got, err := ls.Library(ctx, want.ID)
			must(t, "Library "+want.ID, err)
			wantLibrary(t, "Library "+want.ID, got, want)
			got, err = ls.LibraryByCode(ctx, want.Code)
			must(t, "LibraryByCode "+want.Code, err)
			wantLibrary(t, "LibraryByCode "+want.Code, got, want)
		}
		_, err := ls.Library(ctx, "no-such-library")
		wantErr(t, "Library(unknown)", err, thuvienso.ErrNotFound)
		_, err = ls.LibraryByCode(ctx, "BN-XX")
		wantErr(t, "LibraryByCode(unknown)", err, thuvienso.ErrNotFound)
	}},
	{"Library/CreateAssignsMissingID", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		l := newLibrary("", "BN-NEW")
		must(t, "CreateLibrary", s.Libraries.CreateLibrary(ctx, l))
		if l.ID == "" {
			t.Fatal("CreateLibrary left the ID empty")
		}
		got, err := s.Libraries.Library(ctx, l.ID)
		must(t, "Library", err)
		wantLibrary(t, "Library", got, l)
	}},
	{"Library/CodeConflict", func(t *testing.T, s *store.Set) {
		ctx, ls := t.Context(), s.Libraries
		first := newLibrary("lib-1", "BN-TS")
		must(t, "CreateLibrary", ls.CreateLibrary(ctx, first))
		second := newLibrary("lib-2", "BN-TS")
		second.Name = "Thư viện khác"
		err := ls.CreateLibrary(ctx, second)
		wantErr(t, "CreateLibrary with a taken code", err, library.ErrCodeTaken)
		wantCode(t, "CreateLibrary with a taken code", err, thuvienso.CodeConflict)
		_, err = ls.Library(ctx, "lib-2")
		wantErr(t, "the rejected library", err, thuvienso.ErrNotFound)
		got, err := ls.LibraryByCode(ctx, "BN-TS")
		must(t, "LibraryByCode", err)
		wantLibrary(t, "the first library", got, first)
		n, err := ls.CountLibraries(ctx)
		must(t, "CountLibraries", err)
		mustEqual(t, "CountLibraries", n, 1)
	}},
	{"Library/Update", func(t *testing.T, s *store.Set) {
		ctx, ls := t.Context(), s.Libraries
		l := newLibrary("lib-1", "BN-TS")
		other := newLibrary("lib-2", "BN-QV")
		must(t, "CreateLibrary", ls.CreateLibrary(ctx, l))
		must(t, "CreateLibrary", ls.CreateLibrary(ctx, other))

		changed := *l
		changed.Code = "BN-TS2"
		changed.Name = "Thư viện thành phố Từ Sơn"
		changed.Type = library.TypeCommune
		changed.ParentID = ""
		changed.District = "Thành phố Từ Sơn"
		changed.Location = nil
		changed.Hours = nil
		changed.PickupPoint = false
		changed.Contact = library.Contact{Phone: "+842223000000"}
		changed.UpdatedAt = at(48 * time.Hour)
		must(t, "UpdateLibrary", ls.UpdateLibrary(ctx, &changed))
		got, err := ls.Library(ctx, l.ID)
		must(t, "Library", err)
		wantLibrary(t, "updated library", got, &changed)
		_, err = ls.LibraryByCode(ctx, "BN-TS")
		wantErr(t, "LibraryByCode(old code)", err, thuvienso.ErrNotFound)

		// Updating without changing the code is no conflict with itself.
		changed.Location = &library.Point{Lat: 21.2, Lng: 106.05}
		changed.Hours = []library.OpeningHours{{Weekday: time.Tuesday, Opens: "08:00", Closes: "17:00"}}
		must(t, "UpdateLibrary (same code)", ls.UpdateLibrary(ctx, &changed))
		got, err = ls.Library(ctx, l.ID)
		must(t, "Library", err)
		wantLibrary(t, "updated again", got, &changed)

		// Taking another library's code fails and changes nothing.
		taking := changed
		taking.Code = other.Code
		taking.Name = "should not be stored"
		err = ls.UpdateLibrary(ctx, &taking)
		wantErr(t, "UpdateLibrary to a taken code", err, library.ErrCodeTaken)
		wantCode(t, "UpdateLibrary to a taken code", err, thuvienso.CodeConflict)
		got, err = ls.Library(ctx, l.ID)
		must(t, "Library", err)
		wantLibrary(t, "after the failed update", got, &changed)
		got, err = ls.LibraryByCode(ctx, other.Code)
		must(t, "LibraryByCode", err)
		wantLibrary(t, "the other library", got, other)

		missing := newLibrary("lib-missing", "BN-MISSING")
		wantErr(t, "UpdateLibrary(unknown)", ls.UpdateLibrary(ctx, missing), thuvienso.ErrNotFound)
		_, err = ls.LibraryByCode(ctx, "BN-MISSING")
		wantErr(t, "UpdateLibrary(unknown) must not insert", err, thuvienso.ErrNotFound)
	}},
	{"Library/ByIDs", func(t *testing.T, s *store.Set) {
		ctx, ls := t.Context(), s.Libraries
		for i := range 5 {
			must(t, "CreateLibrary", ls.CreateLibrary(ctx, newLibrary(idf("lib", i), idf("BN", i))))
		}
		cases := []struct {
			name string
			ids  []string
			want []string
		}{
			{"none", nil, nil},
			{"empty", []string{}, nil},
			{"one", []string{"lib-003"}, []string{"lib-003"}},
			{"some and missing", []string{"lib-004", "nope", "lib-000", "lib-002"}, []string{"lib-000", "lib-002", "lib-004"}},
			{"only missing", []string{"nope", "nada"}, nil},
			{"duplicates", []string{"lib-001", "lib-001"}, []string{"lib-001"}},
		}
		for _, c := range cases {
			got, err := ls.LibrariesByID(ctx, c.ids)
			must(t, "LibrariesByID "+c.name, err)
			var ids []string
			for _, l := range got {
				ids = append(ids, l.ID)
				wantLibrary(t, "LibrariesByID "+c.name, l, newLibrary(l.ID, l.Code))
			}
			slices.Sort(ids)
			mustEqual(t, "LibrariesByID "+c.name, ids, c.want)
		}
	}},
	{"Library/ListAndCount", func(t *testing.T, s *store.Set) {
		ctx, ls := t.Context(), s.Libraries
		n, err := ls.CountLibraries(ctx)
		must(t, "CountLibraries (empty)", err)
		mustEqual(t, "CountLibraries (empty)", n, 0)
		all, err := ls.Libraries(ctx, nil, "")
		must(t, "Libraries (empty)", err)
		mustEqual(t, "Libraries (empty)", len(all), 0)

		// Created out of code order, to see the store order them.
		fixtures := []struct {
			code     string
			typ      library.Type
			district string
		}{
			{"BN-TS-DT", library.TypeCommune, districtTuSon},
			{"BN", library.TypeProvincial, "Thành phố Bắc Ninh"},
			{"BN-QV", library.TypeDistrict, districtQueVo},
			{"BN-TS", library.TypeDistrict, districtTuSon},
			{"BN-TS-THCS1", library.TypeSchool, districtTuSon},
			{"BN-QV-PL", library.TypeCommune, districtQueVo},
			{"BN-TS-DB", library.TypeVillage, districtTuSon},
		}
		byCode := map[string]*library.Library{}
		for i, f := range fixtures {
			l := newLibrary(idf("lib", i), f.code)
			l.Type, l.District = f.typ, f.district
			must(t, "CreateLibrary "+f.code, ls.CreateLibrary(ctx, l))
			byCode[l.Code] = l
		}
		cases := []struct {
			name     string
			types    []library.Type
			district string
			want     []string
		}{
			{"all", nil, "", []string{"BN", "BN-QV", "BN-QV-PL", "BN-TS", "BN-TS-DB", "BN-TS-DT", "BN-TS-THCS1"}},
			{"one type", []library.Type{library.TypeCommune}, "", []string{"BN-QV-PL", "BN-TS-DT"}},
			{"two types", []library.Type{library.TypeSchool, library.TypeDistrict}, "", []string{"BN-QV", "BN-TS", "BN-TS-THCS1"}},
			{"district", nil, districtTuSon, []string{"BN-TS", "BN-TS-DB", "BN-TS-DT", "BN-TS-THCS1"}},
			{"types in district", []library.Type{library.TypeCommune, library.TypeDistrict}, districtQueVo, []string{"BN-QV", "BN-QV-PL"}},
			{"type absent", []library.Type{library.TypePrivate}, "", nil},
			{"district absent", nil, "Huyện Gia Bình", nil},
		}
		for _, c := range cases {
			got, err := ls.Libraries(ctx, c.types, c.district)
			must(t, "Libraries "+c.name, err)
			mustEqual(t, "Libraries "+c.name, codes(got), c.want)
			for _, l := range got {
				wantLibrary(t, "Libraries "+c.name+" "+l.Code, l, byCode[l.Code])
			}
		}
		n, err = ls.CountLibraries(ctx)
		must(t, "CountLibraries", err)
		mustEqual(t, "CountLibraries", n, len(fixtures))
	}},
}
