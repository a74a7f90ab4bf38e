package circulation

import (
	"context"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/vietnamese"
)

// AddClosedDay closes a library on a day (its staff), or every library of
// the network (LibraryID "", an admin); due dates and pickup deadlines set
// from then on avoid it. Adding a day again replaces its reason.
func (s *Service) AddClosedDay(ctx context.Context, actor auth.Actor, d ClosedDay) (*ClosedDay, error) {
	if err := s.mayClose(actor, d.LibraryID); err != nil {
		return nil, fmt.Errorf("adding a closed day: %w", err)
	}
	day, err := ParseDay(strings.TrimSpace(d.Date))
	if err != nil {
		return nil, err
	}
	d.Date, d.Reason = DayKey(day), vietnamese.Clean(d.Reason)
	if err := s.store.PutClosedDay(ctx, &d); err != nil {
		return nil, fmt.Errorf("adding a closed day: %w", err)
	}
	return &d, nil
}

// RemoveClosedDay opens a library again on a day it was closed.
func (s *Service) RemoveClosedDay(ctx context.Context, actor auth.Actor, libraryID, date string) error {
	if err := s.mayClose(actor, libraryID); err != nil {
		return fmt.Errorf("removing a closed day: %w", err)
	}
	if _, err := ParseDay(date); err != nil {
		return err
	}
	if err := s.store.DeleteClosedDay(ctx, libraryID, date); err != nil {
		return fmt.Errorf("removing a closed day: %w", err)
	}
	return nil
}

// ClosedDayInfo is a day a library is closed, with why: its own closed day,
// the network's, or a public holiday.
type ClosedDayInfo struct {
	Date string
	// LibraryID is "" for a network-wide day or a public holiday.
	LibraryID string
	Reason    string
	// Holiday is set for a public holiday (Reason is then its Vietnamese name).
	Holiday *Holiday
}

// ClosedDays lists the days library libraryID is closed from from to to
// (at most a year): public holidays, the network's and its own closed days.
func (s *Service) ClosedDays(ctx context.Context, libraryID string, from, to time.Time) ([]ClosedDayInfo, error) {
	from, to = startOfDay(from), startOfDay(to)
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, thuvienso.Invalid("input.to", "the period must be at most a year", "khoảng thời gian tối đa là một năm")
	}
	ds, err := s.store.ClosedDays(ctx, []string{"", libraryID}, DayKey(from), DayKey(to))
	if err != nil {
		return nil, fmt.Errorf("closed days of %s: %w", libraryID, err)
	}
	var out []ClosedDayInfo
	seen := map[string]bool{}
	for y := from.Year(); y <= to.Year(); y++ {
		for _, h := range PublicHolidays(y) {
			if h.Date.Before(from) || h.Date.After(to) {
				continue
			}
			h := h
			out = append(out, ClosedDayInfo{Date: DayKey(h.Date), Reason: h.VI, Holiday: &h})
			seen[DayKey(h.Date)] = true
		}
	}
	for _, d := range ds {
		if !seen[d.Date] {
			out = append(out, ClosedDayInfo{Date: d.Date, LibraryID: d.LibraryID, Reason: d.Reason})
		}
	}
	sortClosed(out)
	return out, nil
}

func sortClosed(ds []ClosedDayInfo) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].Date < ds[j-1].Date; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// mayClose: a library's staff for its days, an admin for the network's.
func (s *Service) mayClose(actor auth.Actor, libraryID string) error {
	if libraryID == "" {
		if !actor.IsAdmin() {
			return thuvienso.ErrForbidden
		}
		return nil
	}
	return requireStaff(actor, libraryID)
}
