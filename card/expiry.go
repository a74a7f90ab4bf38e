package card

import (
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// StandardValidity is how long a card of an adult or a child is valid.
const StandardValidity = 5

// School year: Vietnamese schools end their year by 31 May (the Ministry of
// Education's yearly time frame), so a student's card is valid through
// 31 May. A card issued from 1 June on (summer registrations are for the
// coming year) is valid through 31 May of the next year.
const (
	SchoolYearEndMonth = time.May
	SchoolYearEndDay   = 31
)

// SchoolYearEnd returns the first instant after the school year that t
// falls in (or, from June on, the coming school year): 1 June 00:00 in the
// province's time zone.
func SchoolYearEnd(t time.Time) time.Time {
	local := t.In(thuvienso.Zone)
	end := time.Date(local.Year(), SchoolYearEndMonth, SchoolYearEndDay, 0, 0, 0, 0, thuvienso.Zone).AddDate(0, 0, 1)
	if !local.Before(end) {
		end = time.Date(local.Year()+1, SchoolYearEndMonth, SchoolYearEndDay, 0, 0, 0, 0, thuvienso.Zone).AddDate(0, 0, 1)
	}
	return end.UTC()
}

// ExpiryFor returns when a card issued at issued expires: the end of the
// school year for a student's card, StandardValidity years (through that
// day, in the province's time zone) for everyone else's.
func ExpiryFor(student bool, issued time.Time) time.Time {
	if student {
		return SchoolYearEnd(issued)
	}
	local := issued.In(thuvienso.Zone)
	day := time.Date(local.Year()+StandardValidity, local.Month(), local.Day(), 0, 0, 0, 0, thuvienso.Zone)
	return day.AddDate(0, 0, 1).UTC()
}
