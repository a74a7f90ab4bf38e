package library_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/sqlite"
)

// openStore opens an empty embedded store's libraries for t.
func openStore(t *testing.T) library.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lib.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db.Stores().Libraries
}

func newService(t *testing.T) *library.Service {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	libs := []*library.Library{
		{ID: "bn", Code: "BN", Name: "Thư viện tỉnh Bắc Ninh", Type: library.TypeProvincial, District: "Bắc Ninh", Location: &library.Point{Lat: 21.1833, Lng: 106.0630}, PickupPoint: true},
		{ID: "ts", Code: "BN-TS", Name: "Thư viện thành phố Từ Sơn", Type: library.TypeDistrict, ParentID: "bn", District: "Từ Sơn", Location: &library.Point{Lat: 21.1170, Lng: 105.9620}, PickupPoint: true},
		{ID: "db", Code: "BN-TS-DB", Name: "Thư viện phường Đình Bảng", Type: library.TypeCommune, ParentID: "ts", District: "Từ Sơn", Commune: "Đình Bảng", Location: &library.Point{Lat: 21.1080, Lng: 105.9510}},
		{ID: "dh", Code: "BN-TT-DH", Name: "Phòng đọc làng Đông Hồ", Type: library.TypeVillage, District: "Thuận Thành", Commune: "Song Hồ", Location: &library.Point{Lat: 21.0520, Lng: 106.0850}},
		{ID: "pv", Code: "BN-PV", Name: "Tủ sách gia đình ông Hòa", Type: library.TypePrivate, District: "Quế Võ"},
	}
	for _, l := range libs {
		if err := st.CreateLibrary(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	return &library.Service{Store: st, Now: func() time.Time { return time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC) }}
}

func codes(ms []library.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Library.Code)
	}
	return out
}

func TestFindLibraries(t *testing.T) {
	svc := newService(t)
	tests := []struct {
		name   string
		filter library.Filter
		want   []string
	}{
		{"all, in the network's order", library.Filter{}, []string{"BN", "BN-TS", "BN-TS-DB", "BN-TT-DH", "BN-PV"}},
		{"text without diacritics", library.Filter{Text: "dinh bang"}, []string{"BN-TS-DB"}},
		{"text with old tone placement finds new", library.Filter{Text: "ông Hoà"}, []string{"BN-PV"}},
		{"district", library.Filter{District: "Từ Sơn"}, []string{"BN-TS", "BN-TS-DB"}},
		{"types", library.Filter{Types: []library.Type{library.TypeVillage, library.TypePrivate}}, []string{"BN-TT-DH", "BN-PV"}},
		{"pickup points", library.Filter{PickupOnly: true}, []string{"BN", "BN-TS"}},
		{"near Từ Sơn, nearest first", library.Filter{Near: &library.Near{Point: library.Point{Lat: 21.1080, Lng: 105.9500}, RadiusKm: 5}}, []string{"BN-TS-DB", "BN-TS"}},
	}
	for _, tt := range tests {
		got, err := svc.Find(context.Background(), tt.filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if g := codes(got); len(g) != len(tt.want) || (len(g) > 0 && !equal(g, tt.want)) {
			t.Errorf("%s: got %v, want %v", tt.name, g, tt.want)
		}
	}
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestFindRefusesImpossibleFilters(t *testing.T) {
	svc := newService(t)
	for name, f := range map[string]library.Filter{
		"unknown type":  {Types: []library.Type{"CASTLE"}},
		"latitude 100":  {Near: &library.Near{Point: library.Point{Lat: 100}, RadiusKm: 1}},
		"radius 0":      {Near: &library.Near{Point: library.Point{Lat: 21, Lng: 106}}},
		"radius 10,000": {Near: &library.Near{Point: library.Point{Lat: 21, Lng: 106}, RadiusKm: 10000}},
	} {
		if _, err := svc.Find(context.Background(), f); thuvienso.ErrorCode(err) != thuvienso.CodeBadUserInput {
			t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
		}
	}
}

func TestOnlyTheLibrarysStaffMayUpdateIt(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	phone := "0222 3854 000"
	own := auth.Actor{AccountID: "l1", Role: auth.RoleLibrarian, LibraryID: "ts"}
	l, err := svc.UpdateLibrary(ctx, own, "ts", library.Update{Contact: &library.Contact{Phone: phone},
		Hours: []library.OpeningHours{{Weekday: time.Wednesday, Opens: "08:00", Closes: "11:30"}}})
	if err != nil || l.Contact.Phone != phone {
		t.Fatalf("own library: %v", err)
	}
	if _, err := svc.UpdateLibrary(ctx, own, "bn", library.Update{Contact: &library.Contact{Phone: phone}}); thuvienso.ErrorCode(err) != thuvienso.CodeForbidden {
		t.Fatalf("another library: %v, want FORBIDDEN", err)
	}
	bad := []library.OpeningHours{{Weekday: time.Monday, Opens: "17:00", Closes: "08:00"}}
	if _, err := svc.UpdateLibrary(ctx, own, "ts", library.Update{Hours: bad}); thuvienso.ErrorCode(err) != thuvienso.CodeBadUserInput {
		t.Fatalf("closing before opening: %v, want BAD_USER_INPUT", err)
	}
	stored, _ := svc.Library(ctx, "ts")
	// 2026-11-25 is a Wednesday; 02:00 UTC is 09:00 in Bắc Ninh.
	if !stored.OpenAt(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)) || stored.OpenAt(time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("OpenAt in the province's time: hours %+v", stored.Hours)
	}
}
