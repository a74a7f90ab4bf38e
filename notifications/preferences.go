package notifications

import (
	"fmt"
	"slices"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// MaxDaysBeforeDue is the furthest ahead a due-date reminder may be.
const MaxDaysBeforeDue = 14

// maxReminders bounds Preferences.DaysBeforeDue.
const maxReminders = 5

// TimeOfDay is minutes after midnight in the province's zone
// (thuvienso.Zone), 0 … 1439.
type TimeOfDay int

// ParseTimeOfDay reads "HH:MM" (24-hour).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, ErrBadQuietHours
	}
	return TimeOfDay(t.Hour()*60 + t.Minute()), nil
}

// String formats t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// valid reports whether t is within a day.
func (t TimeOfDay) valid() bool { return t >= 0 && t < 24*60 }

// QuietHours is the part of each day, in the province's zone, in which
// pushes wait. Start == End means no quiet hours. The window may span
// midnight (21:00–07:00).
type QuietHours struct {
	Start, End TimeOfDay
}

// Off reports whether there are no quiet hours.
func (q QuietHours) Off() bool { return q.Start == q.End }

// NextAllowed returns t when t is outside the quiet hours, or else the end
// of the quiet hours that t is in (the next morning at End).
func (q QuietHours) NextAllowed(t time.Time) time.Time {
	if q.Off() {
		return t
	}
	local := t.In(thuvienso.Zone)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, thuvienso.Zone)
	m := TimeOfDay(local.Hour()*60 + local.Minute())
	at := func(day int, tod TimeOfDay) time.Time {
		return midnight.AddDate(0, 0, day).Add(time.Duration(tod) * time.Minute)
	}
	if q.Start < q.End { // e.g. 13:00–14:00, within one day
		if m >= q.Start && m < q.End {
			return at(0, q.End)
		}
		return t
	}
	switch { // spans midnight, e.g. 21:00–07:00
	case m >= q.Start:
		return at(1, q.End)
	case m < q.End:
		return at(0, q.End)
	}
	return t
}

// Preferences is what a reader wants to be told, and when.
type Preferences struct {
	ReaderID string
	// Disabled lists the kinds the reader turned off: they still reach the
	// inbox but are not pushed. (Kept as the disabled ones so that a kind
	// added later is on for everyone.)
	Disabled []Kind
	// DaysBeforeDue are how many days before a due date the reader is
	// reminded (3 and 1 by default), descending.
	DaysBeforeDue []int
	// Quiet are the hours in which pushes wait (21:00–07:00 by default).
	Quiet QuietHours
	// Language is "vi" or "en" for every push, or "" for each device's own
	// locale (Vietnamese when it has none).
	Language  string
	UpdatedAt time.Time
}

// DefaultPreferences are a reader's preferences until they change them:
// every kind on, reminders 3 and 1 days before a due date, quiet hours
// 21:00–07:00, each device's own language.
func DefaultPreferences(readerID string) *Preferences {
	return &Preferences{
		ReaderID:      readerID,
		Disabled:      []Kind{},
		DaysBeforeDue: []int{3, 1},
		Quiet:         QuietHours{Start: 21 * 60, End: 7 * 60},
	}
}

// Enabled reports whether kind k is pushed.
func (p *Preferences) Enabled(k Kind) bool { return !slices.Contains(p.Disabled, k) }

// EnabledKinds returns the kinds that are pushed, in the order of Kinds.
func (p *Preferences) EnabledKinds() []Kind {
	out := []Kind{}
	for _, k := range Kinds {
		if p.Enabled(k) {
			out = append(out, k)
		}
	}
	return out
}

// PreferencesUpdate changes some preferences; nil fields stay as they are.
type PreferencesUpdate struct {
	// Kinds are the kinds to push; the others are disabled.
	Kinds *[]Kind
	// DaysBeforeDue: 1 … MaxDaysBeforeDue, at most five; empty for no
	// due-date reminders.
	DaysBeforeDue *[]int
	// Quiet: Start == End turns quiet hours off.
	Quiet *QuietHours
	// Language: "vi", "en", or "" for each device's own.
	Language *string
}

// apply returns p changed by u, checked.
func (u PreferencesUpdate) apply(p *Preferences) (*Preferences, error) {
	c := *p
	if u.Kinds != nil {
		for _, k := range *u.Kinds {
			if !k.Valid() {
				return nil, ErrBadKind
			}
		}
		c.Disabled = []Kind{}
		for _, k := range Kinds {
			if !slices.Contains(*u.Kinds, k) {
				c.Disabled = append(c.Disabled, k)
			}
		}
	}
	if u.DaysBeforeDue != nil {
		days := slices.Clone(*u.DaysBeforeDue)
		slices.Sort(days)
		days = slices.Compact(days)
		if len(days) > maxReminders {
			return nil, ErrBadDaysBeforeDue
		}
		for _, d := range days {
			if d < 1 || d > MaxDaysBeforeDue {
				return nil, ErrBadDaysBeforeDue
			}
		}
		slices.Reverse(days)
		if days == nil {
			days = []int{}
		}
		c.DaysBeforeDue = days
	}
	if u.Quiet != nil {
		if !u.Quiet.Start.valid() || !u.Quiet.End.valid() {
			return nil, ErrBadQuietHours
		}
		c.Quiet = *u.Quiet
	}
	if u.Language != nil {
		lang := strings.ToLower(strings.TrimSpace(*u.Language))
		if lang != "" && lang != "vi" && lang != "en" {
			return nil, ErrBadLanguage
		}
		c.Language = lang
	}
	return &c, nil
}

// language picks the language of a push to d: the reader's choice, else
// the device's locale, else Vietnamese.
func (p *Preferences) language(d *Device) string {
	if p.Language != "" {
		return p.Language
	}
	if l := strings.ToLower(d.Locale); strings.HasPrefix(l, "en") {
		return "en"
	}
	return "vi"
}
