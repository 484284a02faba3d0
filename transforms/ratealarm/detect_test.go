package ratealarm_test

import (
	"slices"
	"testing"
	"time"

	"github.com/beamline/beamline/transforms/ratealarm"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // a Monday

// run feeds counts one per minute from t0 and returns the kinds decided.
func run(d ratealarm.Detector, counts []float64) []ratealarm.Kind {
	var st ratealarm.State
	out := make([]ratealarm.Kind, len(counts))
	for i, c := range counts {
		out[i] = d.Observe(&st, t0.Add(time.Duration(i)*time.Minute), c).Kind
	}
	return out
}

func flat(n int, v float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = v + float64(i%3) - 1 // 99, 100, 101 … a little noise
	}
	return xs
}

func TestDetectors(t *testing.T) {
	base := ratealarm.Baseline{}
	for h := 0; h < 168; h++ {
		base[h] = ratealarm.HourStat{Mean: 100, Std: 5}
	}
	dets := map[string]ratealarm.Detector{
		"threshold": ratealarm.Threshold{Min: 50, Max: 150},
		"ewma":      ratealarm.EWMA{Alpha: 0.1, Z: 4, WarmUp: 10},
		"mad":       ratealarm.MAD{Window: 30, K: 5},
		"seasonal":  ratealarm.Seasonal{Baseline: base, K: 4},
	}
	tests := []struct {
		name  string
		last  float64
		want  ratealarm.Kind
		skipT bool
	}{
		{"normal", 102, ratealarm.None, false},
		{"spike", 400, ratealarm.Spike, false},
		{"drop", 20, ratealarm.Drop, false},
		{"silence", 0, ratealarm.Silence, false},
	}
	for name, d := range dets {
		for _, tc := range tests {
			got := run(d, append(flat(40, 100), tc.last))
			for i, k := range got[:40] {
				if k != ratealarm.None {
					t.Errorf("%s %s: window %d of steady traffic = %s, want none", name, tc.name, i, k)
				}
			}
			if got[40] != tc.want {
				t.Errorf("%s: Observe(%v) after steady 100 = %s, want %s", name, tc.last, got[40], tc.want)
			}
		}
	}
}

func TestEWMAWarmUp(t *testing.T) {
	xs := []float64{10, 10, 500} // a burst inside the warm-up is not flagged
	for range 30 {
		xs = append(xs, 10)
	}
	got := run(ratealarm.EWMA{Alpha: 0.2, Z: 3, WarmUp: 5}, append(xs, 500))
	want := make([]ratealarm.Kind, len(got))
	for i := range want {
		want[i] = ratealarm.None
	}
	want[len(want)-1] = ratealarm.Spike
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("window %d = %s, want %s (all: %v)", i, got[i], want[i], got)
		}
	}
}

func TestMADRobustToOutliers(t *testing.T) {
	xs := flat(30, 100)
	xs[5], xs[12], xs[20] = 1000, 1000, 0 // outliers in the trailing window
	xs = append(xs, 104)
	if got := run(ratealarm.MAD{Window: 30, K: 5}, xs); got[30] != ratealarm.None {
		t.Errorf("MAD after outliers: Observe(104) = %s, want none", got[30])
	}
}

func TestSeasonalUsesHourOfWeek(t *testing.T) {
	// Learn from two weeks where 09:00 Mondays is busy (200) and every other hour is 20.
	var hist []ratealarm.Point
	start := t0.Add(-14 * 24 * time.Hour).Truncate(24 * time.Hour)
	for m := 0; m < 14*24*60; m += 5 {
		ts := start.Add(time.Duration(m) * time.Minute)
		c := 20.0 + float64(m%3)
		if ts.Weekday() == time.Monday && ts.Hour() == 9 {
			c = 200 + float64(m%7)
		}
		hist = append(hist, ratealarm.Point{Start: ts, Count: c})
	}
	b := ratealarm.LearnBaseline(hist)
	if got := b[ratealarm.HourOfWeek(t0)].Mean; got < 200 || got > 207 {
		t.Fatalf("LearnBaseline: Monday 09h mean = %v, want 200–207", got)
	}
	d := ratealarm.Seasonal{Baseline: b, K: 4}
	var st ratealarm.State
	if got := d.Observe(&st, t0, 203).Kind; got != ratealarm.None {
		t.Errorf("Seasonal: 203 on Monday 09h = %s, want none", got)
	}
	if got := d.Observe(&st, t0.Add(time.Hour), 203).Kind; got != ratealarm.Spike {
		t.Errorf("Seasonal: 203 on Monday 10h = %s, want spike", got)
	}
	if got := d.Observe(&st, t0, 90).Kind; got != ratealarm.Drop {
		t.Errorf("Seasonal: 90 on Monday 09h = %s, want drop", got)
	}
}

func TestSilenceOnly(t *testing.T) {
	got := run(ratealarm.SilenceOnly{Alpha: 0.1, MinExpected: 5}, []float64{10, 3, 0, 40, 0})
	want := []ratealarm.Kind{"none", "none", "silence", "none", "silence"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("window %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func TestSpecBuild(t *testing.T) {
	for _, s := range []ratealarm.Spec{
		{Detector: "ewma"},
		{Detector: "mad", MAD: &ratealarm.MAD{Window: 1, K: 3}},
		{Detector: "nope"},
		{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 3}},
	} {
		if _, err := s.Build(); err == nil {
			t.Errorf("Spec%+v.Build() = nil error, want one", s)
		}
	}
	if d, err := (ratealarm.Spec{Detector: "threshold", Threshold: &ratealarm.Threshold{Max: 3}}).Build(); err != nil || d.Name() != "threshold" {
		t.Errorf("threshold Build = %v, %v", d, err)
	}
}

func TestPolicy(t *testing.T) {
	p := ratealarm.Policy{Cooldown: 6, ResolveAfter: 2, Critical: 6}
	sp := ratealarm.Decision{Kind: ratealarm.Spike, Score: 5}
	big := ratealarm.Decision{Kind: ratealarm.Spike, Score: 9}
	no := ratealarm.Decision{Kind: ratealarm.None, Observed: 10}
	zero := ratealarm.Decision{Kind: ratealarm.None} // normal by score, but still nothing
	dr := ratealarm.Decision{Kind: ratealarm.Drop, Score: -5}
	si := ratealarm.Decision{Kind: ratealarm.Silence, Score: -50}
	steps := []struct {
		d        ratealarm.Decision
		kind     ratealarm.Kind
		severity string
	}{
		{no, ratealarm.None, ""},
		{sp, ratealarm.Spike, ratealarm.Warning},    // 2: alarm
		{big, ratealarm.None, ""},                   // 3: same kind while active: de-duplicated
		{no, ratealarm.None, ""},                    // 4: one normal window
		{no, ratealarm.Resolved, ""},                // 5: two: resolved
		{big, ratealarm.None, ""},                   // 6: within cooldown of 2
		{no, ratealarm.None, ""},                    // 7
		{dr, ratealarm.None, ""},                    // 8: still cooling down
		{si, ratealarm.Silence, ratealarm.Critical}, // silence breaks through
		{si, ratealarm.None, ""},                    // de-duplicated
		{zero, ratealarm.None, ""},                  // a zero never resolves silence
		{no, ratealarm.None, ""},
		{no, ratealarm.Resolved, ""},
		{no, ratealarm.None, ""},
		{no, ratealarm.None, ""},
		{no, ratealarm.None, ""},
		{no, ratealarm.None, ""},
		{big, ratealarm.Spike, ratealarm.Critical}, // cooldown over
	}
	var st ratealarm.AlarmState
	for i, s := range steps {
		k, sev := p.Step(&st, s.d)
		if k != s.kind || sev != s.severity {
			t.Errorf("step %d: Step(%s) = %s/%s, want %s/%s", i+1, s.d.Kind, k, sev, s.kind, s.severity)
		}
	}
}

func TestLearnBaselinesPerKeyFillsGaps(t *testing.T) {
	var wcs []ratealarm.WindowCount
	for m := 0; m < 120; m++ {
		start := t0.Add(time.Duration(m) * time.Minute)
		wcs = append(wcs, ratealarm.WindowCount{Key: "all", WindowStart: start, WindowEnd: start.Add(time.Minute), Count: 30})
		if m%3 == 0 { // a rare key: Count emits nothing in its empty windows
			wcs = append(wcs, ratealarm.WindowCount{Key: "country=jp", WindowStart: start, WindowEnd: start.Add(time.Minute), Count: 2})
		}
	}
	// A late pane of an "all" window adds to it.
	wcs = append(wcs, ratealarm.WindowCount{Key: "all", WindowStart: t0, WindowEnd: t0.Add(time.Minute), Count: 1})
	got := ratealarm.LearnBaselines(wcs)
	h := ratealarm.HourOfWeek(t0)
	if b := got["all"][h]; b.Mean != 30 {
		t.Errorf("all: %+v, want mean 30", b)
	}
	if b := got["country=jp"][h]; b.Mean != 0 {
		t.Errorf("country=jp: %+v, want median 0 (two empty windows in three)", b)
	}
	// Detect uses a key's own baseline: 30 orders is normal for all, a spike for jp.
	s := ratealarm.Seasonal{Baseline: got["all"], Keys: map[string]ratealarm.Baseline{"country=jp": got["country=jp"]}, K: 4}
	var st ratealarm.State
	if k := s.ForKey("all").Observe(&st, t0, 30).Kind; k != ratealarm.None {
		t.Errorf("all: 30 = %s, want none", k)
	}
	st = ratealarm.State{}
	if k := s.ForKey("country=jp").Observe(&st, t0, 30).Kind; k != ratealarm.Spike {
		t.Errorf("country=jp: 30 = %s, want spike", k)
	}
}

// Spans let the seasonal detector see a long moderate drop that no single window shows.
func TestSeasonalSpans(t *testing.T) {
	b := ratealarm.Baseline{ratealarm.HourOfWeek(t0): {Mean: 20, Std: 4.5}}
	counts := append(flat(20, 20), 11, 10, 9, 11, 10, 9, 10, 11, 10, 9) // halved for ten minutes
	one := run(ratealarm.Seasonal{Baseline: b, K: 4}, counts)
	multi := run(ratealarm.Seasonal{Baseline: b, K: 4, Spans: []int{1, 5}}, counts)
	if slices.Contains(one, ratealarm.Drop) {
		t.Errorf("span 1 flagged the moderate drop: %v", one)
	}
	if !slices.Contains(multi[20:], ratealarm.Drop) || slices.Contains(multi[:20], ratealarm.Drop) {
		t.Errorf("spans 1, 5: %v, want a drop only after window 20", multi)
	}
}
