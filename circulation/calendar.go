package circulation

import (
	"context"
	"fmt"
	"sync"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/library"
)

// Holiday is a public holiday of Vietnam.
type Holiday struct {
	// Date is the day, at midnight in the province's zone.
	Date   time.Time
	EN, VI string
}

// PublicHolidays returns the public holidays of Gregorian year y on which
// libraries close, after the Labour Code 2019 (article 112): New Year's
// Day (1 January); Tết Nguyên Đán, five days — the last day of the lunar
// year and the first four days of the new one, the usual arrangement (the
// government fixes the exact days each year; librarians add make-up or
// bridging days as closed days); the Hùng Kings' Commemoration (10th day of
// the 3rd lunar month); Reunification Day (30 April); International Labour
// Day (1 May); National Day (2 September; the second day, before or after,
// is fixed each year and added as a closed day). Lunar dates follow the
// Vietnamese calendar (see Tet). The list is ordered by date.
func PublicHolidays(y int) []Holiday {
	if h, ok := holidayCache.Load(y); ok {
		return h.([]Holiday)
	}
	tet := Tet(y)
	gy, gm, gd, _ := LunarToSolar(y, 3, 10, false)
	hs := []Holiday{
		{civil(y, time.January, 1), "New Year's Day", "Tết Dương lịch"},
		{tet.AddDate(0, 0, -1), "Lunar New Year's Eve (Tết)", "Tất niên (Tết Nguyên Đán)"},
	}
	for i := range 4 {
		hs = append(hs, Holiday{tet.AddDate(0, 0, i), fmt.Sprintf("Lunar New Year (Tết), day %d", i+1),
			fmt.Sprintf("Tết Nguyên Đán, mùng %d", i+1)})
	}
	hs = append(hs,
		Holiday{civil(gy, gm, gd), "Hùng Kings' Commemoration Day", "Giỗ Tổ Hùng Vương"},
		Holiday{civil(y, time.April, 30), "Reunification Day", "Ngày Giải phóng miền Nam, thống nhất đất nước"},
		Holiday{civil(y, time.May, 1), "International Labour Day", "Ngày Quốc tế Lao động"},
		Holiday{civil(y, time.September, 2), "National Day", "Quốc khánh"},
	)
	holidayCache.Store(y, hs)
	return hs
}

var holidayCache sync.Map // year → []Holiday

// PublicHoliday returns the public holiday on day (any time of it, judged
// in the province's zone), if it is one.
func PublicHoliday(day time.Time) (Holiday, bool) {
	key := DayKey(day)
	for _, h := range PublicHolidays(day.In(thuvienso.Zone).Year()) {
		if DayKey(h.Date) == key {
			return h, true
		}
	}
	return Holiday{}, false
}

// civil returns midnight of a date in the province's zone.
func civil(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, thuvienso.Zone)
}

// DayKey returns the day of t in the province's zone as "2006-01-02".
func DayKey(t time.Time) string { return t.In(thuvienso.Zone).Format(time.DateOnly) }

// ParseDay reads "2006-01-02" as midnight of that day in the province's zone.
func ParseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, thuvienso.Zone)
	if err != nil {
		return time.Time{}, ErrBadDate
	}
	return t, nil
}

// startOfDay returns midnight of t's day in the province's zone.
func startOfDay(t time.Time) time.Time {
	l := t.In(thuvienso.Zone)
	return civil(l.Year(), l.Month(), l.Day())
}

// EndOfDay returns the last second of t's day in the province's zone, the
// time a due date or a pickup deadline falls at.
func EndOfDay(t time.Time) time.Time {
	l := t.In(thuvienso.Zone)
	return time.Date(l.Year(), l.Month(), l.Day(), 23, 59, 59, 0, thuvienso.Zone)
}

// closedDayLister is what the calendar needs of the Store.
type closedDayLister interface {
	ClosedDays(ctx context.Context, libraryIDs []string, from, to string) ([]*ClosedDay, error)
}

// Calendar decides which days a library is open: not on a public holiday,
// not on a closed day of the library or of the whole network, and — when
// the library publishes opening hours — only on weekdays it has hours for.
type Calendar struct {
	store closedDayLister
}

// NewCalendar returns the calendar over the closed days kept in st.
func NewCalendar(st closedDayLister) *Calendar { return &Calendar{store: st} }

// calendarHorizon bounds the search for an open day: a library closed for
// longer than this gets the original day back.
const calendarHorizon = 62

// closedSet maps a closed day ("2006-01-02") to its reason.
type closedSet map[string]string

// closedDays loads the closed days of lib and of the network from day for
// calendarHorizon days.
func (c *Calendar) closedDays(ctx context.Context, libID string, from time.Time) (closedSet, error) {
	out := closedSet{}
	if c == nil || c.store == nil {
		return out, nil
	}
	ids := []string{""}
	if libID != "" {
		ids = append(ids, libID)
	}
	ds, err := c.store.ClosedDays(ctx, ids, DayKey(from), DayKey(from.AddDate(0, 0, calendarHorizon)))
	if err != nil {
		return nil, fmt.Errorf("reading closed days: %w", err)
	}
	for _, d := range ds {
		out[d.Date] = d.Reason
	}
	return out, nil
}

// openOn reports whether lib is open on day, given its closed days.
func openOn(lib *library.Library, day time.Time, closed closedSet) bool {
	if _, ok := PublicHoliday(day); ok {
		return false
	}
	if _, ok := closed[DayKey(day)]; ok {
		return false
	}
	if lib == nil || len(lib.Hours) == 0 {
		return true // hours unknown: open every working day
	}
	wd := day.In(thuvienso.Zone).Weekday()
	for _, h := range lib.Hours {
		if h.Weekday == wd {
			return true
		}
	}
	return false
}

// OpenOn reports whether lib is open on day.
func (c *Calendar) OpenOn(ctx context.Context, lib *library.Library, day time.Time) (bool, error) {
	closed, err := c.closedDays(ctx, libID(lib), startOfDay(day))
	if err != nil {
		return false, err
	}
	return openOn(lib, day, closed), nil
}

// NextOpenDay returns the first day, from day on, that lib is open, at
// midnight in the province's zone (day itself when it is open).
func (c *Calendar) NextOpenDay(ctx context.Context, lib *library.Library, day time.Time) (time.Time, error) {
	d := startOfDay(day)
	closed, err := c.closedDays(ctx, libID(lib), d)
	if err != nil {
		return time.Time{}, err
	}
	for i := range calendarHorizon {
		if x := d.AddDate(0, 0, i); openOn(lib, x, closed) {
			return x, nil
		}
	}
	return d, nil
}

// DueAt returns the end of the first day lib is open on, days days after
// from: a due date or a pickup deadline.
func (c *Calendar) DueAt(ctx context.Context, lib *library.Library, from time.Time, days int) (time.Time, error) {
	d, err := c.NextOpenDay(ctx, lib, startOfDay(from).AddDate(0, 0, days))
	if err != nil {
		return time.Time{}, err
	}
	return EndOfDay(d), nil
}

func libID(l *library.Library) string {
	if l == nil {
		return ""
	}
	return l.ID
}
