package baseline_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/baseline"
	"github.com/beamline/beamline/transforms/ratealarm"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function1x2[baseline.Trained, string, error](trainedJSON)
}

func trainedJSON(t baseline.Trained) (string, error) {
	b, err := json.Marshal(t)
	return string(b), err
}

var t0 = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC) // a Monday

// hourly returns hourly counts of key from t0 for days days: 10 + the hour of the day, and
// f(day, hour) added.
func hourly(key string, days int, f func(d, h int) int64) []ratealarm.WindowCount {
	var out []ratealarm.WindowCount
	for d := range days {
		for h := range 24 {
			start := t0.Add(time.Duration(d*24+h) * time.Hour)
			n := int64(10+h) + f(d, h)
			if n == 0 {
				continue // Count emits nothing for an empty window
			}
			out = append(out, ratealarm.WindowCount{Key: key, WindowStart: start, WindowEnd: start.Add(time.Hour), Count: n})
		}
	}
	return out
}

func none(int, int) int64 { return 0 }

func TestFit(t *testing.T) {
	tests := []struct {
		name     string
		counts   []ratealarm.WindowCount
		want     map[string]baseline.Eval // held-out evaluation per key; nil: none
		wantNote bool
	}{{
		name:   "steady fortnight predicts its last day exactly",
		counts: hourly("all", 14, none),
		want:   map[string]baseline.Eval{"all": {Windows: 24, Covered: 24, MeanCount: 21.5, Within3: 1, Within5: 1}},
	}, {
		name: "last day doubled is far outside the spread",
		counts: hourly("all", 14, func(d, h int) int64 {
			if d == 13 {
				return int64(10 + h)
			}
			return 0
		}),
		want: map[string]baseline.Eval{"all": {Windows: 24, Covered: 24, MeanCount: 43, MAE: 21.5, RelMAE: 0.5, Within3: 0, Within5: 15.0 / 24}}, // z = √(10+h): under 5 before 15h,
	}, {
		name:   "a key absent from the held-out day is not scored",
		counts: append(hourly("all", 14, none), hourly("country=JP", 3, none)...),
		want:   map[string]baseline.Eval{"all": {Windows: 24, Covered: 24, MeanCount: 21.5, Within3: 1, Within5: 1}},
	}, {
		name:     "one day is too short to hold one out",
		counts:   hourly("all", 1, none),
		wantNote: true,
	}, {
		name:     "no counts",
		wantNote: true,
	}}
	for _, tc := range tests {
		got := baseline.Fit(tc.counts, 24*time.Hour)
		if diff := cmp.Diff(ratealarm.LearnBaselines(tc.counts), got.Baselines); diff != "" {
			t.Errorf("%s: Fit baselines differ from LearnBaselines (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.want, got.Report.Eval, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
			t.Errorf("%s: Fit eval (-want +got):\n%s", tc.name, diff)
		}
		if (got.Report.Note != "") != tc.wantNote {
			t.Errorf("%s: Fit note = %q, want a note: %v", tc.name, got.Report.Note, tc.wantNote)
		}
	}
}

func TestFitReportRange(t *testing.T) {
	counts := append(hourly("all", 14, none), hourly("country=GB", 14, none)...)
	r := baseline.Fit(counts, 0).Report
	want := baseline.Report{
		From: t0, To: t0.Add(14 * 24 * time.Hour), Window: "1h0m0s", Keys: []string{"all", "country=GB"},
		Windows: 2 * 14 * 24, Events: 14 * (24*10 + 276), HoldOut: "24h0m0s", EvalFrom: t0.Add(13 * 24 * time.Hour),
	}
	r.Eval = nil
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Fit report (-want +got):\n%s", diff)
	}
}

func TestEvaluate(t *testing.T) {
	b := ratealarm.Baseline{ratealarm.HourOfWeek(t0): {Mean: 100, Std: 5}}
	tests := []struct {
		obs  float64
		at   time.Time
		want baseline.Eval
	}{
		{100, t0, baseline.Eval{Windows: 1, Covered: 1, MeanCount: 100, Within3: 1, Within5: 1}},
		{140, t0, baseline.Eval{Windows: 1, Covered: 1, MeanCount: 140, MAE: 40, RelMAE: 40.0 / 140, Within3: 0, Within5: 1}}, // 4σ with σ = √100
		{100, t0.Add(time.Hour), baseline.Eval{Windows: 1}},                                                                   // an hour the baseline does not know
	}
	for _, tc := range tests {
		got := baseline.Evaluate(b, []ratealarm.Point{{Start: tc.at, Count: tc.obs}})
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Evaluate(%v at %s) (-want +got):\n%s", tc.obs, tc.at, diff)
		}
	}
}

func TestArtifactRoundTrip(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tr := baseline.Fit(append(hourly("all", 14, none), hourly("country=GB", 14, none)...), 0)
	m, files, err := tr.Artifact("order-baseline", modelstore.TrainingData{Input: "orders/*.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := modelstore.Publish(ctx, root, "order-baseline", m, files)
	if err != nil {
		t.Fatal(err)
	}
	a, err := modelstore.OpenLatest(ctx, root, "order-baseline", modelstore.WithKind(baseline.Kind))
	if err != nil {
		t.Fatal(err)
	}
	got, err := baseline.FromArtifact(a)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != v || got.Name != "order-baseline" || got.Window != time.Hour {
		t.Errorf("FromArtifact = %s %s window %s, want order-baseline %s window 1h", got.Name, got.Version, got.Window, v)
	}
	if diff := cmp.Diff(tr.Baselines, got.Baselines); diff != "" {
		t.Errorf("baselines after the round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tr.Report, got.Report); diff != "" {
		t.Errorf("report after the round trip (-want +got):\n%s", diff)
	}
	d := a.Manifest.Data
	if !d.From.Equal(t0) || !d.To.Equal(t0.Add(14*24*time.Hour)) || d.Records != tr.Report.Events || d.Input != "orders/*.jsonl" {
		t.Errorf("manifest data = %+v, want %s–%s, %d records, the input", d, t0, t0.Add(14*24*time.Hour), tr.Report.Events)
	}
	for _, k := range []string{"mae", "within_3sd", "within_5sd", "eval_windows", "keys"} {
		if _, ok := a.Manifest.Metrics[k]; !ok {
			t.Errorf("manifest metrics %v lack %s", a.Manifest.Metrics, k)
		}
	}
	if a.Manifest.Metrics["within_3sd"] != 1 {
		t.Errorf("within_3sd = %v on a steady history, want 1", a.Manifest.Metrics["within_3sd"])
	}
	// The seasonal detector uses it: the learned hour is normal, five times it a spike.
	s := got.Seasonal(ratealarm.Seasonal{K: 5})
	var st ratealarm.State
	at := t0.Add(20 * time.Hour)
	if k := s.ForKey("country=GB").Observe(&st, at, 30).Kind; k != ratealarm.None {
		t.Errorf("30 at 20h = %s, want none", k)
	}
	if k := s.ForKey("country=GB").Observe(&st, at, 150).Kind; k != ratealarm.Spike {
		t.Errorf("150 at 20h = %s, want spike", k)
	}
}

func TestArtifactRefusesEmpty(t *testing.T) {
	if _, _, err := (baseline.Trained{}).Artifact("x", modelstore.TrainingData{}); err == nil {
		t.Error("Artifact of an empty Trained = nil error, want one")
	}
}

func TestFromArtifactRefuses(t *testing.T) {
	good := `{"all":{"0":{"mean":1,"std":1}}}`
	tests := []struct {
		name  string
		kind  string
		files map[string][]byte
		want  error
	}{
		{"another kind", "textclass.linear", map[string][]byte{baseline.FileBaselines: []byte(good)}, modelstore.ErrIncompatible},
		{"no baselines file", baseline.Kind, map[string][]byte{baseline.FileReport: []byte(`{}`)}, modelstore.ErrCorrupt},
		{"not JSON", baseline.Kind, map[string][]byte{baseline.FileBaselines: []byte(`{"all":`)}, modelstore.ErrCorrupt},
		{"hour out of the week", baseline.Kind, map[string][]byte{baseline.FileBaselines: []byte(`{"all":{"168":{"mean":1,"std":1}}}`)}, modelstore.ErrCorrupt},
		{"negative std", baseline.Kind, map[string][]byte{baseline.FileBaselines: []byte(`{"all":{"3":{"mean":1,"std":-1}}}`)}, modelstore.ErrCorrupt},
		{"empty", baseline.Kind, map[string][]byte{baseline.FileBaselines: []byte(`{"all":{}}`)}, modelstore.ErrCorrupt},
		{"bad report", baseline.Kind, map[string][]byte{baseline.FileBaselines: []byte(good), baseline.FileReport: []byte(`[`)}, modelstore.ErrCorrupt},
	}
	for _, tc := range tests {
		a := &modelstore.Artifact{Manifest: modelstore.Manifest{Kind: tc.kind}, Files: tc.files}
		if _, err := baseline.FromArtifact(a); !errors.Is(err, tc.want) {
			t.Errorf("%s: FromArtifact error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Train on prism gives what Fit gives, from counts in fixed windows as Count emits them.
func TestTrainMatchesFit(t *testing.T) {
	counts := append(hourly("all", 3, none), hourly("country=GB", 3, func(d, h int) int64 { return int64(-(10 + h) * (h % 2)) })...)
	want, err := trainedJSON(baseline.Fit(counts, 12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	got := beam.ParDo(s, trainedJSON, baseline.Train(s, beam.CreateList(s, counts), baseline.HoldOut(12*time.Hour)))
	passert.Equals(s, got, want)
	ptest.RunAndValidate(t, p)
}

func TestTrainPanicsOnBadHoldOut(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Train with HoldOut(-1h): no panic")
		}
	}()
	_, s := beam.NewPipelineWithRoot()
	baseline.Train(s, beam.Create(s, ratealarm.WindowCount{}), baseline.HoldOut(-time.Hour))
}

func BenchmarkFit(b *testing.B) {
	// A fortnight of one-minute windows over eight keys.
	var counts []ratealarm.WindowCount
	for m := range 14 * 24 * 60 {
		start := t0.Add(time.Duration(m) * time.Minute)
		for _, k := range []string{"all", "country=DE", "country=FR", "country=GB", "country=US", "country=SE", "country=PL", "country=JP"} {
			counts = append(counts, ratealarm.WindowCount{Key: k, WindowStart: start, WindowEnd: start.Add(time.Minute), Count: int64(5 + m%7)})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		baseline.Fit(counts, 0)
	}
}
