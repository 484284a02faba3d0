package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/baseline"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/ratealarm"
	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.DoFn2x0[ratealarm.Alert, func(string)](&renderAlertFn{})
}

// renderAlertFn renders the alerts of key All before Before as "kind@hour", and any alert
// not stamped with Version as "unversioned key kind@hour model_version".
type renderAlertFn struct {
	From    time.Time `json:"from"`
	Before  int       `json:"before"`
	Version string    `json:"version"`
}

func (f *renderAlertFn) ProcessElement(a ratealarm.Alert, emit func(string)) {
	h := int(a.WindowStart.Sub(f.From) / time.Hour)
	if a.ModelVersion != f.Version {
		emit(fmt.Sprintf("unversioned %s %s@%d %q", a.Key, a.Kind, h, a.ModelVersion))
	}
	if a.Key == ratealarm.All && h < f.Before {
		emit(fmt.Sprintf("%s@%d", a.Kind, h))
	}
}

// detectWithPublished runs Detect on prism with BaselineFrom over the published store, over
// the day after the fortnight with 18h tripled: the published version judges, and stamps
// every alert.
func detectWithPublished(t *testing.T, models, version string, day time.Time) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := ordergen.Write(&buf, ordergen.Config{Seed: 6, Start: day, Span: 24 * time.Hour, PerMinute: 1, Anomalies: -1}); err != nil {
		t.Fatal(err)
	}
	var recs []record.Record
	sc := bufio.NewScanner(&buf)
	for i := 0; sc.Scan(); i++ {
		line := append([]byte(nil), sc.Bytes()...)
		copies := 1
		if bytes.Contains(line, []byte(day.Format("2006-01-02")+"T18:")) {
			copies = 3
		}
		for c := range copies {
			recs = append(recs, record.Record{ID: fmt.Sprintf("%d-%d", i, c), Source: "orders", Payload: line})
		}
	}
	p, s := beam.NewPipelineWithRoot()
	parsed, _ := clean.Parse(s, beam.CreateList(s, recs), clean.ParseSpec{Format: "json"})
	orders, dead := clean.Apply(s, parsed, Spec())
	passert.Empty(s, dead)
	counts := ratealarm.Count(s, orders, time.Hour, ratealarm.Dimensions("country"))
	alerts := ratealarm.Detect(s, counts, ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 5, MinExpected: 2}},
		ratealarm.BaselineFrom(models, "order-baseline", time.Hour, time.Minute), ratealarm.MaxQuiet(1))
	passert.Equals(s, beam.ParDo(s, &renderAlertFn{From: day, Before: 24, Version: version}, alerts), "spike@18", "resolved@23")
	ptest.RunAndValidate(t, p)
}

// historyLine wraps a raw order line as pipelines/orders writes it to history/: the record
// envelope with the cleaned order (country upper-cased) under data.
func historyLine(t *testing.T, i int, raw []byte) []byte {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	data["country"] = strings.ToUpper(data["country"].(string))
	at, err := time.Parse(time.RFC3339Nano, data["created_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	r := record.Record{ID: data["order_id"].(string), Source: "orders", Kind: "order", SchemaVersion: 1,
		Origin: "orders.jsonl", Offset: int64(i + 1), IngestTime: at, EventTime: at, Data: data}
	b, err := r.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrainPublishesAUsableBaseline runs the job on prism over a generated fortnight of
// orders (the first week raw, the second as order history, two bad lines): a version lands in
// the store whose "all" baseline is exactly what LearnBaseline learns from the generator's own
// hourly counts, with per-country keys, the data range and the evaluation; the seasonal
// detector loaded from it leaves a normal day alone and flags a tripled hour.
func TestTrainPublishesAUsableBaseline(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	cfg := ordergen.Config{Seed: 5, Start: start, PerMinute: 1, Anomalies: -1}
	var raw bytes.Buffer
	if _, err := ordergen.Write(&raw, cfg); err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	sc := bufio.NewScanner(&raw)
	n := 0
	for ; sc.Scan(); n++ {
		line := sc.Bytes()
		if bytes.Contains(line, []byte(`"created_at":"2026-11-0`)) && !bytes.Contains(line, []byte(`"created_at":"2026-11-09`)) {
			in.Write(line) // first week: raw orders
		} else {
			in.Write(historyLine(t, n, line))
		}
		in.WriteByte('\n')
	}
	in.WriteString(`{"order_id":"O-999999","country":"gb"}` + "\n" + "not json\n")
	input := filepath.Join(dir, "orders.jsonl")
	if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	models, dead := filepath.Join(dir, "models"), filepath.Join(dir, "dead")
	*inputFlag, *modelDirFlag, *deadFlag, *windowFlag, *dimsFlag = input, models, dead, time.Hour, "country"
	defer func() {
		*inputFlag, *modelDirFlag, *deadFlag, *windowFlag, *dimsFlag = "", "", "", time.Minute, ""
	}()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	a, err := modelstore.OpenLatest(ctx, models, "order-baseline", modelstore.WithKind(baseline.Kind))
	if err != nil {
		t.Fatal(err)
	}
	m, err := baseline.FromArtifact(a)
	if err != nil {
		t.Fatal(err)
	}
	minutes, _ := ordergen.Minutes(cfg)
	hours := make([]ratealarm.Point, len(minutes)/60)
	for i, c := range minutes {
		hours[i/60].Start = start.Add(time.Duration(i/60) * time.Hour)
		hours[i/60].Count += float64(c)
	}
	if diff := cmp.Diff(ratealarm.LearnBaseline(hours), m.Baselines[ratealarm.All]); diff != "" {
		t.Errorf("published all baseline differs from LearnBaseline over the generator's hourly counts (-want +got):\n%s", diff)
	}
	for _, k := range []string{"country=GB", "country=DE", "country=JP"} {
		if len(m.Baselines[k]) != 168 {
			t.Errorf("key %s has %d hours, want 168", k, len(m.Baselines[k]))
		}
	}
	d := a.Manifest.Data
	if !d.From.Equal(start) || !d.To.Equal(start.Add(14*24*time.Hour)) || d.Records != int64(n) || d.Input != input {
		t.Errorf("manifest data = %+v, want %s to %s, %d records, input %s", d, start, start.Add(14*24*time.Hour), n, input)
	}
	if m.Window != time.Hour {
		t.Errorf("model window = %s, want 1h", m.Window)
	}
	e, ok := m.Report.Eval[ratealarm.All]
	if !ok || e.Windows != 24 || e.Covered != 24 || e.Within5 < 0.9 {
		t.Errorf("held-out evaluation of all = %+v (present %v), want 24 covered windows, ≥ 90 %% within 5σ", e, ok)
	}
	if got := a.Manifest.Metrics["within_5sd"]; got != e.Within5 {
		t.Errorf("manifest within_5sd = %v, want the report's %v", got, e.Within5)
	}

	// The seasonal detector with the published baseline: the next (normal) day raises
	// nothing; the same day with 18h tripled raises a spike there.
	next, _ := ordergen.Minutes(ordergen.Config{Seed: 6, Start: start.Add(14 * 24 * time.Hour), Span: 24 * time.Hour, PerMinute: 1, Anomalies: -1})
	day := make([]float64, 24)
	for i, c := range next {
		day[i/60] += float64(c)
	}
	det := m.Seasonal(ratealarm.Seasonal{K: 5})
	for _, spike := range []bool{false, true} {
		var st ratealarm.State
		var got []string
		for h, c := range day {
			if spike && h == 18 {
				c *= 3
			}
			if k := det.Observe(&st, start.Add(time.Duration(14*24+h)*time.Hour), c).Kind; k != ratealarm.None {
				got = append(got, string(k)+"@"+time.Duration(h*int(time.Hour)).String())
			}
		}
		want := []string(nil)
		if spike {
			want = []string{"spike@18h0m0s"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("seasonal over the next day (18h tripled: %v) (-want +got):\n%s", spike, diff)
		}
	}

	detectWithPublished(t, models, a.Manifest.Version, start.Add(14*24*time.Hour))

	// The two bad lines are in the dead letter.
	matches, _ := filepath.Glob(filepath.Join(dead, "*.jsonl"))
	reasons := map[string]int{}
	for _, f := range matches {
		body, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			var fl record.Failure
			if err := json.Unmarshal([]byte(line), &fl); err != nil {
				t.Fatalf("dead letter line %q: %v", line, err)
			}
			reasons[record.BaseReason(fl.Reason)]++
		}
	}
	if diff := cmp.Diff(map[string]int{"json_syntax": 1, "missing_field": 1}, reasons); diff != "" {
		t.Errorf("dead letter reasons (-want +got):\n%s", diff)
	}
}

func TestFlagsFailFast(t *testing.T) {
	defer func() {
		*inputFlag, *modelDirFlag, *nameFlag, *windowFlag, *holdOutFlag = "", "", "order-baseline", time.Minute, baseline.DefaultHoldOut
	}()
	tests := []struct {
		input, dir, name string
		window, holdOut  time.Duration
		want             string // the flag the error names
	}{
		{"", "m", "b", time.Minute, time.Hour, "--input"},
		{"in", "", "b", time.Minute, time.Hour, "--model_dir"},
		{"in", "m", "../b", time.Minute, time.Hour, "--name"},
		{"in", "m", "b", 0, time.Hour, "--window"},
		{"in", "m", "b", 7 * time.Minute, time.Hour, "--window"},
		{"in", "m", "b", time.Minute, 0, "--hold_out"},
	}
	for _, tc := range tests {
		*inputFlag, *modelDirFlag, *nameFlag, *windowFlag, *holdOutFlag = tc.input, tc.dir, tc.name, tc.window, tc.holdOut
		_, err := optionsFromFlags(time.Now())
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("flags %+v: error %v, want one naming %s", tc, err, tc.want)
		}
	}
	*inputFlag, *modelDirFlag, *nameFlag, *windowFlag, *holdOutFlag = "in", "m/", "b", 5*time.Minute, time.Hour
	o, err := optionsFromFlags(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	if err != nil || o.ModelDir != "m" || o.Version != "20261122T090000Z" || o.DeadLetter != "m/_dead/b/20261122T090000Z" {
		t.Errorf("good flags: %+v, %v", o, err)
	}
}
