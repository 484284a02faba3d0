package ratealarm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/transforms/ratealarm"
)

func init() {
	register.DoFn2x0[ratealarm.Alert, func(string)](&alertVersionFn{})
}

// alertVersionFn renders alerts of windows before Before (hours after base) as
// "kind@hour/model_version".
type alertVersionFn struct {
	Before int `json:"before"`
}

func (f *alertVersionFn) ProcessElement(a ratealarm.Alert, emit func(string)) {
	if at := int(a.WindowStart.Sub(base) / time.Hour); at < f.Before {
		emit(fmt.Sprintf("%s@%d/%s", a.Kind, at, a.ModelVersion))
	}
}

// flatBaseline expects mean orders per window in every hour of the week.
func flatBaseline(mean, std float64) map[string]ratealarm.Baseline {
	b := ratealarm.Baseline{}
	for h := range 168 {
		b[h] = ratealarm.HourStat{Mean: mean, Std: std}
	}
	return map[string]ratealarm.Baseline{ratealarm.All: b}
}

// publish stores baselines learned at hourly windows as a version created at created, of kind
// (ratealarm.BaselineKind when empty), and returns the version.
func publish(t *testing.T, root, name, kind string, created time.Time, baselines any) string {
	t.Helper()
	return publishAt(t, root, name, kind, time.Hour, created, baselines)
}

// publishAt is publish for baselines learned at window (0: the manifest does not say).
func publishAt(t *testing.T, root, name, kind string, window time.Duration, created time.Time, baselines any) string {
	t.Helper()
	if kind == "" {
		kind = ratealarm.BaselineKind
	}
	b, err := json.Marshal(baselines)
	if err != nil {
		t.Fatal(err)
	}
	m := modelstore.Manifest{Kind: kind, CreatedAt: created}
	if window > 0 {
		m.Features, _ = json.Marshal(ratealarm.BaselineFeatures{Window: window.String()})
	}
	v, err := modelstore.Publish(context.Background(), root, name, m, map[string][]byte{ratealarm.BaselinesFile: b})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A newer version that is corrupt, of another kind, learned at another count window (or not
// saying which) or not a valid baseline is refused; the
// version held keeps judging; a good newer version is taken, but only once the refresh
// interval has passed.
func TestBaselineSourceKeepsTheGoodVersion(t *testing.T) {
	ctx := context.Background()
	root, name := t.TempDir(), "order-baseline"
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	v1 := publish(t, root, name, "", day, flatBaseline(30, 3))
	src := ratealarm.NewBaselineSource(root, name, time.Hour, time.Minute)
	now := time.Now()
	if _, v, err := src.Current(ctx, now); v != v1 || err != nil {
		t.Fatalf("Current = %s, %v; want %s, nil", v, err, v1)
	}
	steps := []struct {
		name    string
		publish func(created time.Time) // publishes a newer version; nil: nothing new
		after   time.Duration           // since the previous step's read
		want    string                  // version held after; "" means v1
		wantErr error
	}{
		{"checksum mismatch", func(c time.Time) {
			v := publish(t, root, name, "", c, flatBaseline(300, 3))
			if err := os.WriteFile(filepath.Join(root, name, v, ratealarm.BaselinesFile), []byte(`{"all":{"0":{"mean":9,"std":1}}}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, time.Minute, "", modelstore.ErrCorrupt},
		{"another kind", func(c time.Time) { publish(t, root, name, "textclass.linear", c, flatBaseline(300, 3)) }, time.Minute, "", modelstore.ErrIncompatible},
		{"negative mean", func(c time.Time) {
			publish(t, root, name, "", c, map[string]ratealarm.Baseline{"all": {0: {Mean: -1}}})
		}, time.Minute, "", modelstore.ErrCorrupt},
		{"not a baseline", func(c time.Time) { publish(t, root, name, "", c, []int{1, 2}) }, time.Minute, "", modelstore.ErrCorrupt},
		{"learned at 5-minute windows", func(c time.Time) {
			publishAt(t, root, name, "", 5*time.Minute, c, flatBaseline(3, 1))
		}, time.Minute, "", modelstore.ErrIncompatible},
		{"window not stated", func(c time.Time) { publishAt(t, root, name, "", 0, c, flatBaseline(3, 1)) }, time.Minute, "", modelstore.ErrIncompatible},
		{"good, within the refresh interval", func(c time.Time) { publish(t, root, name, "", c, flatBaseline(60, 3)) }, 30 * time.Second, "", modelstore.ErrIncompatible},
		{"good, once the interval has passed", nil, time.Minute, day.Add(7 * time.Hour).Format("20060102T150405Z"), nil},
	}
	for i, st := range steps {
		if st.publish != nil {
			st.publish(day.Add(time.Duration(i+1) * time.Hour))
		}
		now = now.Add(st.after)
		m, v, err := src.Current(ctx, now)
		want := st.want
		if want == "" {
			want = v1
		}
		if v != want || !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Errorf("%s: Current = %s, %v; want %s, %v", st.name, v, err, want, st.wantErr)
		}
		// The version held still judges: 90 orders where it expects 30 (or 60) is a spike.
		d := ratealarm.Seasonal{K: 5}.WithBaselines(m)
		var s ratealarm.State
		if k := d.Observe(&s, base, 200).Kind; k != ratealarm.Spike {
			t.Errorf("%s: the held baseline judges 200 as %s, want spike", st.name, k)
		}
	}
}

// Detect on prism with BaselineFrom judges with the published baseline and stamps its version
// on every alert, though the spec holds no baseline.
func TestDetectBaselineFromStore(t *testing.T) {
	root, name := t.TempDir(), "order-baseline"
	v := publish(t, root, name, "", time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC), flatBaseline(30, 3))
	counts := repeat(24, 30)
	counts[14] = 90
	p, s := beam.NewPipelineWithRoot()
	ev := ratealarm.Count(s, teststream.Create(s, stream(t, time.Hour, counts)), time.Hour)
	alerts := ratealarm.Detect(s, ev, ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 4}},
		ratealarm.BaselineFrom(root, name, time.Hour, time.Minute), ratealarm.MaxQuiet(2), ratealarm.ModelVersion("replaced"))
	passert.Equals(s, beam.ParDo(s, &alertVersionFn{Before: 24}, alerts), "spike@14/"+v, "resolved@19/"+v)
	ptest.RunAndValidate(t, p)
}

// With nothing published and no baseline of its own, Detect fails rather than judge blind.
func TestDetectBaselineFromEmptyStoreFails(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	ev := ratealarm.Count(s, teststream.Create(s, stream(t, time.Hour, repeat(3, 10))), time.Hour)
	ratealarm.Detect(s, ev, ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 4}},
		ratealarm.BaselineFrom(t.TempDir(), "order-baseline", time.Hour, time.Minute), ratealarm.MaxQuiet(1))
	if err := ptest.Run(p); err == nil {
		t.Error("Detect with BaselineFrom over an empty store ran without error, want a failure")
	}
}

// Counts of another window than the one BaselineFrom was given fail the job with a message
// naming both windows, rather than judging hourly counts against per-half-hour expectations.
func TestDetectBaselineFromOtherWindowFails(t *testing.T) {
	root, name := t.TempDir(), "order-baseline"
	publishAt(t, root, name, "", 30*time.Minute, time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC), flatBaseline(15, 3))
	p, s := beam.NewPipelineWithRoot()
	ev := ratealarm.Count(s, teststream.Create(s, stream(t, time.Hour, repeat(3, 30))), time.Hour)
	ratealarm.Detect(s, ev, ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 4}},
		ratealarm.BaselineFrom(root, name, 30*time.Minute, time.Minute), ratealarm.MaxQuiet(1))
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), "count of a 1h0m0s window") {
		t.Errorf("Detect over hourly counts with a half-hour BaselineFrom: err = %v, want a failure naming the 1h0m0s window", err)
	}
}

func TestBaselineFromPanics(t *testing.T) {
	seasonal := ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 4}}
	tests := []struct {
		name string
		spec ratealarm.Spec
		opt  ratealarm.DetectOption
	}{
		{"not seasonal", ratealarm.Spec{Detector: "ewma", EWMA: &ratealarm.EWMA{Alpha: 0.1, Z: 4}}, ratealarm.BaselineFrom("/tmp/m", "b", time.Minute, 0)},
		{"no root", seasonal, ratealarm.BaselineFrom("", "b", time.Minute, 0)},
		{"no name", seasonal, ratealarm.BaselineFrom("/tmp/m", "", time.Minute, 0)},
		{"no window", seasonal, ratealarm.BaselineFrom("/tmp/m", "b", 0, 0)},
		{"negative refresh", seasonal, ratealarm.BaselineFrom("/tmp/m", "b", time.Minute, -time.Second)},
		{"no K", ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{}}, ratealarm.BaselineFrom("/tmp/m", "b", time.Minute, 0)},
		{"no baseline without the store", seasonal, ratealarm.MaxQuiet(3)},
	}
	for _, tc := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Detect did not panic", tc.name)
				}
			}()
			_, s := beam.NewPipelineWithRoot()
			ratealarm.Detect(s, beam.Create(s, ratealarm.WindowCount{}), tc.spec, tc.opt)
		}()
	}
}

// BenchmarkBaselineSourceCurrent is the per-element cost BaselineFrom adds to Detect between
// reads of the store.
func BenchmarkBaselineSourceCurrent(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	bj, _ := json.Marshal(flatBaseline(30, 3))
	if _, err := modelstore.Publish(ctx, root, "m", modelstore.Manifest{Kind: ratealarm.BaselineKind},
		map[string][]byte{ratealarm.BaselinesFile: bj}); err != nil {
		b.Fatal(err)
	}
	src := ratealarm.NewBaselineSource(root, "m", 0, time.Hour)
	now := time.Now()
	if m, _, err := src.Current(ctx, now); m == nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if m, _, _ := src.Current(ctx, now); m == nil {
			b.Fatal("no baseline")
		}
	}
}
