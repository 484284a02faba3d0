package clean

import (
	"sync/atomic"
	"time"
)

// The CLF time, [10/Oct/2000:13:55:36 -0700], read without time.Parse.

// parseCLFTime reads "10/Oct/2000:13:55:36 -0700" at fixed positions. time.Parse would do
// the same work through a general layout interpreter and allocate a *Location per offset;
// this is a few comparisons and one lookup of a cached zone.
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := digits2(s[0:2])
	month := monthOf(s[3:6])
	y1, ok2 := digits2(s[7:9])
	y2, ok3 := digits2(s[9:11])
	hour, ok4 := digits2(s[12:14])
	minute, ok5 := digits2(s[15:17])
	sec, ok6 := digits2(s[18:20])
	zh, ok7 := digits2(s[22:24])
	zm, ok8 := digits2(s[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || month == 0 || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	year := y1*100 + y2
	if day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	off := zh*3600 + zm*60
	if s[21] == '-' {
		off = -off
	}
	return time.Date(year, month, day, hour, minute, sec, 0, zoneAt(off)), true
}

func digits2(s string) (int, bool) {
	a, b := s[0]-'0', s[1]-'0'
	if a > 9 || b > 9 {
		return 0, false
	}
	return int(a)*10 + int(b), true
}

func monthOf(s string) time.Month {
	switch s {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// zones caches one fixed zone per quarter-hour offset from -24h to +24h, shared by every
// parser: time.FixedZone allocates, and a log has one or two offsets.
var zones [193]atomic.Pointer[time.Location]

// zoneAt returns the fixed zone of offset seconds east of UTC.
func zoneAt(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if off%900 != 0 {
		return time.FixedZone("", off)
	}
	i := off/900 + 96
	if i < 0 || i >= len(zones) {
		return time.FixedZone("", off)
	}
	if l := zones[i].Load(); l != nil {
		return l
	}
	l := time.FixedZone("", off)
	zones[i].CompareAndSwap(nil, l)
	return zones[i].Load()
}
