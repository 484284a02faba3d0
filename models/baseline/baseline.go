// Package baseline learns the hour-of-week rate baselines of ratealarm's seasonal detector
// in a daily batch job, evaluates them on a held-out last day, and lays them out as a
// versioned model-store artifact that a running Detect follows (ratealarm.BaselineFrom).
//
// The core is plain Go: Fit learns one ratealarm.Baseline per key from window counts with
// ratealarm.LearnBaselines and scores a baseline learned without the last day against that
// day (Evaluate). Train is the Beam wrapper, Artifact and FromArtifact the store format:
//
//	trained := baseline.Train(s, ratealarm.Count(s, orders, time.Minute, ratealarm.Dimensions("country")))
//	// then, in a DoFn: m, files, _ := t.Artifact("order-baseline", data); modelstore.Publish(ctx, root, "order-baseline", m, files)
package baseline

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/transforms/ratealarm"
)

// Kind and files of a published baseline. baselines.json is what ratealarm reads
// (ratealarm.DecodeBaselines); report.json is the evaluation, for people and dashboards.
const (
	Kind          = ratealarm.BaselineKind
	FileBaselines = ratealarm.BaselinesFile
	FileReport    = "report.json"
)

// DefaultHoldOut is how much of the end of the history Fit keeps out to evaluate on.
const DefaultHoldOut = 24 * time.Hour

// Eval is how well a baseline predicted held-out windows of one key. The spread of a window
// is max(std, √mean, 1), as the seasonal detector's with MinStd ≤ 1, so WithinK says how many
// windows the detector at that K would have left alone.
type Eval struct {
	Windows   int     `json:"windows"`    // held-out windows
	Covered   int     `json:"covered"`    // of which the baseline knew the hour of the week
	MeanCount float64 `json:"mean_count"` // mean observed count of the covered windows
	MAE       float64 `json:"mae"`        // mean |observed − expected| over the covered windows
	RelMAE    float64 `json:"rel_mae"`    // MAE / MeanCount (0 when MeanCount is 0)
	Within3   float64 `json:"within_3sd"` // share of covered windows with |z| < 3
	Within5   float64 `json:"within_5sd"` // share of covered windows with |z| < 5
}

// Evaluate scores baseline b against the observed points pts.
func Evaluate(b ratealarm.Baseline, pts []ratealarm.Point) Eval {
	e := Eval{Windows: len(pts)}
	var sumAbs, sumObs float64
	var in3, in5 int
	for _, p := range pts {
		h, ok := b[ratealarm.HourOfWeek(p.Start)]
		if !ok {
			continue
		}
		e.Covered++
		d := math.Abs(p.Count - h.Mean)
		sumAbs += d
		sumObs += p.Count
		z := d / math.Max(math.Max(h.Std, math.Sqrt(h.Mean)), 1)
		if z < 3 {
			in3++
		}
		if z < 5 {
			in5++
		}
	}
	if e.Covered == 0 {
		return e
	}
	n := float64(e.Covered)
	e.MAE, e.MeanCount = sumAbs/n, sumObs/n
	e.Within3, e.Within5 = float64(in3)/n, float64(in5)/n
	if e.MeanCount > 0 {
		e.RelMAE = e.MAE / e.MeanCount
	}
	return e
}

// Report describes a training run: the data and the held-out evaluation per key.
type Report struct {
	From    time.Time `json:"from"`   // start of the first window
	To      time.Time `json:"to"`     // end of the last window
	Window  string    `json:"window"` // window length, e.g. "1m0s"
	Keys    []string  `json:"keys"`
	Windows int       `json:"windows"` // windows learned from, over every key
	Events  int64     `json:"events"`  // events counted under ratealarm.All (or every key without it)
	// HoldOut is the length of the held-out end of the history, EvalFrom where it starts.
	// Eval is empty, and Note says why, when the history is too short to hold any out.
	HoldOut  string          `json:"hold_out"`
	EvalFrom time.Time       `json:"eval_from,omitzero"`
	Eval     map[string]Eval `json:"eval,omitempty"`
	Note     string          `json:"note,omitempty"`
}

// Trained is what Train produces: the baselines learned from the whole history, and the
// report of a baseline learned without the held-out end, scored on it.
type Trained struct {
	Baselines map[string]ratealarm.Baseline `json:"baselines"`
	Report    Report                        `json:"report"`
}

// Fit learns per-key baselines from counts (as Count emits them; see ratealarm.Series for
// gaps and panes) and evaluates: baselines learned from the windows that start before the
// last holdOut of the history (which ends at the latest window end) are scored on the windows
// after. The published baselines learn from everything. holdOut ≤ 0 means DefaultHoldOut.
// Fit returns an empty Trained for no counts.
func Fit(counts []ratealarm.WindowCount, holdOut time.Duration) Trained {
	if holdOut <= 0 {
		holdOut = DefaultHoldOut
	}
	series := ratealarm.Series(counts)
	t := Trained{Baselines: ratealarm.LearnBaselines(counts), Report: Report{HoldOut: holdOut.String()}}
	if len(series) == 0 {
		t.Report.Note = "no counts"
		return t
	}
	r := &t.Report
	var size time.Duration
	for _, c := range counts {
		if c.WindowEnd.Sub(c.WindowStart) <= 0 {
			continue
		}
		if r.From.IsZero() || c.WindowStart.Before(r.From) {
			r.From = c.WindowStart.UTC()
		}
		if c.WindowEnd.After(r.To) {
			r.To = c.WindowEnd.UTC()
		}
		if size == 0 {
			size = c.WindowEnd.Sub(c.WindowStart)
		}
	}
	r.Window = size.String()
	var eventsAll, eventsAny int64
	for _, c := range counts {
		if c.Key == ratealarm.All {
			eventsAll += c.Count
		}
		eventsAny += c.Count
	}
	r.Events = eventsAll
	if _, ok := series[ratealarm.All]; !ok {
		r.Events = eventsAny
	}
	for k, pts := range series {
		r.Keys = append(r.Keys, k)
		r.Windows += len(pts)
	}
	sort.Strings(r.Keys)

	cut := r.To.Add(-holdOut)
	if !cut.After(r.From) {
		r.Note = fmt.Sprintf("history %s–%s is not longer than the hold-out %s: nothing left to evaluate on",
			r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), holdOut)
		return t
	}
	r.EvalFrom, r.Eval = cut, map[string]Eval{}
	for k, pts := range series {
		i := sort.Search(len(pts), func(i int) bool { return !pts[i].Start.Before(cut) })
		if i == 0 || i == len(pts) {
			continue // the key has no history before the cut, or none after it
		}
		r.Eval[k] = Evaluate(ratealarm.LearnBaseline(pts[:i]), pts[i:])
	}
	return t
}

// Artifact lays t out for modelstore.Publish: baselines.json and report.json, the Kind, the
// data range (first window start to last window end, events counted) and, as Metrics, the
// held-out evaluation of ratealarm.All (absent when nothing could be held out). data.Input is
// kept; the range and count come from the report.
func (t Trained) Artifact(name string, data modelstore.TrainingData) (modelstore.Manifest, map[string][]byte, error) {
	if err := ratealarm.CheckBaselines(t.Baselines); err != nil {
		return modelstore.Manifest{}, nil, fmt.Errorf("baseline: %s: %w", name, err)
	}
	bj, err := json.Marshal(t.Baselines)
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	rj, err := json.MarshalIndent(t.Report, "", "  ")
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	feat, _ := json.Marshal(ratealarm.BaselineFeatures{Window: t.Report.Window, Keys: t.Report.Keys})
	params, _ := json.Marshal(map[string]string{"hold_out": t.Report.HoldOut})
	data.From, data.To, data.Records = t.Report.From, t.Report.To, t.Report.Events
	metrics := map[string]float64{"keys": float64(len(t.Baselines)), "windows": float64(t.Report.Windows)}
	if e, ok := t.Report.Eval[ratealarm.All]; ok {
		metrics["eval_windows"] = float64(e.Windows)
		metrics["eval_coverage"] = float64(e.Covered) / math.Max(float64(e.Windows), 1)
		metrics["mae"], metrics["rel_mae"] = e.MAE, e.RelMAE
		metrics["within_3sd"], metrics["within_5sd"] = e.Within3, e.Within5
	}
	m := modelstore.Manifest{Name: name, Kind: Kind, Features: feat, Params: params, Metrics: metrics, Data: data}
	return m, map[string][]byte{FileBaselines: bj, FileReport: rj}, nil
}

// Model is a published baseline, read back.
type Model struct {
	Name, Version string
	Baselines     map[string]ratealarm.Baseline
	Report        Report
	Window        time.Duration // the count window it was learned at; 0 if the manifest does not say
}

// FromArtifact reads a published baseline: another kind is refused with
// modelstore.ErrIncompatible, unreadable or invalid baselines with modelstore.ErrCorrupt.
// report.json is optional.
func FromArtifact(a *modelstore.Artifact) (*Model, error) {
	b, err := ratealarm.DecodeBaselines(a)
	if err != nil {
		return nil, err
	}
	m := &Model{Name: a.Manifest.Name, Version: a.Manifest.Version, Baselines: b}
	if rj, ok := a.Files[FileReport]; ok {
		if err := json.Unmarshal(rj, &m.Report); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", modelstore.ErrCorrupt, FileReport, err)
		}
	}
	m.Window = ratealarm.BaselineWindow(a.Manifest)
	return m, nil
}

// Seasonal returns s judging with m's baselines (see ratealarm.Seasonal.WithBaselines).
func (m *Model) Seasonal(s ratealarm.Seasonal) ratealarm.Seasonal {
	return s.WithBaselines(m.Baselines)
}

// Summary is a one-line description of the report.
func (r Report) Summary() string {
	s := fmt.Sprintf("%d keys, %d windows of %s from %s to %s", len(r.Keys), r.Windows, r.Window,
		r.From.Format("2006-01-02 15:04"), r.To.Format("2006-01-02 15:04"))
	if e, ok := r.Eval[ratealarm.All]; ok {
		return s + fmt.Sprintf("; held-out last %s (all): MAE %.2f (%.0f %% of the mean %.1f), %.1f %% within 3σ, %.1f %% within 5σ",
			r.HoldOut, e.MAE, 100*e.RelMAE, e.MeanCount, 100*e.Within3, 100*e.Within5)
	}
	if r.Note != "" {
		return s + "; " + r.Note
	}
	return s
}
