// Command topics-train is Beamline's daily topic-model training job: labelled documents
// (NDJSON {"id","text","labels"} files, local or gs://) → tag → decode and validate →
// stable-hash split (held-out share by id) → textclass.Train (document frequencies and
// per-label term counts by CombinePerKey, then the model) → a new version in the model store
// (model, vocabulary, report.json, report.html; LATEST moves last). Lines that do not decode,
// have no text or no label go to the dead letter.
//
//	go run ./pipelines/topics-train --input='corpus/*.jsonl' --model_dir=out/models
//	go run ./pipelines/topics-train --input='gs://b/labelled/2026-11-21/*' --model_dir=gs://b/models \
//	    --runner=dataflow --project=P --region=europe-west1 --staging_location=gs://b/staging
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/address"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features/text"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

var (
	inputFlag     = flag.String("input", "", "glob of labelled NDJSON documents {\"id\",\"text\",\"labels\"} (required)")
	modelDirFlag  = flag.String("model_dir", "", "model store root: a directory or gs:// prefix (required)")
	nameFlag      = flag.String("name", "topics", "model name in the store")
	overwriteFlag = flag.Bool("overwrite", false, "replace what a previous run left in --dead_letter: the run writes a fresh folder and swaps it in once it succeeded")
	deadFlag      = flag.String("dead_letter", "", "directory or gs:// prefix for rejected lines (default <model_dir>/_dead/<name>/<run>)")
	algoFlag      = flag.String("algorithm", textclass.AlgoLinear, "linear (softmax regression: best recall@5) or svm (multi-class hinge: best precision@1), whose fitting worker holds the training documents; cnb (complement NB) or nb (multinomial NB), which scale out")
	heldOutFlag   = flag.Int("held_out", 20, "percent of documents (by stable hash of the id) kept out of training for the report")
	ngramsFlag    = flag.Int("ngrams", 1, "word n-grams 1..N")
	stopFlag      = flag.String("stop_words", "english", "stop-word list: english or none")
	minDFFlag     = flag.Int("min_df", 0, "keep terms found in at least this many training documents (0: the algorithm's best on the Debian corpus, 1 for linear, 2 for the others)")
	maxDFFlag     = flag.Float64("max_df", 0.5, "drop terms found in more than this share of training documents (1 keeps all)")
	maxFeatFlag   = flag.Int("max_features", 0, "keep at most this many terms, the most frequent (0: all)")
	selectFlag    = flag.Int("select", 0, "keep this many terms of best chi² after the vocabulary (0: all)")
	alphaFlag     = flag.Float64("alpha", 0, "Naive Bayes smoothing (0: the default, 1; complement NB is often best near 0.3)")
	epochsFlag    = flag.Int("epochs", 0, "linear and svm: passes over the data (0: the defaults, 4 and 8)")
	maxBytesFlag  = flag.Int("max_text", 100_000, "longest text accepted, in characters; longer documents go to the dead letter")
)

// Source tags the training documents.
var Source = tag.Source{Name: "labelled_documents", Kind: "document", Format: "json"}

func init() {
	register.DoFn2x1[context.Context, textclass.Trained, error](&publishFn{})
	register.Function1x2[record.Failure, []byte, error](encodeFailure)
}

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "topics-train:", err)
		os.Exit(1)
	}
}

// Options is the job's configuration, checked.
type Options struct {
	Input, ModelDir, Name, DeadLetter string
	HeldOut, MaxText                  int
	Version                           string    // modelstore.VersionAt(Created)
	Created                           time.Time // fixed at launch, so a retried publish names the same version
	Config                            textclass.Config
}

func optionsFromFlags(now time.Time) (Options, error) {
	if *inputFlag == "" {
		return Options{}, fmt.Errorf("--input is required: a glob of NDJSON documents {\"id\",\"text\",\"labels\"}")
	}
	if *modelDirFlag == "" {
		return Options{}, fmt.Errorf("--model_dir is required: the model store's directory or gs:// prefix")
	}
	if *heldOutFlag < 1 || *heldOutFlag > 50 {
		return Options{}, fmt.Errorf("--held_out=%d must be between 1 and 50 (percent of documents kept for the report)", *heldOutFlag)
	}
	if *maxBytesFlag < 1 {
		return Options{}, fmt.Errorf("--max_text=%d must be positive", *maxBytesFlag)
	}
	stop := *stopFlag
	if stop == "none" {
		stop = ""
	}
	minDF := *minDFFlag
	if minDF == 0 && *algoFlag != textclass.AlgoLinear {
		minDF = 2 // the Naive Bayes models and svm lose nothing and train faster without singletons
	}
	cfg := textclass.Config{
		Algorithm: *algoFlag,
		Features: text.Spec{NGrams: *ngramsFlag, StopWords: stop, MinDF: minDF, MaxDF: *maxDFFlag,
			MaxFeatures: *maxFeatFlag, Sublinear: true},
		Select: *selectFlag, Alpha: *alphaFlag, Linear: textclass.LinearOptions{Epochs: *epochsFlag, Seed: 1},
	}
	if err := cfg.Validate(); err != nil {
		return Options{}, fmt.Errorf("flags: %w (see --algorithm, --ngrams, --stop_words, --min_df, --max_df, --select, --alpha)", err)
	}
	created := now.UTC().Truncate(time.Second)
	version := modelstore.VersionAt(created)
	dead := *deadFlag
	if dead == "" {
		dead = files.Join(*modelDirFlag, "_dead", *nameFlag, version)
	}
	return Options{Input: *inputFlag, ModelDir: strings.TrimSuffix(*modelDirFlag, "/"), Name: *nameFlag,
		DeadLetter: strings.TrimSuffix(dead, "/"), HeldOut: *heldOutFlag, MaxText: *maxBytesFlag, Version: version, Created: created, Config: cfg}, nil
}

// Build adds the training job to s.
func Build(s beam.Scope, o Options) {
	recs := tag.Records(s, Source, files.Read(s, o.Input))
	docs, dead := clean.Decode[textclass.Doc](s, recs, textclass.DocRules(o.MaxText, true), clean.NormaliseSpec{})
	train, test := textclass.Split(s, docs, o.HeldOut)
	trained := textclass.Train(s, train, test, o.Config)
	beam.ParDo0(s, &publishFn{Root: o.ModelDir, Name: o.Name, Created: o.Created, Input: o.Input, Config: o.Config}, trained)
	files.WriteLines(s, files.Join(o.DeadLetter, "part"), ".jsonl", beam.ParDo(s, encodeFailure, dead))
}

func encodeFailure(f record.Failure) ([]byte, error) { return jsonx.Marshal(f) }

// publishFn writes the trained classifier as a new version of the store.
type publishFn struct {
	Root    string           `json:"root"`
	Name    string           `json:"name"`
	Created time.Time        `json:"created"`
	Input   string           `json:"input"`
	Config  textclass.Config `json:"config"`
}

func (f *publishFn) ProcessElement(ctx context.Context, t textclass.Trained) error {
	c, err := t.Classifier()
	if err != nil {
		return err
	}
	m, payload, err := c.Artifact(f.Name, f.Config, t.Report, modelstore.TrainingData{Input: f.Input, Records: int64(t.Docs)})
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
		if strings.Contains(err.Error(), "vocabulary is empty after pruning") {
			fix := "lower --min_df"
			if o.Config.Features.MinDF <= 1 {
				fix = "raise --max_df (every term is in more than that share of the documents, e.g. --max_df=1)"
			}
			return fmt.Errorf("--min_df=%d --max_df=%g left no term to train on: %s\n\ndetails:\n%w", o.Config.Features.MinDF, o.Config.Features.MaxDF, fix, err)
		}
		return address.Cause(err)
	}
	if res != nil {
		var read, ok, dead int64
		for k, n := range record.SumCounters(res.Metrics().AllMetrics(), Source.Name) {
			switch {
			case k.Outcome == record.OutcomeRead:
				read += n
			case k.Outcome == record.OutcomeDead:
				dead += n
			case k.Stage == clean.StageDecode:
				ok += n
			}
		}
		fmt.Printf("topics-train: read %d = documents %d + dead %d (%v)\n", read, ok, dead, read == ok+dead)
		if read != ok+dead {
			return fmt.Errorf("read %d != documents %d + dead %d: documents were lost", read, ok, dead)
		}
	}
	a, err := modelstore.OpenLatest(ctx, o.ModelDir, o.Name)
	if err != nil {
		return fmt.Errorf("reading back the published model: %w", err)
	}
	var r textclass.Report
	if err := json.Unmarshal(a.Files[textclass.FileReport], &r); err != nil {
		return fmt.Errorf("reading back report.json: %w", err)
	}
	fmt.Printf("published %s/%s/%s (%d labels)\n%s\nreport: %s\n", o.ModelDir, o.Name, a.Manifest.Version,
		len(a.Manifest.Labels), r.Summary(), files.Join(o.ModelDir, o.Name, a.Manifest.Version, textclass.FileReportHTML))
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
