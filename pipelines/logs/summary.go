package main

import (
	"sort"
	"strconv"
)

// Summary is summary.json: the job's counts and aggregates. The GoAccess-compatible fields
// (requests, bytes, status, visitors_by_day, top_paths) follow the definitions of
// transforms/features/goaccess.go.
type Summary struct {
	Input     string `json:"input"`
	LogFormat string `json:"log_format"`

	// LinesRead = Parsed - SinkRefused + Dead, or the job fails. SinkRefused are parsed hits
	// the --output table refused (bq_invalid_row, bq_row_error, bq_retries_exhausted): they
	// are dead letters too, counted in Dead and DeadByReason, and still in the aggregates
	// below, which describe every parsed hit.
	LinesRead    int64            `json:"lines_read"`
	Parsed       int64            `json:"parsed"`
	SinkRefused  int64            `json:"sink_refused"`
	Dead         int64            `json:"dead"`
	DeadByReason map[string]int64 `json:"dead_by_reason"`
	Balanced     bool             `json:"balanced"`

	// Requests are the parsed hits (GoAccess's valid requests), Bytes their response bytes.
	Requests      int64            `json:"requests"`
	Bytes         int64            `json:"bytes"`
	Status        map[string]int64 `json:"status"`
	StatusClasses map[string]int64 `json:"status_classes"`
	// UniqueVisitors is the sum of each day's visitors, as GoAccess reports it.
	UniqueVisitors int64            `json:"unique_visitors"`
	VisitorsByDay  map[string]int64 `json:"visitors_by_day"`
	Days           []DayStats       `json:"days"`
	HitsPerHour    []TimeStats      `json:"hits_per_hour"`
	HitsPerMinute  []TimeStats      `json:"hits_per_minute"`

	// TopPaths is GoAccess's requests panel: hits that are neither 404 nor static files,
	// keyed by target (query string included), method and protocol.
	TopPaths       []PathHits `json:"top_paths"`
	DistinctPaths  int64      `json:"distinct_paths"`
	TopStatic      []PathHits `json:"top_static"`
	DistinctStatic int64      `json:"distinct_static"`
	Top404         []PathHits `json:"top_404"`
	Distinct404    int64      `json:"distinct_404"`
	Referrers      []NameHits `json:"referrers"`
	Browsers       []NameHits `json:"browsers"`
	OS             []NameHits `json:"os"`

	// The error-rate alarm: minutes with at least MinRequests hits whose share of 5xx is
	// above ErrorRate.
	ErrorRate   float64 `json:"error_rate_threshold"`
	MinRequests int64   `json:"min_requests"`
	Alarms      []Alarm `json:"alarms"`
}

// DayStats is one day as logged (the server's offset).
type DayStats struct {
	Day      string `json:"day"`
	Hits     int64  `json:"hits"`
	Visitors int64  `json:"visitors"`
	Bytes    int64  `json:"bytes"`
}

// TimeStats is one hour (YYYY-MM-DDTHH) or minute (YYYY-MM-DDTHH:MM).
type TimeStats struct {
	Time   string `json:"time"`
	Hits   int64  `json:"hits"`
	Bytes  int64  `json:"bytes"`
	Errors int64  `json:"errors_5xx"`
}

// Alarm is one minute whose 5xx share crossed the threshold.
type Alarm struct {
	Minute   string  `json:"minute"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors_5xx"`
	Rate     float64 `json:"rate"`
}

// Alarms returns the minutes of minutes with at least minRequests hits and a 5xx share above
// rate, in time order. It is the pure core of the error-rate alarm.
func Alarms(minutes map[string]Tally, rate float64, minRequests int64) []Alarm {
	out := []Alarm{}
	for m, t := range minutes {
		if t.Hits < minRequests || t.Hits == 0 {
			continue
		}
		if r := float64(t.Errors) / float64(t.Hits); r > rate {
			out = append(out, Alarm{Minute: m, Requests: t.Hits, Errors: t.Errors, Rate: r})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Minute < out[j].Minute })
	return out
}

// summarize turns the accumulator into the summary.
func summarize(a Accumulator, rate float64, minRequests int64) Summary {
	s := Summary{DeadByReason: a.DeadBy, Status: map[string]int64{}, StatusClasses: map[string]int64{},
		VisitorsByDay: map[string]int64{}, ErrorRate: rate, MinRequests: minRequests,
		LinesRead: a.Read, SinkRefused: a.Refused, Days: []DayStats{}, HitsPerHour: series(a.Hours), HitsPerMinute: series(a.Minutes),
		TopPaths: nonNil(a.Requests), DistinctPaths: a.DistinctRequests, TopStatic: nonNil(a.Static),
		DistinctStatic: a.DistinctStatic, Top404: nonNil(a.NotFound), Distinct404: a.DistinctNotFound,
		Referrers: nonNil(a.Referrers), Browsers: named(a.Browsers), OS: named(a.OS),
		Alarms: Alarms(a.Minutes, rate, minRequests)}
	if s.DeadByReason == nil {
		s.DeadByReason = map[string]int64{}
	}
	for _, n := range a.DeadBy {
		s.Dead += n
	}
	for code, t := range a.Status {
		s.Status[code] = t.Hits
		s.Requests += t.Hits
		s.Bytes += t.Bytes
		class := "other"
		if n, err := strconv.Atoi(code); err == nil && n >= 100 && n <= 599 {
			class = strconv.Itoa(n/100) + "xx"
		}
		s.StatusClasses[class] += t.Hits
	}
	s.Parsed = s.Requests
	s.Balanced = s.LinesRead == s.Parsed-s.SinkRefused+s.Dead
	// A day with hits but no visitor (all 4xx) is listed with 0, as GoAccess lists it.
	for day, t := range a.Days {
		v := a.Visitors[day]
		s.Days = append(s.Days, DayStats{Day: day, Hits: t.Hits, Visitors: v, Bytes: t.Bytes})
		s.VisitorsByDay[day] = v
	}
	sort.Slice(s.Days, func(i, j int) bool { return s.Days[i].Day < s.Days[j].Day })
	for day, v := range a.Visitors {
		s.VisitorsByDay[day] = v
		s.UniqueVisitors += v
	}
	return s
}

func series(m map[string]Tally) []TimeStats {
	out := make([]TimeStats, 0, len(m))
	for k, t := range m {
		out = append(out, TimeStats{Time: k, Hits: t.Hits, Bytes: t.Bytes, Errors: t.Errors})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out
}

func named(m map[string]Tally) []NameHits {
	out := make([]NameHits, 0, len(m))
	for k, t := range m {
		out = append(out, NameHits{Name: k, Hits: t.Hits, Bytes: t.Bytes})
	}
	sort.Slice(out, func(i, j int) bool { return nameLess(out[i], out[j]) })
	return out
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}
