// Command baseline-train is Beamline's daily rate-baseline job: order history (the NDJSON
// records pipelines/orders writes under history/, or raw order NDJSON with created_at) →
// tag → parse → event time from created_at (country upper-cased, as the orders job does) →
// orders per window and key (ratealarm.Count: all, and each --dimensions value) →
// baseline.Train (hour-of-week median and MAD per key, scored on the held-out last day) → a
// new version in the model store (baselines.json, report.json; LATEST moves last). A running
// orders job follows it with ratealarm.BaselineFrom. Lines that do not parse or have no
// readable created_at go to the dead letter.
//
//	go run ./pipelines/baseline-train --input='out/orders/history/*.jsonl' --model_dir=out/models
//	go run ./pipelines/baseline-train --input='gs://b/orders/history/dt=*/*' --model_dir=gs://b/models \
//	    --dimensions=country --runner=dataflow --project=P --region=europe-west1 --staging_location=gs://b/staging
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/address"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/baseline"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/ratealarm"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

var (
	inputFlag     = flag.String("input", "", "glob of order history NDJSON (pipelines/orders history/) or raw order NDJSON with created_at, local or gs:// (required)")
	modelDirFlag  = flag.String("model_dir", "", "model store root: a directory or gs:// prefix (required)")
	nameFlag      = flag.String("name", "order-baseline", "model name in the store")
	windowFlag    = flag.Duration("window", time.Minute, "count window; use the orders job's --window")
	dimsFlag      = flag.String("dimensions", "", "comma-separated order fields learned as keys besides all, e.g. country; use the orders job's --dimensions")
	holdOutFlag   = flag.Duration("hold_out", baseline.DefaultHoldOut, "end of the history kept out of the evaluation's baseline and scored")
	overwriteFlag = flag.Bool("overwrite", false, "replace what a previous run left in --dead_letter: the run writes a fresh folder and swaps it in once it succeeded")
	deadFlag      = flag.String("dead_letter", "", "directory or gs:// prefix for rejected lines (default <model_dir>/_dead/<name>/<run>)")
)

// Source tags the order lines read.
var Source = tag.Source{Name: "orders", Kind: "order", Format: "json"}

func init() {
	register.Function1x1[record.Record, record.Record](unwrapHistory)
	register.DoFn2x1[context.Context, baseline.Trained, error](&publishFn{})
	register.Function1x2[record.Failure, []byte, error](encodeFailure)
}

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "baseline-train:", err)
		os.Exit(1)
	}
}

// Options is the job's configuration, checked.
type Options struct {
	Input, ModelDir, Name, DeadLetter string
	Window, HoldOut                   time.Duration
	Dimensions                        []string
	Version                           string    // modelstore.VersionAt(Created)
	Created                           time.Time // fixed at launch, so a retried publish names the same version
}

// knownDimensions are the order fields that make sensible keys (the orders job's list).
var knownDimensions = []string{"country", "currency", "payment"}

// modelName is what modelstore accepts as a model name (a plain path segment).
var modelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

func optionsFromFlags(now time.Time) (Options, error) {
	if *inputFlag == "" {
		return Options{}, fmt.Errorf("--input is required: a glob of order history or raw order NDJSON (e.g. --input='out/orders/history/*.jsonl')")
	}
	if *modelDirFlag == "" {
		return Options{}, fmt.Errorf("--model_dir is required: the model store's directory or gs:// prefix (e.g. --model_dir=out/models)")
	}
	if !modelName.MatchString(*nameFlag) {
		return Options{}, fmt.Errorf("--name=%q is not a model name: use letters, digits, '.', '_' and '-' (e.g. --name=order-baseline)", *nameFlag)
	}
	if *windowFlag < address.MinDuration || *windowFlag > 24*time.Hour || (24*time.Hour)%*windowFlag != 0 {
		return Options{}, fmt.Errorf("--window=%s must be at least 1ms and divide a day, as the orders job's windows do (e.g. --window=1m)", *windowFlag)
	}
	if *holdOutFlag < address.MinDuration {
		return Options{}, fmt.Errorf("--hold_out=%s must be at least 1ms (e.g. --hold_out=24h)", *holdOutFlag)
	}
	var dims []string
	for _, d := range strings.Split(*dimsFlag, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if !slices.Contains(knownDimensions, d) {
			return Options{}, fmt.Errorf("--dimensions=%s: %q is not an order field counted as a key; use one or more of %s, as the orders job does (e.g. --dimensions=country)", *dimsFlag, d, strings.Join(knownDimensions, ", "))
		}
		dims = append(dims, d)
	}
	created := now.UTC().Truncate(time.Second)
	version := modelstore.VersionAt(created)
	dead := *deadFlag
	if dead == "" {
		dead = files.Join(*modelDirFlag, "_dead", *nameFlag, version)
	}
	return Options{Input: *inputFlag, ModelDir: strings.TrimSuffix(*modelDirFlag, "/"), Name: *nameFlag,
		DeadLetter: strings.TrimSuffix(dead, "/"), Window: *windowFlag, HoldOut: *holdOutFlag, Dimensions: dims, Version: version, Created: created}, nil
}

// Spec is the part of the orders job's clean.Spec that decides what is counted and under
// which key: created_at is the event time, and country is upper-cased (country=GB). It is
// applied after unwrapHistory, so history lines, already clean, pass through unchanged.
func Spec() clean.Spec {
	return clean.Spec{
		Rules:     []clean.Rule{{Field: "created_at", Required: true}},
		Normalise: &clean.NormaliseSpec{Trim: true, Upper: []string{"country"}},
		EventTime: &clean.TimeField{Field: "created_at", Format: "auto"},
	}
}

// unwrapHistory replaces a history line's record envelope ({"id", "source", …, "data": {the
// order}}) by the order it holds; a raw order passes as it is.
func unwrapHistory(r record.Record) record.Record {
	if inner, ok := r.Data["data"].(map[string]any); ok {
		if _, env := r.Data["source"]; env {
			r.Data = inner
		}
	}
	return r
}

// Build adds the training job to s.
func Build(s beam.Scope, o Options) {
	recs := tag.Records(s, Source, files.Read(s, o.Input))
	parsed, dead1 := clean.Parse(s, recs, clean.ParseSpec{Format: "json"})
	orders, dead2 := clean.Apply(s, beam.ParDo(s, unwrapHistory, parsed), Spec())
	counts := ratealarm.Count(s, orders, o.Window, ratealarm.Dimensions(o.Dimensions...))
	trained := baseline.Train(s, counts, baseline.HoldOut(o.HoldOut))
	beam.ParDo0(s, &publishFn{Root: o.ModelDir, Name: o.Name, Created: o.Created, Input: o.Input}, trained)
	files.WriteLines(s, files.Join(o.DeadLetter, "part"), ".jsonl", beam.ParDo(s, encodeFailure, beam.Flatten(s, dead1, dead2)))
}

func encodeFailure(f record.Failure) ([]byte, error) { return jsonx.Marshal(f) }

// publishFn writes the trained baselines as a new version of the store.
type publishFn struct {
	Root    string    `json:"root"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Input   string    `json:"input"`
}

func (f *publishFn) ProcessElement(ctx context.Context, t baseline.Trained) error {
	m, payload, err := t.Artifact(f.Name, modelstore.TrainingData{Input: f.Input})
	if err != nil {
		return err
	}
	m.CreatedAt = f.Created
	_, err = modelstore.Publish(ctx, f.Root, f.Name, m, payload)
	return err
}

func run(ctx context.Context) error {
	if err := runners.Check(); err != nil {
		return err
	}
	o, err := optionsFromFlags(time.Now())
	if err != nil {
		return err
	}
	outs, err := outputs(ctx, o)
	if err != nil {
		return err
	}
	o.DeadLetter = outs.Path(o.DeadLetter)
	if err := execute(ctx, o); err != nil {
		outs.Abort(ctx)
		return err
	}
	return outs.Commit(ctx)
}

func execute(ctx context.Context, o Options) error {
	p, s := beam.NewPipelineWithRoot()
	Build(s, o)
	res, err := runners.Run(ctx, p)
	if err != nil {
		return address.Cause(err)
	}
	counts := ""
	if res != nil {
		var read, ok, dead int64
		for k, n := range record.SumCounters(res.Metrics().AllMetrics(), Source.Name) {
			switch {
			case k.Outcome == record.OutcomeRead:
				read += n
			case k.Outcome == record.OutcomeDead:
				dead += n
			case k.Stage == clean.StageEventTime && k.Outcome == record.OutcomeOK:
				ok += n
			}
		}
		if read != ok+dead {
			return fmt.Errorf("read %d != counted %d + dead %d: orders were lost", read, ok, dead)
		}
		counts = fmt.Sprintf("read %d = counted %d + dead %d; ", read, ok, dead)
	}
	a, err := modelstore.OpenLatest(ctx, o.ModelDir, o.Name, modelstore.WithKind(baseline.Kind))
	if errors.Is(err, modelstore.ErrNotFound) || (err == nil && !strings.HasPrefix(a.Manifest.Version, o.Version)) {
		return fmt.Errorf("%sno version published: no order in --input=%s had a readable created_at (see %s)", counts, o.Input, o.DeadLetter)
	}
	if err != nil {
		return fmt.Errorf("reading back the published baseline: %w", err)
	}
	m, err := baseline.FromArtifact(a)
	if err != nil {
		return fmt.Errorf("reading back the published baseline: %w", err)
	}
	fmt.Printf("baseline-train: %spublished %s/%s/%s: %s\n", counts, o.ModelDir, o.Name, m.Version, m.Report.Summary())
	return nil
}

// checkPlaces runs the flags' addresses through the address layer before anything is built:
// their kinds, what the runner's workers can reach, an input glob that matches nothing, and a
// dead letter inside the model store's model.
func checkPlaces(ctx context.Context, o Options) error {
	in, err := address.Flag("input", o.Input, address.Path, address.GCS)
	if err != nil {
		return err
	}
	store, err := address.Flag("model_dir", o.ModelDir, address.Path, address.GCS)
	if err != nil {
		return err
	}
	dead, err := address.Flag("dead_letter", o.DeadLetter, address.Path, address.GCS)
	if err != nil {
		return err
	}
	runner := runners.FromFlags().Runner
	for _, n := range []address.Dest{{Flag: "input", Addr: in}, {Flag: "model_dir", Addr: store}, {Flag: "dead_letter", Addr: dead}} {
		if err := address.Remote(runner, n.Flag, n.Addr); err != nil {
			return err
		}
	}
	if err := address.Matches(ctx, "input", in); err != nil {
		return err
	}
	model, _ := address.Parse(files.Join(o.ModelDir, o.Name))
	if err := address.Overlap(address.Dest{Flag: "model_dir", Addr: model}, address.Dest{Flag: "dead_letter", Addr: dead}); err != nil {
		return err
	}
	return nil
}

// outputs checks the places, then the dead letter folder when one is given (the default is
// new for every run).
func outputs(ctx context.Context, o Options) (*address.Outputs, error) {
	if err := checkPlaces(ctx, o); err != nil {
		return nil, err
	}
	outs := &address.Outputs{Overwrite: *overwriteFlag}
	if *deadFlag != "" {
		dead, _ := address.Parse(o.DeadLetter)
		outs.Add("dead_letter", dead)
	}
	return outs, outs.Prepare(ctx)
}
