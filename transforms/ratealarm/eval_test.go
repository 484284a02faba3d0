package ratealarm_test

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/transforms/ratealarm"
)

// The baselines below follow the published definitions of Beam Python's anomaly detectors
// (apache_beam.ml.anomaly.detectors, pydoc): each scores a value against trackers over a
// sliding window of the last 1000 values, scoring before learning, with its default fixed
// threshold. They are written here from those definitions.
//
//	ZScore:       |x − mean| / stdev                      threshold 3
//	RobustZScore: |0.6745 · (x − median) / MAD|           threshold 3
//	IQR:          (Q1 − x)/IQR below Q1, (x − Q3)/IQR above Q3, else 0   threshold 1.5
//
// The sign of x − centre tells a spike from a drop, so their flags can go through the same
// alarm Policy as ours. The trackers here recompute over the whole window each time (Beam's
// are incremental), so their ns/window says nothing about Beam Python's speed.
type beamPy struct {
	name   string
	window int
	score  func(hist []float64, x float64) (score, centre float64, ok bool)
	thresh float64
}

func (b beamPy) Name() string { return b.name }

func (b beamPy) Observe(st *ratealarm.State, _ time.Time, c float64) ratealarm.Decision {
	d := ratealarm.Decision{Kind: ratealarm.None, Observed: c}
	if score, centre, ok := b.score(st.Hist, c); ok && !math.IsNaN(score) {
		d.Expected, d.Score = centre, score
		if score >= b.thresh {
			d.Kind = ratealarm.Spike
			if c < centre {
				d.Kind, d.Score = ratealarm.Drop, -score
			}
			if c == 0 && centre >= 1 {
				d.Kind = ratealarm.Silence
			}
		}
	}
	st.Hist = append(st.Hist, c)
	if len(st.Hist) > b.window {
		st.Hist = st.Hist[1:]
	}
	return d
}

func zscore(h []float64, x float64) (float64, float64, bool) {
	if len(h) < 2 {
		return 0, 0, false
	}
	var m, v float64
	for _, y := range h {
		m += y
	}
	m /= float64(len(h))
	for _, y := range h {
		v += (y - m) * (y - m)
	}
	sd := math.Sqrt(v / float64(len(h)-1))
	if sd == 0 {
		return 0, m, false
	}
	return math.Abs(x-m) / sd, m, true
}

func robustZ(h []float64, x float64) (float64, float64, bool) {
	if len(h) < 2 {
		return 0, 0, false
	}
	med, mad := ratealarm.MedianMAD(h)
	if mad == 0 {
		return 0, med, false
	}
	return math.Abs(0.6745 * (x - med) / mad), med, true
}

func quantile(sorted []float64, q float64) float64 { // linear interpolation
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[i]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

func iqr(h []float64, x float64) (float64, float64, bool) {
	if len(h) < 4 {
		return 0, 0, false
	}
	s := slices.Sorted(slices.Values(h))
	q1, q3 := quantile(s, 0.25), quantile(s, 0.75)
	r := q3 - q1
	if r == 0 {
		return 0, quantile(s, 0.5), false
	}
	switch {
	case x < q1:
		return (q1 - x) / r, quantile(s, 0.5), true
	case x > q3:
		return (x - q3) / r, quantile(s, 0.5), true
	}
	return 0, quantile(s, 0.5), true
}

// Score is one detector's result over a generated fortnight.
type Score struct {
	Detector          string
	Found, Anomalies  int
	FalseAlarms       int
	Days              float64
	Recall, FalsePerD float64
}

func (s Score) String() string {
	return fmt.Sprintf("%-22s recall %.2f (%d/%d)  false alarms %.2f/day (%d in %.0f days)",
		s.Detector, s.Recall, s.Found, s.Anomalies, s.FalsePerD, s.FalseAlarms, s.Days)
}

// evaluate runs d and the policy over 1-minute counts from start and scores its alarms: an
// anomaly is found when an alarm falls in its windows or the next two; an alarm outside every
// anomaly (and those two windows) is false.
func evaluate(d ratealarm.Detector, p ratealarm.Policy, start time.Time, counts []int, an []ordergen.Anomaly) Score {
	var st ratealarm.State
	var as ratealarm.AlarmState
	found := make([]bool, len(an))
	sc := Score{Detector: d.Name(), Anomalies: len(an), Days: float64(len(counts)) / 1440}
	for m, c := range counts {
		t := start.Add(time.Duration(m) * time.Minute)
		k, _ := p.Step(&as, d.Observe(&st, t, float64(c)))
		if k == ratealarm.None || k == ratealarm.Resolved {
			continue
		}
		i := sort.Search(len(an), func(i int) bool { return an[i].End.Add(2 * time.Minute).After(t) })
		if i < len(an) && !t.Before(an[i].Start) {
			found[i] = true
			continue
		}
		sc.FalseAlarms++
	}
	for _, f := range found {
		if f {
			sc.Found++
		}
	}
	sc.Recall = float64(sc.Found) / float64(max(sc.Anomalies, 1))
	sc.FalsePerD = float64(sc.FalseAlarms) / sc.Days
	return sc
}

var evalStart = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// fortnight returns a baseline learned from the two weeks before evalStart (with their own
// anomalies: LearnBaseline is robust to them) and the fortnight to judge.
func fortnight(seed uint64) (ratealarm.Baseline, []int, []ordergen.Anomaly) {
	train, _ := ordergen.Minutes(ordergen.Config{Seed: seed + 1000, Start: evalStart.Add(-14 * 24 * time.Hour)})
	pts := make([]ratealarm.Point, len(train))
	for m, c := range train {
		pts[m] = ratealarm.Point{Start: evalStart.Add(time.Duration(m-len(train)) * time.Minute), Count: float64(c)}
	}
	counts, an := ordergen.Minutes(ordergen.Config{Seed: seed, Start: evalStart, Anomalies: 24})
	return ratealarm.LearnBaseline(pts), counts, an
}

func detectors(b ratealarm.Baseline) []ratealarm.Detector {
	return []ratealarm.Detector{
		ratealarm.Seasonal{Baseline: b, K: 5, Spans: []int{1, 5, 15}},
		ratealarm.Seasonal{Baseline: b, K: 4}, // one window only
		ratealarm.EWMA{Alpha: 0.05, Z: 4, WarmUp: 60},
		ratealarm.MAD{Window: 60, K: 5},
		beamPy{name: "beam-py ZScore", window: 1000, score: zscore, thresh: 3},
		beamPy{name: "beam-py RobustZScore", window: 1000, score: robustZ, thresh: 3},
		beamPy{name: "beam-py IQR", window: 1000, score: iqr, thresh: 1.5},
	}
}

var evalPolicy = ratealarm.Policy{Cooldown: 30, ResolveAfter: 5}

// TestSeasonalRecall holds the seasonal detector to its target over generated fortnights
// (24 injected anomalies each): recall ≥ 0.9 at ≤ 1 false alarm per day.
func TestSeasonalRecall(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		b, counts, an := fortnight(seed)
		sc := evaluate(detectors(b)[0], evalPolicy, evalStart, counts, an)
		t.Logf("seed %d: %v", seed, sc)
		if sc.Recall < 0.9 || sc.FalsePerD > 1 {
			t.Errorf("seed %d: seasonal %v; want recall ≥ 0.9 at ≤ 1 false alarm/day", seed, sc)
		}
	}
}

// BenchmarkDetectors runs every detector over a generated fortnight of 1-minute counts and
// reports recall and false alarms per day beside the time per window:
//
//	go test -run '^$' -bench Detectors -benchtime 1x ./transforms/ratealarm/
func BenchmarkDetectors(b *testing.B) {
	base, counts, an := fortnight(1)
	for _, d := range detectors(base) {
		name := d.Name()
		if s, ok := d.(ratealarm.Seasonal); ok {
			name = fmt.Sprintf("seasonal-spans%v", s.Spans)
		}
		b.Run(name, func(b *testing.B) {
			var sc Score
			for b.Loop() {
				sc = evaluate(d, evalPolicy, evalStart, counts, an)
			}
			b.ReportMetric(sc.Recall, "recall")
			b.ReportMetric(sc.FalsePerD, "false/day")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(counts)), "ns/window")
		})
	}
}

// TestPrintScores prints the table the benchmark reports, for every detector and three
// seeds (go test -v -run PrintScores ./transforms/ratealarm/).
func TestPrintScores(t *testing.T) {
	if testing.Short() {
		t.Skip("slow baselines (sorting 1000 values a window); not run with -short")
	}
	for _, seed := range []uint64{1, 2, 3} {
		b, counts, an := fortnight(seed)
		for _, d := range detectors(b) {
			sc := evaluate(d, evalPolicy, evalStart, counts, an)
			if s, ok := d.(ratealarm.Seasonal); ok {
				sc.Detector = fmt.Sprintf("seasonal spans %v", s.Spans)
			}
			t.Logf("seed %d: %v", seed, sc)
		}
	}
}
