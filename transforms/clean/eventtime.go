package clean

import (
	"fmt"
	"time"
)

// TimeChecker reads and bounds event times: the pure core of EventTime.
type TimeChecker struct {
	Field  string
	Format string
	// Earliest accepted time; zero means DefaultEarliest.
	Earliest time.Time
	// MaxAhead is how far past Now a time may be; zero means DefaultMaxAhead.
	MaxAhead time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	path path
}

// Defaults for TimeChecker: times before 2000 or more than a day ahead are absurd for event
// data (an epoch-seconds value read as milliseconds lands in 1970, the reverse in 50000 AD).
var (
	DefaultEarliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	DefaultMaxAhead = 24 * time.Hour
)

// Init checks the settings.
func (c *TimeChecker) Init() error {
	if c.Field == "" {
		return fmt.Errorf("clean: EventTime field is required")
	}
	if err := CheckTimeFormat(c.Format); err != nil {
		return fmt.Errorf("clean: EventTime %s: %v", c.Field, err)
	}
	c.path = splitPath(c.Field)
	if c.Earliest.IsZero() {
		c.Earliest = DefaultEarliest
	}
	if c.MaxAhead == 0 {
		c.MaxAhead = DefaultMaxAhead
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Time returns the event time of data.
func (c *TimeChecker) Time(data map[string]any) (time.Time, *Error) {
	v, _ := c.path.get(data)
	return c.TimeOf(v)
}

// TimeOf reads and bounds an event-time value (a string or a number); nil or "" is missing.
func (c *TimeChecker) TimeOf(v any) (time.Time, *Error) {
	if v == nil || v == "" {
		return time.Time{}, reject(fieldReason(ReasonMissingField, c.Field), nil, "event-time field %s is missing", c.Field)
	}
	t, err := ParseTime(v, c.Format)
	if err != nil {
		return time.Time{}, reject(fieldReason(ReasonBadTimestamp, c.Field), err, "event-time field %s: %v", c.Field, err)
	}
	if t.Before(c.Earliest) {
		return time.Time{}, reject(fieldReason(ReasonTimeTooOld, c.Field), nil, "event time %s is before %s", t.Format(time.RFC3339), c.Earliest.Format(time.RFC3339))
	}
	if limit := c.Now().Add(c.MaxAhead); t.After(limit) {
		return time.Time{}, reject(fieldReason(ReasonTimeInFuture, c.Field), nil, "event time %s is more than %s ahead of now", t.Format(time.RFC3339), c.MaxAhead)
	}
	return t, nil
}
