package circulation

import (
	"math"
	"time"
)

// The Vietnamese lunisolar calendar (âm lịch), after Hồ Ngọc Đức,
// "Computing the Vietnamese lunar calendar" (1999–2004), whose astronomy is
// Jean Meeus, "Astronomical Algorithms" (1998): months begin on the day of
// the new moon, the 11th month contains the winter solstice, and a year of
// 13 months repeats the first month that contains no major solar term.
// Days are counted in the time zone of Vietnam, UTC+7 — which is why the
// Vietnamese calendar sometimes differs from the Chinese one (UTC+8): Tết
// fell on 1985-01-21 and 2007-02-17 in Vietnam but on 1985-02-20 and
// 2007-02-18 in China, and falls on 2030-02-02 here but 2030-02-03 there
// (the new moon is at 23:07 in Vietnam, 00:07 in China). A Chinese-calendar
// library (github.com/6tail/lunar-go, say) is therefore wrong for Vietnam
// in such years; this is the algorithm Vietnamese calendars use.
//
// The functions work on Julian day numbers; the error of the new-moon
// formula (minutes) matters only for new moons within minutes of midnight,
// none of which falls on a first month between 1900 and 2100.

// vnTimeZone is the offset of Vietnam from UTC in hours.
const vnTimeZone = 7.0

// jdFromDate returns the Julian day number of a Gregorian date.
func jdFromDate(dd, mm, yy int) int {
	a := (14 - mm) / 12
	y := yy + 4800 - a
	m := mm + 12*a - 3
	jd := dd + (153*m+2)/5 + 365*y + y/4 - y/100 + y/400 - 32045
	if jd < 2299161 {
		jd = dd + (153*m+2)/5 + 365*y + y/4 - 32083
	}
	return jd
}

// jdToDate returns the Gregorian date of a Julian day number.
func jdToDate(jd int) (dd, mm, yy int) {
	var b, c int
	if jd > 2299160 {
		a := jd + 32044
		b = (4*a + 3) / 146097
		c = a - (b*146097)/4
	} else {
		c = jd + 32082
	}
	d := (4*c + 3) / 1461
	e := c - (1461*d)/4
	m := (5*e + 2) / 153
	dd = e - (153*m+2)/5 + 1
	mm = m + 3 - 12*(m/10)
	yy = b*100 + d - 4800 + m/10
	return dd, mm, yy
}

// newMoon returns the Julian date (UTC) of the k-th new moon after the one
// of 1900-01-01.
func newMoon(k int) float64 {
	fk := float64(k)
	t := fk / 1236.85
	t2, t3 := t*t, t*t*t
	dr := math.Pi / 180
	jd1 := 2415020.75933 + 29.53058868*fk + 0.0001178*t2 - 0.000000155*t3
	jd1 += 0.00033 * math.Sin((166.56+132.87*t-0.009173*t2)*dr)
	m := 359.2242 + 29.10535608*fk - 0.0000333*t2 - 0.00000347*t3
	mpr := 306.0253 + 385.81691806*fk + 0.0107306*t2 + 0.00001236*t3
	f := 21.2964 + 390.67050646*fk - 0.0016528*t2 - 0.00000239*t3
	c1 := (0.1734-0.000393*t)*math.Sin(m*dr) + 0.0021*math.Sin(2*dr*m)
	c1 = c1 - 0.4068*math.Sin(mpr*dr) + 0.0161*math.Sin(dr*2*mpr)
	c1 -= 0.0004 * math.Sin(dr*3*mpr)
	c1 = c1 + 0.0104*math.Sin(dr*2*f) - 0.0051*math.Sin(dr*(m+mpr))
	c1 = c1 - 0.0074*math.Sin(dr*(m-mpr)) + 0.0004*math.Sin(dr*(2*f+m))
	c1 = c1 - 0.0004*math.Sin(dr*(2*f-m)) - 0.0006*math.Sin(dr*(2*f+mpr))
	c1 = c1 + 0.0010*math.Sin(dr*(2*f-mpr)) + 0.0005*math.Sin(dr*(2*mpr+m))
	var deltaT float64
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	} else {
		deltaT = -0.000278 + 0.000265*t + 0.000262*t2
	}
	return jd1 + c1 - deltaT
}

// sunLongitude returns the sun's apparent longitude, in radians in
// [0, 2π), at Julian date jdn (UTC).
func sunLongitude(jdn float64) float64 {
	t := (jdn - 2451545.0) / 36525
	t2 := t * t
	dr := math.Pi / 180
	m := 357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2
	l0 := 280.46645 + 36000.76983*t + 0.0003032*t2
	dl := (1.914600 - 0.004817*t - 0.000014*t2) * math.Sin(dr*m)
	dl += (0.019993-0.000101*t)*math.Sin(dr*2*m) + 0.000290*math.Sin(dr*3*m)
	l := (l0 + dl) * dr
	return l - math.Pi*2*math.Floor(l/(math.Pi*2))
}

// newMoonDay returns the Julian day number of the local day of the k-th new moon.
func newMoonDay(k int) int {
	return int(math.Floor(newMoon(k) + 0.5 + vnTimeZone/24))
}

// sunSector returns which of the 12 major solar terms (30° sectors) the
// sun is in at the start of the local day jd.
func sunSector(jd int) int {
	return int(math.Floor(sunLongitude(float64(jd)-0.5-vnTimeZone/24) / math.Pi * 6))
}

// lunarMonth11 returns the Julian day number of the first day of the 11th
// lunar month of Gregorian year yy (the month of the winter solstice).
func lunarMonth11(yy int) int {
	off := jdFromDate(31, 12, yy) - 2415021
	k := int(math.Floor(float64(off) / 29.530588853))
	nm := newMoonDay(k)
	if sunSector(nm) >= 9 {
		nm = newMoonDay(k - 1)
	}
	return nm
}

// leapMonthOffset returns the offset, from the 11th month starting on a11,
// of the leap month of a 13-month year: the first month without a major
// solar term.
func leapMonthOffset(a11 int) int {
	k := int(math.Floor((float64(a11)-2415021.076998695)/29.530588853 + 0.5))
	i := 1
	arc := sunSector(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = sunSector(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}

// LunarToSolar returns the Gregorian date of a day of the Vietnamese lunar
// calendar: day of month month (1–12) of lunar year year, leap for the
// repeated month. ok is false when the year has no such leap month.
func LunarToSolar(year, month, day int, leap bool) (y int, m time.Month, d int, ok bool) {
	var a11, b11 int
	if month < 11 {
		a11, b11 = lunarMonth11(year-1), lunarMonth11(year)
	} else {
		a11, b11 = lunarMonth11(year), lunarMonth11(year+1)
	}
	k := int(math.Floor(0.5 + (float64(a11)-2415021.076998695)/29.530588853))
	off := month - 11
	if off < 0 {
		off += 12
	}
	if b11-a11 > 365 {
		leapOff := leapMonthOffset(a11)
		leapMonth := leapOff - 2
		if leapMonth < 0 {
			leapMonth += 12
		}
		if leap && month != leapMonth {
			return 0, 0, 0, false
		}
		if leap || off >= leapOff {
			off++
		}
	} else if leap {
		return 0, 0, 0, false
	}
	dd, mm, yy := jdToDate(newMoonDay(k+off) + day - 1)
	return yy, time.Month(mm), dd, true
}

// SolarToLunar returns the Vietnamese lunar date of a Gregorian date: the
// lunar year, month (1–12), day, and whether the month is a leap month.
func SolarToLunar(y int, m time.Month, d int) (year, month, day int, leap bool) {
	dayNumber := jdFromDate(d, int(m), y)
	k := int(math.Floor((float64(dayNumber) - 2415021.076998695) / 29.530588853))
	monthStart := newMoonDay(k + 1)
	if monthStart > dayNumber {
		monthStart = newMoonDay(k)
	}
	a11 := lunarMonth11(y)
	b11 := a11
	if a11 >= monthStart {
		year = y
		a11 = lunarMonth11(y - 1)
	} else {
		year = y + 1
		b11 = lunarMonth11(y + 1)
	}
	day = dayNumber - monthStart + 1
	diff := (monthStart - a11) / 29
	month = diff + 11
	if b11-a11 > 365 {
		leapDiff := leapMonthOffset(a11)
		if diff >= leapDiff {
			month = diff + 10
			leap = diff == leapDiff
		}
	}
	if month > 12 {
		month -= 12
	}
	if month >= 11 && diff < 4 {
		year--
	}
	return year, month, day, leap
}

// Tet returns the first day of lunar year year (Tết Nguyên Đán), as a
// date at midnight in the province's zone.
func Tet(year int) time.Time {
	y, m, d, _ := LunarToSolar(year, 1, 1, false)
	return civil(y, m, d)
}
