package thuvienso

import (
	"time"
	// The province's zone must resolve on machines without a zoneinfo
	// database (minimal containers).
	_ "time/tzdata"
)

// Zone is the province's time zone, Asia/Ho_Chi_Minh (UTC+7, no daylight
// saving). Times shown to people and day boundaries (due dates, quiet hours)
// are computed in it; times are stored in UTC.
var Zone = mustLoadZone("Asia/Ho_Chi_Minh")

func mustLoadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("load time zone " + name + ": " + err.Error())
	}
	return loc
}
