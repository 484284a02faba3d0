package main

import (
	"sort"
	"strconv"
	"strings"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
)

// Tally is what one metric key adds up: hits, response bytes and 5xx hits.
type Tally struct {
	Hits   int64 `json:"hits"`
	Bytes  int64 `json:"bytes"`
	Errors int64 `json:"errors_5xx"`
}

// Metric is one key's total after the per-key combine.
type Metric struct {
	Key   string
	Tally Tally
}

// Key kinds. A key is its kind, sep, then the parts separated by sep; sep (ASCII unit
// separator) is not in any method, protocol, day or status, and a request target, which could
// hold anything, is always the last part.
const (
	sep          = "\x1f"
	kindRead     = "l" // one per line read
	kindDead     = "x" // x|reason
	kindRefused  = "q" // one per hit the sink (a BigQuery table) refused; it is also under x|reason
	kindStatus   = "s" // s|200
	kindDay      = "d" // d|2009-04-22
	kindHour     = "h" // h|2009-04-22T18
	kindMinute   = "m" // m|2009-04-22T18:52
	kindRequest  = "r" // r|METHOD|PROTOCOL|target: GoAccess's requests panel (not 404, not static)
	kindStatic   = "t" // t|METHOD|PROTOCOL|target: static requests
	kindNotFound = "n" // n|METHOD|PROTOCOL|target: 404s
	kindVisitor  = "v" // v|YYYYMMDD|host|agent: GoAccessVisitorKey
	kindBrowser  = "b" // b|Firefox
	kindOS       = "o" // o|Windows
	kindReferrer = "f" // f|www.example.com
)

// hitKeys calls emit with every metric key one hit counts under. It is the pure core of the
// per-hit step: the per-key sums of these keys are everything the summary is made from.
// Keys are built in buf (returned for reuse) and are only valid during the emit call, so
// counting a hit allocates nothing (unless its agent needs percent-decoding). uas classifies
// the user agent (nil: parse every time).
func hitKeys(h *clean.Hit, buf []byte, uas *features.UserAgentCache, emit func(key []byte, t Tally)) []byte {
	t := Tally{Hits: 1, Bytes: h.Bytes}
	if h.Status >= 500 && h.Status <= 599 {
		t.Errors = 1
	}
	b := strconv.AppendInt(append(buf[:0], kindStatus+sep...), int64(h.Status), 10)
	emit(b, t)
	if !h.Time.IsZero() {
		// The day, hour and minute as time.Format's "2006-01-02", "…T15" and "…T15:04" would
		// write them, in the time's own zone (as logged), digit by digit: a third of the cost.
		y, m, d := h.Time.Date()
		hh, mm, _ := h.Time.Clock()
		var ds [10]byte
		date := features.AppendDigits(append(features.AppendDigits(append(features.AppendDigits(ds[:0], y, 4), '-'), int(m), 2), '-'), d, 2)
		emit(append(append(b[:0], kindDay+sep...), date...), t)
		b = append(append(b[:0], kindHour+sep...), date...)
		b = features.AppendDigits(append(b, 'T'), hh, 2)
		emit(b, t)
		b = append(append(b[:0], kindMinute+sep...), date...)
		b = features.AppendDigits(append(features.AppendDigits(append(b, 'T'), hh, 2), ':'), mm, 2)
		emit(b, t)
	}
	rk := features.GoAccessRequestKey(h)
	kind := kindRequest
	switch {
	case h.Status == 404:
		kind = kindNotFound
	case features.GoAccessIsStatic(rk.Target, features.GoAccessStaticExtensions):
		kind = kindStatic
	}
	b = append(append(append(append(append(append(b[:0], kind+sep...), rk.Method...), sep...), rk.Protocol...), sep...), rk.Target...)
	emit(b, t)
	if vb, ok := features.AppendGoAccessVisitorKey(append(b[:0], kindVisitor+sep...), h); ok {
		b = vb
		emit(b, Tally{Hits: 1})
	}
	ua := uas.Parse(h.UserAgent)
	b = append(b[:0], kindBrowser+sep...)
	if ua.Bot {
		b = append(b, "Crawler: "...)
	}
	if ua.Browser == "" {
		b = append(b, "Unknown"...)
	} else {
		b = append(b, ua.Browser...)
	}
	emit(b, t)
	b = append(b[:0], kindOS+sep...)
	if ua.OS == "" {
		b = append(b, "Unknown"...)
	} else {
		b = append(b, ua.OS...)
	}
	emit(b, t)
	if host := features.ReferrerHost(h.Referer); host != "" {
		emit(append(append(b[:0], kindReferrer+sep...), host...), t)
	}
	return b
}

// deadKey is the key a dead letter counts under.
func deadKey(f *record.Failure) string { return kindDead + sep + f.Reason }

// PathHits is one request in a top list. Method and Protocol are empty when GoAccess found
// none (a request line that is not HTTP).
type PathHits struct {
	Path     string `json:"path"`
	Method   string `json:"method,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Hits     int64  `json:"hits"`
	Bytes    int64  `json:"bytes"`
}

// NameHits is one named item (browser, OS, referrer) with its hits.
type NameHits struct {
	Name  string `json:"name"`
	Hits  int64  `json:"hits"`
	Bytes int64  `json:"bytes"`
}

// Accumulator is the summary being built. Every key reaches it once with its final total
// (the per-key combine before it summed them), so a top list can be kept bounded and still
// be exact: an item cut from it never comes back with more hits.
type Accumulator struct {
	Read     int64            `json:"read"`
	Refused  int64            `json:"refused"`
	DeadBy   map[string]int64 `json:"dead_by"`
	Status   map[string]Tally `json:"status"`
	Days     map[string]Tally `json:"days"`
	Visitors map[string]int64 `json:"visitors"` // YYYY-MM-DD → distinct visitor keys
	Hours    map[string]Tally `json:"hours"`
	Minutes  map[string]Tally `json:"minutes"`
	Browsers map[string]Tally `json:"browsers"`
	OS       map[string]Tally `json:"os"`
	// Top lists, sorted (most hits first), at most Top long.
	Requests  []PathHits `json:"requests"`
	Static    []PathHits `json:"static"`
	NotFound  []PathHits `json:"not_found"`
	Referrers []NameHits `json:"referrers"`
	// Distinct counts of the keys behind the top lists.
	DistinctRequests, DistinctStatic, DistinctNotFound, DistinctReferrers int64
}

func newAccumulator() Accumulator {
	return Accumulator{DeadBy: map[string]int64{}, Status: map[string]Tally{}, Days: map[string]Tally{},
		Visitors: map[string]int64{}, Hours: map[string]Tally{}, Minutes: map[string]Tally{},
		Browsers: map[string]Tally{}, OS: map[string]Tally{}}
}

func addTally(m map[string]Tally, k string, t Tally) {
	c := m[k]
	c.Hits += t.Hits
	c.Bytes += t.Bytes
	c.Errors += t.Errors
	m[k] = c
}

// add folds one key's total into a.
func (a *Accumulator) add(m Metric, top int) {
	kind, rest, _ := strings.Cut(m.Key, sep)
	t := m.Tally
	switch kind {
	case kindRead:
		a.Read += t.Hits
	case kindRefused:
		a.Refused += t.Hits
	case kindDead:
		a.DeadBy[rest] += t.Hits
	case kindStatus:
		addTally(a.Status, rest, t)
	case kindDay:
		addTally(a.Days, rest, t)
	case kindHour:
		addTally(a.Hours, rest, t)
	case kindMinute:
		addTally(a.Minutes, rest, t)
	case kindBrowser:
		addTally(a.Browsers, rest, t)
	case kindOS:
		addTally(a.OS, rest, t)
	case kindVisitor:
		if len(rest) >= 8 {
			a.Visitors[rest[:4]+"-"+rest[4:6]+"-"+rest[6:8]]++
		}
	case kindRequest, kindStatic, kindNotFound:
		parts := strings.SplitN(rest, sep, 3)
		if len(parts) != 3 {
			return
		}
		p := PathHits{Method: parts[0], Protocol: parts[1], Path: parts[2], Hits: t.Hits, Bytes: t.Bytes}
		switch kind {
		case kindRequest:
			a.Requests = insertTop(a.Requests, p, top, pathLess)
			a.DistinctRequests++
		case kindStatic:
			a.Static = insertTop(a.Static, p, top, pathLess)
			a.DistinctStatic++
		default:
			a.NotFound = insertTop(a.NotFound, p, top, pathLess)
			a.DistinctNotFound++
		}
	case kindReferrer:
		a.Referrers = insertTop(a.Referrers, NameHits{Name: rest, Hits: t.Hits, Bytes: t.Bytes}, top, nameLess)
		a.DistinctReferrers++
	}
}

// merge folds b into a.
func (a *Accumulator) merge(b Accumulator, top int) {
	a.Read += b.Read
	a.Refused += b.Refused
	for k, v := range b.DeadBy {
		a.DeadBy[k] += v
	}
	for k, v := range b.Visitors {
		a.Visitors[k] += v
	}
	for _, p := range []struct{ dst, src map[string]Tally }{
		{a.Status, b.Status}, {a.Days, b.Days}, {a.Hours, b.Hours}, {a.Minutes, b.Minutes},
		{a.Browsers, b.Browsers}, {a.OS, b.OS},
	} {
		for k, v := range p.src {
			addTally(p.dst, k, v)
		}
	}
	a.Requests = mergeTop(a.Requests, b.Requests, top, pathLess)
	a.Static = mergeTop(a.Static, b.Static, top, pathLess)
	a.NotFound = mergeTop(a.NotFound, b.NotFound, top, pathLess)
	a.Referrers = mergeTop(a.Referrers, b.Referrers, top, nameLess)
	a.DistinctRequests += b.DistinctRequests
	a.DistinctStatic += b.DistinctStatic
	a.DistinctNotFound += b.DistinctNotFound
	a.DistinctReferrers += b.DistinctReferrers
}

// pathLess orders a top list: most hits first, then by path, method and protocol, so ties
// are cut the same way whatever order the keys arrive in.
func pathLess(a, b PathHits) bool {
	if a.Hits != b.Hits {
		return a.Hits > b.Hits
	}
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	if a.Method != b.Method {
		return a.Method < b.Method
	}
	return a.Protocol < b.Protocol
}

func nameLess(a, b NameHits) bool {
	if a.Hits != b.Hits {
		return a.Hits > b.Hits
	}
	return a.Name < b.Name
}

// insertTop puts x into the sorted list l, keeping at most n items.
func insertTop[T any](l []T, x T, n int, less func(a, b T) bool) []T {
	if len(l) >= n && !less(x, l[len(l)-1]) {
		return l
	}
	i := sort.Search(len(l), func(i int) bool { return less(x, l[i]) })
	l = append(l, x)
	copy(l[i+1:], l[i:])
	l[i] = x
	if len(l) > n {
		l = l[:n]
	}
	return l
}

func mergeTop[T any](a, b []T, n int, less func(a, b T) bool) []T {
	for _, x := range b {
		a = insertTop(a, x, n, less)
	}
	return a
}
