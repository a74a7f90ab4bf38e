package circulation

import (
	"testing"
	"time"
)

func TestTetFollowsTheVietnameseLunarCalendar(t *testing.T) {
	tests := []struct {
		year int
		want string
	}{
		{2024, "2024-02-10"},
		{2025, "2025-01-29"},
		{2026, "2026-02-17"},
		{2027, "2027-02-06"},
		{2028, "2028-01-26"},
		{2029, "2029-02-13"},
		// Years where Vietnam (UTC+7) and China (UTC+8) differ; a Chinese
		// calendar gives 1985-02-20, 2007-02-18 and 2030-02-03. In 2007
		// and 2030 the new moon falls late in the evening in Vietnam and
		// after midnight in China: 2007-02-17 16:14 UT and 2030-02-02
		// 16:07 UT (Meeus, Astronomical Algorithms, ch. 49), 23:07 in
		// Vietnam — so Tết Canh Tuất is 2 February 2030 here.
		{1985, "1985-01-21"},
		{2007, "2007-02-17"},
		{2030, "2030-02-02"},
	}
	for _, tc := range tests {
		if got := DayKey(Tet(tc.year)); got != tc.want {
			t.Errorf("Tết %d = %s, want %s", tc.year, got, tc.want)
		}
	}
}

func TestSolarToLunarRoundTrips(t *testing.T) {
	// Every day of 2020–2031 converts to a lunar date and back.
	for d := civil(2020, time.January, 1); d.Year() < 2032; d = d.AddDate(0, 0, 1) {
		ly, lm, ld, leap := SolarToLunar(d.Year(), d.Month(), d.Day())
		y, m, dd, ok := LunarToSolar(ly, lm, ld, leap)
		if !ok || y != d.Year() || m != d.Month() || dd != d.Day() {
			t.Fatalf("%s → lunar %d-%d-%d leap=%v → %d-%d-%d ok=%v", DayKey(d), ly, lm, ld, leap, y, m, dd, ok)
		}
	}
	// 2023 had a leap 2nd month (tháng 2 nhuận): 2023-03-22 is its first day.
	if y, m, d, leap := SolarToLunar(2023, time.March, 22); y != 2023 || m != 2 || d != 1 || !leap {
		t.Errorf("2023-03-22 = lunar %d-%d-%d leap=%v, want 2023-2-1 leap", y, m, d, leap)
	}
	if _, _, _, ok := LunarToSolar(2024, 2, 1, true); ok {
		t.Error("2024 has no leap 2nd month, but LunarToSolar found one")
	}
}

func TestPublicHolidaysIncludeTetAndTheHungKings(t *testing.T) {
	got := map[string]bool{}
	for _, h := range PublicHolidays(2026) {
		got[DayKey(h.Date)] = true
	}
	for _, want := range []string{"2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
		"2026-04-26", "2026-04-30", "2026-05-01", "2026-09-02"} {
		if !got[want] {
			t.Errorf("%s is not a public holiday of 2026", want)
		}
	}
	if len(got) != 10 {
		t.Errorf("2026 has %d public holidays, want 10", len(got))
	}
	if _, ok := PublicHoliday(time.Date(2026, time.February, 21, 9, 0, 0, 0, time.UTC)); ok {
		t.Error("2026-02-21 is not a holiday")
	}
}
