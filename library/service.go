package library

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Service is the library domain's behaviour: finding libraries and letting
// staff keep their own library's details current.
type Service struct {
	Store Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Library returns one library.
func (s *Service) Library(ctx context.Context, id string) (*Library, error) {
	l, err := s.Store.Library(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", id, err)
	}
	return l, nil
}

// LibraryByCode returns one library by its code.
func (s *Service) LibraryByCode(ctx context.Context, code string) (*Library, error) {
	l, err := s.Store.LibraryByCode(ctx, strings.TrimSpace(code))
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", code, err)
	}
	return l, nil
}

// OpenAt reports whether the library is open at t, judged in the
// province's time zone.
func (l *Library) OpenAt(t time.Time) bool {
	local := t.In(thuvienso.Zone)
	now := local.Format("15:04")
	for _, h := range l.Hours {
		if h.Weekday == local.Weekday() && h.Opens <= now && now < h.Closes {
			return true
		}
	}
	return false
}

// LibraryExists reports whether a library with this id exists.
func (s *Service) LibraryExists(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	_, err := s.Store.Library(ctx, id)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Match is one library found by Find.
type Match struct {
	Library *Library
	// DistanceKm is the distance from Filter.Near; nil without one.
	DistanceKm *float64
}

// Find returns the libraries matching f: ordered by distance when f.Near is
// set, otherwise by the network's hierarchy (provincial, district, …) and
// then by name in Vietnamese order.
func (s *Service) Find(ctx context.Context, f Filter) ([]Match, error) {
	for _, t := range f.Types {
		if !t.Valid() {
			return nil, thuvienso.Invalid("filter.types", "unknown library type", "Loại thư viện không hợp lệ")
		}
	}
	if f.Near != nil {
		if err := f.Near.validate(); err != nil {
			return nil, err
		}
	}
	all, err := s.Store.Libraries(ctx, f.Types, vietnamese.Clean(f.District))
	if err != nil {
		return nil, fmt.Errorf("find libraries: %w", err)
	}
	words := strings.Fields(vietnamese.Fold(f.Text))
	var out []Match
	for _, l := range all {
		if f.PickupOnly && !l.PickupPoint {
			continue
		}
		if len(words) > 0 && !matchesAll(l.searchText(), words) {
			continue
		}
		m := Match{Library: l}
		if f.Near != nil {
			if l.Location == nil {
				continue
			}
			d := DistanceKm(f.Near.Point, *l.Location)
			if d > f.Near.RadiusKm {
				continue
			}
			m.DistanceKm = &d
		}
		out = append(out, m)
	}
	if f.Near != nil {
		sort.SliceStable(out, func(i, j int) bool { return *out[i].DistanceKm < *out[j].DistanceKm })
		return out, nil
	}
	rank := map[Type]int{}
	for i, t := range Types {
		rank[t] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Library, out[j].Library
		if rank[a.Type] != rank[b.Type] {
			return rank[a.Type] < rank[b.Type]
		}
		return vietnamese.Compare(a.Name, b.Name) < 0
	})
	return out, nil
}

func (l *Library) searchText() string {
	return vietnamese.Fold(strings.Join([]string{l.Code, l.Name, l.Commune, l.District, l.Address}, " "))
}

func matchesAll(text string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func (n *Near) validate() error {
	p := n.Point
	if p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 || math.IsNaN(p.Lat) || math.IsNaN(p.Lng) {
		return thuvienso.Invalid("filter.near", "latitude must be within ±90 and longitude within ±180",
			"Vĩ độ phải trong khoảng ±90 và kinh độ trong khoảng ±180")
	}
	if n.RadiusKm <= 0 || n.RadiusKm > 500 || math.IsNaN(n.RadiusKm) {
		return thuvienso.Invalid("filter.near.radiusKm", "the radius must be between 0 and 500 km",
			"Bán kính phải lớn hơn 0 và không quá 500 km")
	}
	return nil
}

// DistanceKm is the great-circle distance between two points (haversine).
func DistanceKm(a, b Point) float64 {
	const earthRadiusKm = 6371.0
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Update is the part of a library its own staff may change. Nil fields
// stay as they are.
type Update struct {
	Address     *string
	Hours       []OpeningHours
	PickupPoint *bool
	Contact     *Contact
}

// UpdateLibrary applies u to the library; only its librarians and admins may.
func (s *Service) UpdateLibrary(ctx context.Context, a auth.Actor, id string, u Update) (*Library, error) {
	if err := a.RequireLibraryStaff(id); err != nil {
		return nil, err
	}
	l, err := s.Store.Library(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("update library: %w", err)
	}
	if u.Address != nil {
		l.Address = vietnamese.Clean(*u.Address)
	}
	if u.Hours != nil {
		for i, h := range u.Hours {
			if err := h.validate(fmt.Sprintf("input.hours[%d]", i)); err != nil {
				return nil, err
			}
		}
		l.Hours = u.Hours
	}
	if u.PickupPoint != nil {
		l.PickupPoint = *u.PickupPoint
	}
	if u.Contact != nil {
		l.Contact = Contact{Phone: strings.TrimSpace(u.Contact.Phone), Email: strings.TrimSpace(u.Contact.Email), Website: strings.TrimSpace(u.Contact.Website)}
	}
	l.UpdatedAt = s.now()
	if err := s.Store.UpdateLibrary(ctx, l); err != nil {
		return nil, fmt.Errorf("update library: %w", err)
	}
	return l, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (h OpeningHours) validate(field string) error {
	opens, err1 := time.Parse("15:04", h.Opens)
	closes, err2 := time.Parse("15:04", h.Closes)
	if err1 != nil || err2 != nil || !closes.After(opens) || h.Weekday < time.Sunday || h.Weekday > time.Saturday {
		return thuvienso.Invalid(field, "opening hours need a weekday and HH:MM times, closing after opening",
			"Giờ mở cửa cần thứ trong tuần và giờ dạng HH:MM, giờ đóng sau giờ mở")
	}
	return nil
}
