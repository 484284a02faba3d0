// Command documents is Beamline's topic job: documents (NDJSON {"id","text"} files, or a
// Pub/Sub subscription of them) → tag → decode and validate → the newest topic model from the
// store (refreshed while running; optionally an A/B split) → one prediction per document,
// {"id","topics":[{"label","score"}…],"model","model_version"}, to files, a BigQuery table
// or a Pub/Sub topic. Documents that cannot be classified go to the dead letter.
//
//	go run ./pipelines/documents --input='docs/*.jsonl' --model_dir=out/models --output=out/topics
//	go run ./pipelines/documents --input=pubsub://projects/P/subscriptions/docs --model_dir=gs://b/models \
//	    --output=bq://P.docs.topics --dead_letter=gs://b/dead
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/beamline/beamline/io/address"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/apply"
	"github.com/beamline/beamline/transforms/record"
)

var (
	inputFlag     = flag.String("input", "", "glob of NDJSON documents {\"id\",\"text\"} or pubsub://projects/P/subscriptions/S (required)")
	modelDirFlag  = flag.String("model_dir", "", "model store root: a directory or gs:// prefix (required)")
	nameFlag      = flag.String("name", "topics", "model name in the store")
	versionFlag   = flag.String("model_version", "", "pin this version instead of following LATEST")
	outputFlag    = flag.String("output", "", "directory or gs:// prefix, bq://project.dataset.table or pubsub://projects/P/topics/T for predictions (required)")
	deadFlag      = flag.String("dead_letter", "", "directory or gs:// prefix for documents that cannot be classified (default <output>/dead; required unless --output is a directory)")
	topKFlag      = flag.Int("top_k", 5, "topics per document")
	refreshFlag   = flag.Duration("refresh", time.Minute, "how often each worker looks for a newly published model version")
	bFlag         = flag.String("variant_b", "", "A/B test: model NAME or NAME@VERSION for arm B (arm A is --name)")
	bPctFlag      = flag.Int("variant_b_percent", 10, "A/B test: percent of documents, by stable hash of the id, sent to arm B")
	maxTextFlag   = flag.Int("max_text", 100_000, "longest text accepted, in characters; longer documents go to the dead letter")
	windowFlag    = flag.Duration("window", time.Minute, "streaming with file output: window of the prediction files")
	idleFlag      = flag.Duration("idle_stop", 0, "streaming: end once no message has arrived for this long (0: run until cancelled)")
	overwriteFlag = flag.Bool("overwrite", false, "replace what a previous run left in --output (and --dead_letter): the run writes fresh folders and swaps them in once it succeeded")
	stagingFlag   = flag.String("staging", "", "batch with a bq:// output: where the load job's files are staged (default a temporary directory)")
)

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "documents:", err)
		os.Exit(1)
	}
}

func optionsFromFlags() (Options, error) {
	in, err := address.Flag("input", *inputFlag, address.Path, address.GCS, address.Subscription)
	if err != nil {
		return Options{}, err
	}
	if _, err := address.Flag("model_dir", *modelDirFlag, address.Path, address.GCS); err != nil {
		return Options{}, err
	}
	outA, err := address.Flag("output", *outputFlag, address.Path, address.GCS, address.Table, address.Topic)
	if err != nil {
		return Options{}, err
	}
	deadA, err := address.Optional("dead_letter", *deadFlag, address.Path, address.GCS)
	if err != nil {
		return Options{}, err
	}
	if _, err := address.Optional("staging", *stagingFlag, address.Path, address.GCS); err != nil {
		return Options{}, err
	}
	out := outA.String()
	dead := deadA.String()
	if dead == "" {
		if !outA.Kind.Files() {
			return Options{}, fmt.Errorf("--dead_letter is required with --output=%s (a directory or gs:// prefix)", out)
		}
		dead = files.Join(out, "dead")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		zero bool
	}{{"refresh", *refreshFlag, false}, {"window", *windowFlag, false}, {"idle_stop", *idleFlag, true}} {
		if err := address.Duration(d.name, d.v, address.MinDuration, d.zero); err != nil {
			return Options{}, err
		}
	}
	if *topKFlag < 1 {
		return Options{}, fmt.Errorf("--top_k=%d must be at least 1", *topKFlag)
	}
	if *maxTextFlag < 1 {
		return Options{}, fmt.Errorf("--max_text=%d must be positive", *maxTextFlag)
	}
	cfg := apply.Config{Root: strings.TrimSuffix(*modelDirFlag, "/"), K: *topKFlag, Refresh: *refreshFlag, Source: Source.Name,
		Variants: []apply.Variant{{Model: *nameFlag, Version: *versionFlag, Percent: 100}}}
	if *bFlag != "" {
		if *bPctFlag < 1 || *bPctFlag > 99 {
			return Options{}, fmt.Errorf("--variant_b_percent=%d must be between 1 and 99", *bPctFlag)
		}
		name, version, _ := strings.Cut(*bFlag, "@")
		cfg.Variants = []apply.Variant{
			{Name: "A", Model: *nameFlag, Version: *versionFlag, Percent: 100 - *bPctFlag},
			{Name: "B", Model: name, Version: version, Percent: *bPctFlag},
		}
	}
	if err := cfg.Validate(); err != nil {
		return Options{}, fmt.Errorf("flags: %w", err)
	}
	staging := *stagingFlag
	if staging == "" {
		staging = files.Join(os.TempDir(), "beamline-documents-staging-"+time.Now().UTC().Format("20060102T150405.000000000"))
	}
	return Options{Input: in.String(), Output: out, DeadLetter: strings.TrimSuffix(dead, "/"), Apply: cfg,
		MaxText: *maxTextFlag, Window: *windowFlag, IdleStop: *idleFlag, Staging: staging}, nil
}

func run(ctx context.Context) error {
	o, outs, err := prepare(ctx)
	if err != nil {
		return err
	}
	if err := execute(ctx, o); err != nil {
		outs.Abort(ctx)
		return err
	}
	return outs.Commit(ctx)
}

// prepare checks every flag, the model store and the output folders before anything is
// built; with --overwrite, o's paths point at the fresh folders the run writes.
func prepare(ctx context.Context) (Options, *address.Outputs, error) {
	if err := runners.Check(); err != nil {
		return Options{}, nil, err
	}
	o, err := optionsFromFlags()
	if err != nil {
		return Options{}, nil, err
	}
	parse := func(v string) address.Address {
		a, _ := address.Parse(v) // checked by optionsFromFlags
		return a
	}
	in, out, dead := parse(o.Input), parse(o.Output), parse(o.DeadLetter)
	runner := runners.FromFlags().Runner
	for _, n := range []address.Dest{{Flag: "input", Addr: in}, {Flag: "model_dir", Addr: parse(o.Apply.Root)}, {Flag: "output", Addr: out}, {Flag: "dead_letter", Addr: dead}} {
		if err := address.Remote(runner, n.Flag, n.Addr); err != nil {
			return Options{}, nil, err
		}
		if err := address.Reachable(ctx, n.Flag, n.Addr, 3*time.Second); err != nil {
			return Options{}, nil, err
		}
	}
	if err := address.Matches(ctx, "input", in); err != nil {
		return Options{}, nil, err
	}
	if err := checkModels(ctx, o.Apply); err != nil {
		return Options{}, nil, err
	}
	dests := []address.Dest{{Flag: "dead_letter", Addr: dead}}
	if out.Kind.Files() {
		dests = append(dests, address.Dest{Flag: "output", Addr: parse(files.Join(o.Output, "predictions"))})
		if *deadFlag == "" {
			dests[0].Flag = "output"
		}
	} else {
		dests = append(dests, address.Dest{Flag: "output", Addr: out})
	}
	if err := address.Overlap(dests...); err != nil {
		return Options{}, nil, err
	}
	outs := &address.Outputs{Overwrite: *overwriteFlag}
	outs.Add("output", out)
	if *deadFlag != "" && !(out.Kind.Files() && address.Overlap(address.Dest{Flag: "a", Addr: dead}, address.Dest{Flag: "b", Addr: out}) != nil) {
		outs.Add("dead_letter", dead)
	}
	if err := outs.Prepare(ctx); err != nil {
		return Options{}, nil, err
	}
	o.Output, o.DeadLetter = outs.Path(o.Output), outs.Path(o.DeadLetter)
	return o, outs, nil
}

// checkModels fails at start when a model the job would apply is not published: every
// document would otherwise go to the dead letter as no_model and the job would end green.
func checkModels(ctx context.Context, cfg apply.Config) error {
	for _, v := range cfg.Variants {
		var err error
		if v.Version != "" {
			_, err = modelstore.Open(ctx, cfg.Root, v.Model, v.Version)
		} else {
			_, err = modelstore.OpenLatest(ctx, cfg.Root, v.Model)
		}
		switch {
		case err == nil:
		case errors.Is(err, modelstore.ErrNotFound) && v.Version == "":
			return fmt.Errorf("--model_dir=%s holds no published model %q: run topics-train first (e.g. go run ./pipelines/topics-train --input=… --model_dir=%s --name=%s), or fix --model_dir or --name", cfg.Root, v.Model, cfg.Root, v.Model)
		case errors.Is(err, modelstore.ErrNotFound):
			return fmt.Errorf("--model_dir=%s has no version %s of model %q: give a published version, or drop the pin to follow LATEST", cfg.Root, v.Version, v.Model)
		default:
			return fmt.Errorf("--model_dir=%s: model %q cannot be opened: %s; publish a good version with topics-train", cfg.Root, v.Model, strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
	return nil
}

func execute(ctx context.Context, o Options) error {
	p, s := beam.NewPipelineWithRoot()
	Build(s, o)
	res, err := runners.Run(ctx, p)
	if err != nil {
		return address.Cause(err)
	}
	if res == nil {
		return nil
	}
	var read, ok, dead int64
	for k, n := range record.SumCounters(res.Metrics().AllMetrics(), Source.Name) {
		switch {
		case k.Outcome == record.OutcomeRead:
			read += n
		case k.Outcome == record.OutcomeDead:
			dead += n
		case k.Outcome == record.OutcomeWritten && k.Stage != apply.Stage:
			ok += n // delivered: files, table or topic
		}
	}
	fmt.Printf("documents: read %d = predicted %d + dead %d (%v)\n", read, ok, dead, read == ok+dead)
	if read != ok+dead {
		return fmt.Errorf("read %d != predicted %d + dead %d: documents were lost", read, ok, dead)
	}
	return nil
}
