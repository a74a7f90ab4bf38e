package resolvers

import (
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/library"
)

// weekdays maps the schema's Weekday enum to time.Weekday and back.
var weekdays = map[model.Weekday]time.Weekday{
	model.WeekdayMonday: time.Monday, model.WeekdayTuesday: time.Tuesday, model.WeekdayWednesday: time.Wednesday,
	model.WeekdayThursday: time.Thursday, model.WeekdayFriday: time.Friday, model.WeekdaySaturday: time.Saturday,
	model.WeekdaySunday: time.Sunday,
}

func weekdayOf(d time.Weekday) model.Weekday {
	for k, v := range weekdays {
		if v == d {
			return k
		}
	}
	return model.WeekdayMonday
}

func authPayload(acc *auth.Account, t *auth.Tokens) *model.AuthPayload {
	return &model.AuthPayload{
		Account:               *acc,
		AccessToken:           t.AccessToken,
		AccessTokenExpiresAt:  t.AccessTokenExpiresAt,
		RefreshToken:          t.RefreshToken,
		RefreshTokenExpiresAt: t.RefreshTokenExpiresAt,
		TokenType:             "Bearer",
	}
}

func libraryFilter(f *model.LibraryFilter) library.Filter {
	if f == nil {
		return library.Filter{}
	}
	out := library.Filter{Types: f.Types, District: deref(f.District), Text: deref(f.Text), PickupOnly: deref(f.PickupOnly)}
	if f.Near != nil {
		out.Near = &library.Near{Point: library.Point{Lat: f.Near.Lat, Lng: f.Near.Lng}, RadiusKm: f.Near.RadiusKm}
	}
	return out
}

func libraryUpdate(in model.UpdateLibraryInput) library.Update {
	u := library.Update{Address: in.Address, PickupPoint: in.PickupPoint}
	if in.OpeningHours != nil {
		u.Hours = make([]library.OpeningHours, 0, len(in.OpeningHours))
		for _, h := range in.OpeningHours {
			u.Hours = append(u.Hours, library.OpeningHours{Weekday: weekdays[h.Weekday], Opens: h.Opens, Closes: h.Closes})
		}
	}
	if in.Contact != nil {
		u.Contact = &library.Contact{Phone: deref(in.Contact.Phone), Email: deref(in.Contact.Email), Website: deref(in.Contact.Website)}
	}
	return u
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nonZero is nil for 0 and the address of n otherwise.
func nonZero(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
