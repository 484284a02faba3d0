package ratealarm_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"

	"github.com/beamline/beamline/transforms/ratealarm"
	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.DoFn2x0[ratealarm.Alert, func(string)](&alertsBeforeFn{})
	register.Function1x1[ratealarm.WindowCount, string](countString)
	register.Function1x1[ratealarm.Alert, string](keyAlertFn)
	register.Function1x2[record.Record, beam.EventTime, record.Record](atEventTime)
	register.Emitter1[string]()
}

var base = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // a Monday

// alertsBeforeFn renders alerts of windows that start before Before (minutes after base) as
// "kind@minute", or "kind@minute=observed" with Observed set. Alerts from the end of the
// input, which looks like silence, are left out that way.
type alertsBeforeFn struct {
	From     time.Time     `json:"from"` // zero: base
	Unit     time.Duration `json:"unit"`
	Before   int           `json:"before"`
	Observed bool          `json:"observed"`
}

func (f *alertsBeforeFn) ProcessElement(a ratealarm.Alert, emit func(string)) {
	from := f.From
	if from.IsZero() {
		from = base
	}
	at := int(a.WindowStart.Sub(from) / f.Unit)
	if at >= f.Before {
		return
	}
	if f.Observed {
		emit(fmt.Sprintf("%s@%d=%g", a.Kind, at, a.Observed))
		return
	}
	emit(fmt.Sprintf("%s@%d", a.Kind, at))
}

func countString(c ratealarm.WindowCount) string {
	return fmt.Sprintf("%s@%d=%d", c.Key, int(c.WindowStart.Sub(base)/time.Minute), c.Count)
}

func order(i int, country string) record.Record {
	return record.Record{ID: fmt.Sprint(i), Source: "orders", Data: map[string]any{"country": country}}
}

// stream builds a teststream of perWindow[i] orders in window i of size unit, the
// watermark passing each window as it ends.
func stream(t *testing.T, unit time.Duration, perWindow []int) teststream.Config {
	t.Helper()
	c := teststream.NewConfig()
	id := 0
	for w, n := range perWindow {
		start := base.Add(time.Duration(w) * unit)
		for j := range n {
			ts := start.Add(time.Duration(j) * unit / time.Duration(n+1)).UnixMilli()
			id++
			if err := c.AddElements(ts, order(id, []string{"gb", "de"}[j%2])); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.AdvanceWatermark(start.Add(unit).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AdvanceWatermarkToInfinity(); err != nil {
		t.Fatal(err)
	}
	return c
}

func repeat(n, v int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = v
	}
	return xs
}

// A spike is alarmed in its own window; a second spike within the cooldown is not; the alarm
// resolves after two normal windows.
func TestDetectSpikeAndCooldown(t *testing.T) {
	counts := repeat(20, 10)
	counts[8], counts[13] = 60, 70
	p, s := beam.NewPipelineWithRoot()
	ev := teststream.Create(s, stream(t, time.Minute, counts))
	alerts := ratealarm.Detect(s, ratealarm.Count(s, ev, time.Minute),
		ratealarm.Spec{Detector: "threshold", Threshold: &ratealarm.Threshold{Min: 5, Max: 30}},
		ratealarm.WithPolicy(ratealarm.Policy{Cooldown: 10, ResolveAfter: 2, Critical: 3}))
	passert.Equals(s, beam.ParDo(s, &alertsBeforeFn{Unit: time.Minute, Before: 20}, alerts),
		"spike@8", "resolved@10")
	ptest.RunAndValidate(t, p)
}

// A key that goes quiet is alarmed from timers: windows 10–17 have no events at all.
func TestDetectSilenceFromTimers(t *testing.T) {
	counts := repeat(24, 20)
	for i := 10; i < 18; i++ {
		counts[i] = 0
	}
	p, s := beam.NewPipelineWithRoot()
	ev := teststream.Create(s, stream(t, time.Minute, counts))
	alerts := ratealarm.Detect(s, ratealarm.Count(s, ev, time.Minute, ratealarm.Dimensions("country")),
		ratealarm.Spec{Detector: "ewma", EWMA: &ratealarm.EWMA{Alpha: 0.2, Z: 3, WarmUp: 5}},
		ratealarm.WithPolicy(ratealarm.Policy{Cooldown: 3, ResolveAfter: 2}), ratealarm.ModelVersion("v1"))
	// Each of all, country=gb and country=de goes silent at 10 and resolves at 19.
	passert.Equals(s, beam.ParDo(s, &alertsBeforeFn{Unit: time.Minute, Before: 24}, alerts),
		"silence@10", "silence@10", "silence@10", "resolved@19", "resolved@19", "resolved@19")
	ptest.RunAndValidate(t, p)
}

// A normal day (hourly windows following the learned seasonal baseline) raises nothing; the
// same day with one hour tripled raises one spike, so the quiet day is not a blind detector.
func TestDetectSeasonalDayIsQuiet(t *testing.T) {
	shape := func(h int) float64 { return 30 + 20*math.Sin(float64(h-6)*math.Pi/12) }
	var hist []ratealarm.Point
	for d := 1; d <= 21; d++ {
		for h := range 24 {
			c := shape(h) + float64((d*7+h)%5) - 2
			hist = append(hist, ratealarm.Point{Start: base.Add(time.Duration(-d*24+h) * time.Hour), Count: c})
		}
	}
	b := ratealarm.LearnBaseline(hist)
	day := make([]int, 24)
	for h := range day {
		day[h] = int(math.Round(shape(h))) + h%3 - 1
	}
	spiky := append([]int(nil), day...)
	spiky[14] *= 3
	spec := ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{Baseline: b, K: 4}}
	for _, tc := range []struct {
		counts []int
		want   []string
	}{{day, nil}, {spiky, []string{"spike@14", "resolved@19"}}} {
		p, s := beam.NewPipelineWithRoot() // prism runs one TestStream per pipeline
		ev := teststream.Create(s, stream(t, time.Hour, tc.counts))
		alerts := ratealarm.Detect(s, ratealarm.Count(s, ev, time.Hour), spec, ratealarm.MaxQuiet(2))
		got := beam.ParDo(s, &alertsBeforeFn{Unit: time.Hour, Before: 24}, alerts)
		if tc.want == nil {
			passert.Empty(s, got)
		} else {
			passert.Equals(s, got, beam.CreateList(s, tc.want))
		}
		ptest.RunAndValidate(t, p)
	}
}

// Late data within the allowed lateness updates the window's count, and a sent alarm for that
// window is repeated as "corrected" with the new count.
func TestLateDataCorrects(t *testing.T) {
	c := teststream.NewConfig()
	m := func(min, sec int) int64 {
		return base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second).UnixMilli()
	}
	c.AddElements(m(0, 1), order(1, "gb"), order(2, "gb"), order(3, "de"))
	c.AddElements(m(1, 1), order(4, "gb"))
	c.AdvanceWatermark(m(2, 0))
	c.AddElements(m(2, 1), order(5, "gb"))
	c.AdvanceWatermark(m(3, 0))
	c.AddElements(m(0, 30), order(6, "de")) // 3 minutes late for window 0
	c.AdvanceWatermark(m(4, 0))
	c.AddElements(m(0, 40), order(7, "de")) // too late: dropped
	c.AdvanceWatermarkToInfinity()
	p, s := beam.NewPipelineWithRoot()
	ev := teststream.Create(s, c)
	counts := ratealarm.Count(s, ev, time.Minute, ratealarm.Dimensions("country"), ratealarm.AllowedLateness(150*time.Second))
	passert.Equals(s, beam.WindowInto(s, window.NewGlobalWindows(), beam.ParDo(s, countString, counts)),
		"all@0=3", "country=gb@0=2", "country=de@0=1", "all@1=1", "country=gb@1=1", "all@2=1", "country=gb@2=1",
		"all@0=1", "country=de@0=1") // the late pane carries the late event only
	alerts := ratealarm.Detect(s, counts, ratealarm.Spec{Detector: "threshold", Threshold: &ratealarm.Threshold{Max: 2}},
		ratealarm.Lateness(150*time.Second), ratealarm.MaxQuiet(1))
	passert.Equals(s, beam.ParDo(s, &alertsBeforeFn{Unit: time.Minute, Before: 1, Observed: true}, alerts),
		"spike@0=3", "corrected@0=4")
	ptest.RunAndValidate(t, p)
}

func TestConstructionPanics(t *testing.T) {
	for name, f := range map[string]func(s beam.Scope, in beam.PCollection){
		"negative window": func(s beam.Scope, in beam.PCollection) { ratealarm.Count(s, in, -time.Second) },
		"bad spec":        func(s beam.Scope, in beam.PCollection) { ratealarm.Detect(s, in, ratealarm.Spec{Detector: "ewma"}) },
		"max quiet": func(s beam.Scope, in beam.PCollection) {
			ratealarm.Detect(s, in, ratealarm.Spec{Detector: "threshold", Threshold: &ratealarm.Threshold{Max: 1}}, ratealarm.MaxQuiet(0))
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			_, s := beam.NewPipelineWithRoot()
			f(s, beam.Create(s, ratealarm.WindowCount{}))
		}()
	}
}

// keyAlertFn renders an alert as "key kind@minute" (minutes after base).
func keyAlertFn(a ratealarm.Alert) string {
	return fmt.Sprintf("%s %s@%d", a.Key, a.Kind, int(a.WindowStart.Sub(base)/time.Minute))
}

// When the input ends, the windows after it are judged empty: silence, unless Detect is told
// the input is bounded (a batch input: a list, not a teststream, which is unbounded). A key
// that went quiet before the end is still alarmed either way.
func TestDetectBoundedInputEnd(t *testing.T) {
	c := teststream.NewConfig()
	var recs []record.Record
	for m := range 20 {
		start := base.Add(time.Duration(m) * time.Minute)
		for j := range 8 {
			country := "gb"
			if j%2 == 1 {
				if m >= 10 {
					continue // de goes quiet at minute 10
				}
				country = "de"
			}
			r := order(m*8+j, country)
			r.EventTime = start.Add(time.Duration(j) * time.Second)
			recs = append(recs, r)
			if err := c.AddElements(r.EventTime.UnixMilli(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.AdvanceWatermark(start.Add(time.Minute).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AdvanceWatermarkToInfinity(); err != nil {
		t.Fatal(err)
	}
	spec := ratealarm.Spec{Detector: "threshold", Threshold: &ratealarm.Threshold{Min: 3}}
	for _, tc := range []struct {
		name    string
		bounded bool
		want    []string
	}{
		{"unbounded", false, []string{"country=de silence@10", "all silence@20", "country=gb silence@20"}},
		{"bounded", true, []string{"country=de silence@10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, s := beam.NewPipelineWithRoot()
			opts := []ratealarm.DetectOption{ratealarm.MaxQuiet(3)}
			var events beam.PCollection
			if tc.bounded {
				events = beam.ParDo(s, atEventTime, beam.CreateList(s, recs))
				opts = append(opts, ratealarm.BoundedInput())
			} else {
				events = teststream.Create(s, c)
			}
			alerts := ratealarm.Detect(s, ratealarm.Count(s, events, time.Minute, ratealarm.Dimensions("country")), spec, opts...)
			passert.Equals(s, beam.ParDo(s, keyAlertFn, alerts), beam.CreateList(s, tc.want))
			ptest.RunAndValidate(t, p)
		})
	}
}

// atEventTime gives a record its EventTime as element timestamp.
func atEventTime(r record.Record) (beam.EventTime, record.Record) {
	return mtime.FromTime(r.EventTime), r
}
