package clean

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/beamline/beamline/internal/jsonx"
)

// Layouts tried, in order, for string times in "auto" format. Zone-less layouts are UTC.
var autoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999", // ISO 8601 without zone
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	clfLayout,
	time.RFC1123Z,
	time.RFC1123,
	time.RFC850,
	time.ANSIC,
}

// clfLayout is the time of Apache's and nginx's common log format: 10/Oct/2000:13:55:36 -0700.
const clfLayout = "02/Jan/2006:15:04:05 -0700"

var errNoTime = errors.New("no time value")

// TimeFormats are the formats ParseTime reads.
var TimeFormats = []string{"auto", "rfc3339", "epoch_s", "epoch_ms", "epoch_us", "clf", "datetime"}

// CheckTimeFormat reports whether format is one of TimeFormats.
func CheckTimeFormat(format string) error {
	for _, f := range TimeFormats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("time format %q is not one of %s", format, strings.Join(TimeFormats, ", "))
}

// ParseTime reads a time written in format (one of tag.TimeFormats) and returns it in UTC.
// v is a string, a JSON number or a Go number. Epoch formats accept fractions; "auto" tries
// the string layouts above, and for numbers guesses the unit from the magnitude (seconds up
// to 1e11, milliseconds up to 1e14, microseconds above), which is unambiguous for any time
// between 1973 and 5138.
func ParseTime(v any, format string) (time.Time, error) {
	switch format {
	case "epoch_s":
		return epoch(v, 1e9)
	case "epoch_ms":
		return epoch(v, 1e6)
	case "epoch_us":
		return epoch(v, 1e3)
	}
	s, ok := v.(string)
	if !ok {
		if format == "auto" {
			x, isNum := number(v)
			if !isNum {
				return time.Time{}, fmt.Errorf("%s is not a time", typeName(v))
			}
			return epoch(v, guessUnit(x))
		}
		return time.Time{}, fmt.Errorf("%s is not a time string", typeName(v))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errNoTime
	}
	var layouts []string
	switch format {
	case "rfc3339":
		layouts = autoLayouts[:1]
	case "clf":
		layouts = []string{clfLayout}
	case "datetime":
		layouts = autoLayouts[1:4]
	case "auto":
		if numeric(s) {
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				return epoch(jsonx.Number(s), guessUnit(x))
			}
		}
		layouts = autoLayouts
	default:
		return time.Time{}, fmt.Errorf("unknown time format %q", format)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	tried := strings.Join(layouts, ", ")
	if format == "auto" {
		tried += ", or a decimal epoch number (s, ms or µs by magnitude)"
	}
	return time.Time{}, fmt.Errorf("%q is not a time in format %s: tried %s", clip(s), format, tried)
}

// numeric reports whether s has only the characters of a decimal number: the layouts of
// dates are tried without first paying for a failed ParseFloat, an allocation per record.
func numeric(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

func guessUnit(x float64) float64 {
	switch x = math.Abs(x); {
	case x < 1e11:
		return 1e9
	case x < 1e14:
		return 1e6
	}
	return 1e3
}

// epoch converts a count of units (unit = nanoseconds per unit) since 1970 to a time. Integer
// inputs are converted exactly; fractional ones to the nearest nanosecond.
func epoch(v any, unit float64) (time.Time, error) {
	var s string
	switch x := v.(type) {
	case jsonx.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case int64:
		if math.Abs(float64(x))*unit > math.MaxInt64 { // x*unit would wrap around
			return time.Time{}, fmt.Errorf("epoch %d is out of range", x)
		}
		return time.Unix(0, x*int64(unit)).UTC(), nil
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return time.Time{}, fmt.Errorf("%s is not an epoch time", typeName(v))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if math.Abs(float64(n))*unit > math.MaxInt64 {
			return time.Time{}, fmt.Errorf("epoch %s is out of range", s)
		}
		return time.Unix(0, n*int64(unit)).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("%q is not an epoch number", clip(s))
	}
	if math.Abs(f)*unit > math.MaxInt64 {
		return time.Time{}, fmt.Errorf("epoch %s is out of range", s)
	}
	return time.Unix(0, int64(math.Round(f*unit))).UTC(), nil
}
