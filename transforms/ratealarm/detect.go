package ratealarm

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Kind is what a detector or the alarm state machine decided about one window.
type Kind string

// The kinds of decision and alert.
const (
	None      Kind = "none"
	Spike     Kind = "spike"
	Drop      Kind = "drop"
	Silence   Kind = "silence"
	Resolved  Kind = "resolved"
	Corrected Kind = "corrected"
)

// Decision is a detector's verdict on one window's count.
type Decision struct {
	Kind     Kind    `json:"kind"`
	Observed float64 `json:"observed"`
	Expected float64 `json:"expected"`
	// Score is signed: positive above the expectation, negative below. Its unit depends on
	// the detector (standard deviations, MADs, or the ratio past a static limit).
	Score float64 `json:"score"`
}

// State is a detector's memory of one key, kept between windows. It is plain data so that a
// stateful DoFn can store it; each detector uses only the fields it needs.
type State struct {
	N    int       `json:"n"`
	Mean float64   `json:"mean"`
	Var  float64   `json:"var"`
	Hist []float64 `json:"hist,omitempty"`
	// Exp and Var2 are the expectations and variances of the windows in Hist (Seasonal).
	Exp  []float64 `json:"exp,omitempty"`
	Var2 []float64 `json:"var2,omitempty"`
}

// Detector judges a series of per-window counts of one key, one window at a time and in
// window order. start is the start of the window (the seasonal detector reads its hour).
type Detector interface {
	Name() string
	Observe(st *State, start time.Time, count float64) Decision
}

// classify turns a score into a decision: |score| ≥ k is a spike or drop, and a drop to zero
// where at least minExpected was expected is silence.
func classify(observed, expected, score, k, minExpected float64) Decision {
	d := Decision{Kind: None, Observed: observed, Expected: expected, Score: score}
	switch {
	case observed == 0 && expected >= minExpected && minExpected > 0 && score <= -k:
		d.Kind = Silence
	case score >= k:
		d.Kind = Spike
	case score <= -k:
		d.Kind = Drop
	}
	return d
}

// Threshold is a static detector: a count above Max is a spike, below Min a drop (and zero a
// silence when Min > 0). The score is observed/Max above, -Min/observed below (capped at -Min-1
// for zero), so its magnitude exceeds 1 exactly when a limit is crossed. Max ≤ 0 disables the
// upper limit.
type Threshold struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

func (Threshold) Name() string { return "threshold" }

func (t Threshold) Observe(_ *State, _ time.Time, c float64) Decision {
	d := Decision{Kind: None, Observed: c, Expected: (t.Min + t.Max) / 2}
	if t.Max <= 0 {
		d.Expected = t.Min
	}
	switch {
	case t.Max > 0 && c > t.Max:
		d.Kind, d.Score = Spike, c/t.Max
	case c < t.Min && c == 0:
		d.Kind, d.Score = Silence, -(t.Min + 1)
	case c < t.Min:
		d.Kind, d.Score = Drop, -t.Min/c
	}
	return d
}

// EWMA keeps an exponentially weighted mean and variance of the counts and scores each
// window by its z-score against them before updating. Nothing is flagged during the first
// WarmUp windows; anomalous windows move the mean with a tenth of the weight and leave the
// variance alone, so a long burst or outage does not become the new normal at once.
type EWMA struct {
	Alpha  float64 `json:"alpha"`
	Z      float64 `json:"z"`
	WarmUp int     `json:"warm_up"`
	// MinExpected is the least expected count for which a zero is silence (default 1).
	MinExpected float64 `json:"min_expected"`
}

func (EWMA) Name() string { return "ewma" }

func (e EWMA) Observe(st *State, _ time.Time, c float64) Decision {
	if st.N == 0 {
		st.N, st.Mean, st.Var = 1, c, 0
		return Decision{Kind: None, Observed: c, Expected: c}
	}
	// Poisson floor on the spread: counts of n have a standard deviation of about √n.
	sd := math.Max(math.Sqrt(st.Var), math.Sqrt(math.Max(st.Mean, 1)))
	d := classify(c, st.Mean, (c-st.Mean)/sd, e.Z, orDefault(e.MinExpected, 1))
	if st.N < e.WarmUp {
		d.Kind = None
	}
	diff := c - st.Mean
	if d.Kind != None {
		st.Mean += e.Alpha / 10 * diff // learn a lasting shift slowly; keep the spread
	} else {
		st.Mean += e.Alpha * diff
		st.Var = (1 - e.Alpha) * (st.Var + e.Alpha*diff*diff)
	}
	st.N++
	return d
}

// MAD scores each window against the median and the median absolute deviation (scaled by
// 1.4826 to estimate a standard deviation) of the trailing Window counts; |score| ≥ K is an
// anomaly. It needs Window/2 counts before it flags anything.
type MAD struct {
	Window      int     `json:"window"`
	K           float64 `json:"k"`
	MinExpected float64 `json:"min_expected"`
}

func (MAD) Name() string { return "mad" }

func (m MAD) Observe(st *State, _ time.Time, c float64) Decision {
	d := Decision{Kind: None, Observed: c, Expected: c}
	if len(st.Hist) >= max(m.Window/2, 3) {
		med, mad := MedianMAD(st.Hist)
		sd := math.Max(1.4826*mad, math.Sqrt(math.Max(med, 1)))
		d = classify(c, med, (c-med)/sd, m.K, orDefault(m.MinExpected, 1))
	}
	st.Hist = append(st.Hist, c)
	if len(st.Hist) > m.Window {
		st.Hist = st.Hist[len(st.Hist)-m.Window:]
	}
	st.N++
	return d
}

// HourStat is the expected count of one window in an hour of the week and its spread.
type HourStat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Baseline maps hour of the week (0 = Sunday 00:00–01:00 UTC, 167 = Saturday 23:00) to the
// expected per-window count in that hour. A daily batch job learns it with LearnBaseline.
type Baseline map[int]HourStat

// HourOfWeek is the Baseline index of t (UTC).
func HourOfWeek(t time.Time) int {
	t = t.UTC()
	return int(t.Weekday())*24 + t.Hour()
}

// Point is one window's count.
type Point struct {
	Start time.Time `json:"start"`
	Count float64   `json:"count"`
}

// LearnBaseline learns the expected count per hour of the week from history: the median
// and 1.4826 × MAD of the counts that fell in each hour, so that anomalies in the history
// barely move it. Hours with no history are absent.
func LearnBaseline(counts []Point) Baseline {
	by := map[int][]float64{}
	for _, p := range counts {
		h := HourOfWeek(p.Start)
		by[h] = append(by[h], p.Count)
	}
	b := Baseline{}
	for h, xs := range by {
		med, mad := MedianMAD(xs)
		b[h] = HourStat{Mean: med, Std: 1.4826 * mad}
	}
	return b
}

// WindowCount is one key's number of events in one event-time window. With allowed
// lateness, a window may be reported more than once: the first report counts the events on
// time, each later one only the late events it adds (panes are discarding), so the total is
// the sum over reports.
type WindowCount struct {
	Key         string    `json:"key"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Count       int64     `json:"count"`
}

// LearnBaselines learns one Baseline per key from window counts such as Count emits (for
// example a day or weeks of them read back by a batch job). Count emits nothing for a window
// without events, so each key's missing windows between its first and last count are taken
// as zero; panes of the same window are summed (see Series).
func LearnBaselines(counts []WindowCount) map[string]Baseline {
	series := Series(counts)
	out := make(map[string]Baseline, len(series))
	for k, pts := range series {
		out[k] = LearnBaseline(pts)
	}
	return out
}

// Series turns window counts into one series of points per key, in window order: the panes
// of a window are summed, and the windows between a key's first and last count that have no
// count are zero (Count emits nothing for an empty window). Counts whose window is empty or
// inverted are ignored; a key's window length is that of its first count.
func Series(counts []WindowCount) map[string][]Point {
	type series struct {
		first, last time.Time
		size        time.Duration
		by          map[time.Time]float64
	}
	keys := map[string]*series{}
	for _, c := range counts {
		size := c.WindowEnd.Sub(c.WindowStart)
		if size <= 0 {
			continue
		}
		start := c.WindowStart.UTC()
		s := keys[c.Key]
		if s == nil {
			s = &series{first: start, last: start, size: size, by: map[time.Time]float64{}}
			keys[c.Key] = s
		}
		s.by[start] += float64(c.Count)
		if start.Before(s.first) {
			s.first = start
		}
		if start.After(s.last) {
			s.last = start
		}
	}
	out := make(map[string][]Point, len(keys))
	for k, s := range keys {
		pts := make([]Point, 0, int(s.last.Sub(s.first)/s.size)+1)
		for t := s.first; !t.After(s.last); t = t.Add(s.size) {
			pts = append(pts, Point{Start: t, Count: s.by[t]})
		}
		out[k] = pts
	}
	return out
}

// Seasonal scores each window against the Baseline of its hour of the week. For each span n
// in Spans (default [1]) it compares the sum of the last n counts with the sum of their
// expectations, in units of the combined spread (each window's max(std, √mean, MinStd)), and
// keeps the score of largest magnitude: one-window spans catch sharp bursts, longer spans
// catch drops and weak bursts that one window's noise hides. Windows in hours missing from
// the baseline raise nothing.
//
// Baseline serves every key; Keys, when set, holds baselines of particular keys (such as
// "country=gb", learned by LearnBaselines) that Detect uses for those keys instead.
type Seasonal struct {
	Baseline    Baseline            `json:"baseline"`
	Keys        map[string]Baseline `json:"keys,omitempty"`
	K           float64             `json:"k"`
	Spans       []int               `json:"spans,omitempty"`
	MinStd      float64             `json:"min_std"`
	MinExpected float64             `json:"min_expected"`
}

func (Seasonal) Name() string { return "seasonal" }

// ForKey returns the detector for key: s with the key's own baseline when Keys has one.
func (s Seasonal) ForKey(key string) Seasonal {
	if b, ok := s.Keys[key]; ok {
		s.Baseline = b
	}
	return s
}

func (s Seasonal) Observe(st *State, start time.Time, c float64) Decision {
	st.N++
	h, ok := s.Baseline[HourOfWeek(start)]
	if !ok {
		st.Hist, st.Exp, st.Var2 = nil, nil, nil
		return Decision{Kind: None, Observed: c, Expected: c}
	}
	sd := math.Max(math.Max(h.Std, math.Sqrt(h.Mean)), math.Max(s.MinStd, 1))
	spans := s.Spans
	if len(spans) == 0 {
		spans = []int{1}
	}
	longest := slices.Max(spans)
	st.Hist = appendLast(st.Hist, c, longest)
	st.Exp = appendLast(st.Exp, h.Mean, longest)
	st.Var2 = appendLast(st.Var2, sd*sd, longest)
	best := 0.0
	for _, n := range spans {
		if n > len(st.Hist) {
			continue
		}
		var o, e, v float64
		for i := len(st.Hist) - n; i < len(st.Hist); i++ {
			o, e, v = o+st.Hist[i], e+st.Exp[i], v+st.Var2[i]
		}
		if z := (o - e) / math.Sqrt(v); math.Abs(z) > math.Abs(best) {
			best = z
		}
	}
	return classify(c, h.Mean, best, s.K, orDefault(s.MinExpected, 1))
}

// appendLast appends x to xs and keeps the last n values.
func appendLast(xs []float64, x float64, n int) []float64 {
	xs = append(xs, x)
	if len(xs) > n {
		xs = append(xs[:0], xs[len(xs)-n:]...)
	}
	return xs
}

// SilenceOnly flags only silence: a zero count where an EWMA of past counts expected at least
// MinExpected. It is the detector for keys whose volume varies too much for a rate alarm but
// must never stop.
type SilenceOnly struct {
	Alpha       float64 `json:"alpha"`
	MinExpected float64 `json:"min_expected"`
}

func (SilenceOnly) Name() string { return "silence" }

func (s SilenceOnly) Observe(st *State, _ time.Time, c float64) Decision {
	d := Decision{Kind: None, Observed: c, Expected: st.Mean}
	if st.N > 0 && c == 0 && st.Mean >= s.MinExpected {
		d.Kind, d.Score = Silence, -st.Mean
	}
	if st.N == 0 {
		st.Mean = c
	} else if c > 0 { // quiet windows do not teach the model that quiet is normal
		st.Mean += s.Alpha * (c - st.Mean)
	}
	st.N++
	return d
}

// MedianMAD returns the median of xs and the median absolute deviation from it.
// xs is not modified.
func MedianMAD(xs []float64) (median, mad float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := append([]float64(nil), xs...)
	median = medianSorted(s)
	for i, x := range s {
		s[i] = math.Abs(x - median)
	}
	return median, medianSorted(s)
}

func medianSorted(s []float64) float64 {
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// Spec names a detector and its parameters in serialisable form, for DoFn configuration.
// Exactly the field named by Detector is used.
type Spec struct {
	Detector  string       `json:"detector"` // threshold | ewma | mad | seasonal | silence
	Threshold *Threshold   `json:"threshold,omitempty"`
	EWMA      *EWMA        `json:"ewma,omitempty"`
	MAD       *MAD         `json:"mad,omitempty"`
	Seasonal  *Seasonal    `json:"seasonal,omitempty"`
	Silence   *SilenceOnly `json:"silence,omitempty"`
}

// Build returns the detector the spec names, or an error naming the missing or bad field.
func (s Spec) Build() (Detector, error) {
	switch s.Detector {
	case "threshold":
		if s.Threshold == nil || (s.Threshold.Min <= 0 && s.Threshold.Max <= 0) {
			return nil, fmt.Errorf("ratealarm: Spec.Threshold needs Min > 0 or Max > 0")
		}
		return *s.Threshold, nil
	case "ewma":
		if s.EWMA == nil || s.EWMA.Alpha <= 0 || s.EWMA.Alpha > 1 || s.EWMA.Z <= 0 {
			return nil, fmt.Errorf("ratealarm: Spec.EWMA needs 0 < Alpha ≤ 1 and Z > 0")
		}
		return *s.EWMA, nil
	case "mad":
		if s.MAD == nil || s.MAD.Window < 3 || s.MAD.K <= 0 {
			return nil, fmt.Errorf("ratealarm: Spec.MAD needs Window ≥ 3 and K > 0")
		}
		return *s.MAD, nil
	case "seasonal":
		if s.Seasonal == nil || (len(s.Seasonal.Baseline) == 0 && len(s.Seasonal.Keys) == 0) || s.Seasonal.K <= 0 {
			return nil, fmt.Errorf("ratealarm: Spec.Seasonal needs a non-empty Baseline or Keys, and K > 0")
		}
		for _, n := range s.Seasonal.Spans {
			if n < 1 {
				return nil, fmt.Errorf("ratealarm: Spec.Seasonal.Spans holds %d; spans must be ≥ 1", n)
			}
		}
		return *s.Seasonal, nil
	case "silence":
		if s.Silence == nil || s.Silence.Alpha <= 0 || s.Silence.MinExpected <= 0 {
			return nil, fmt.Errorf("ratealarm: Spec.Silence needs Alpha > 0 and MinExpected > 0")
		}
		return *s.Silence, nil
	}
	return nil, fmt.Errorf("ratealarm: Spec.Detector %q is not one of threshold, ewma, mad, seasonal, silence", s.Detector)
}
