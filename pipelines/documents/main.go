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
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/apply"
	"github.com/beamline/beamline/transforms/record"
)

var (
	inputFlag    = flag.String("input", "", "glob of NDJSON documents {\"id\",\"text\"} or pubsub://projects/P/subscriptions/S (required)")
	modelDirFlag = flag.String("model_dir", "", "model store root: a directory or gs:// prefix (required)")
	nameFlag     = flag.String("name", "topics", "model name in the store")
	versionFlag  = flag.String("model_version", "", "pin this version instead of following LATEST")
	outputFlag   = flag.String("output", "", "directory or gs:// prefix, bq://project.dataset.table or pubsub://projects/P/topics/T for predictions (required)")
	deadFlag     = flag.String("dead_letter", "", "directory or gs:// prefix for documents that cannot be classified (default <output>/dead; required unless --output is a directory)")
	topKFlag     = flag.Int("top_k", 5, "topics per document")
	refreshFlag  = flag.Duration("refresh", time.Minute, "how often each worker looks for a newly published model version")
	bFlag        = flag.String("variant_b", "", "A/B test: model NAME or NAME@VERSION for arm B (arm A is --name)")
	bPctFlag     = flag.Int("variant_b_percent", 10, "A/B test: percent of documents, by stable hash of the id, sent to arm B")
	maxTextFlag  = flag.Int("max_text", 100_000, "longest text accepted, in characters; longer documents go to the dead letter")
	windowFlag   = flag.Duration("window", time.Minute, "streaming with file output: window of the prediction files")
	idleFlag     = flag.Duration("idle_stop", 0, "streaming: end once no message has arrived for this long (0: run until cancelled)")
	stagingFlag  = flag.String("staging", "", "batch with a bq:// output: where the load job's files are staged (default a temporary directory)")
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
	if *inputFlag == "" {
		return Options{}, fmt.Errorf("--input is required: a glob of NDJSON documents or pubsub://projects/P/subscriptions/S")
	}
	if pubsub.IsAddress(*inputFlag) {
		if _, err := pubsub.ParseSubscription(*inputFlag); err != nil {
			return Options{}, fmt.Errorf("--input: %w", err)
		}
	}
	if *modelDirFlag == "" {
		return Options{}, fmt.Errorf("--model_dir is required: the model store's directory or gs:// prefix (topics-train writes it)")
	}
	if *outputFlag == "" {
		return Options{}, fmt.Errorf("--output is required: a directory, gs:// prefix, bq://project.dataset.table or pubsub://projects/P/topics/T")
	}
	out := strings.TrimSuffix(*outputFlag, "/")
	switch {
	case strings.HasPrefix(out, bigquery.Scheme):
		if _, err := bigquery.ParseTable(out); err != nil {
			return Options{}, fmt.Errorf("--output: %w", err)
		}
	case pubsub.IsAddress(out):
		if _, err := pubsub.ParseTopic(out); err != nil {
			return Options{}, fmt.Errorf("--output: %w", err)
		}
	}
	dead := *deadFlag
	if dead == "" {
		if strings.HasPrefix(out, bigquery.Scheme) || pubsub.IsAddress(out) {
			return Options{}, fmt.Errorf("--dead_letter is required with --output=%s (a directory or gs:// prefix)", out)
		}
		dead = files.Join(out, "dead")
	}
	if *topKFlag < 1 {
		return Options{}, fmt.Errorf("--top_k=%d must be at least 1", *topKFlag)
	}
	if *refreshFlag <= 0 {
		return Options{}, fmt.Errorf("--refresh=%s must be positive (e.g. --refresh=1m)", *refreshFlag)
	}
	if *maxTextFlag < 1 {
		return Options{}, fmt.Errorf("--max_text=%d must be positive", *maxTextFlag)
	}
	if *windowFlag <= 0 {
		return Options{}, fmt.Errorf("--window=%s must be positive (e.g. --window=1m)", *windowFlag)
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
	return Options{Input: *inputFlag, Output: out, DeadLetter: strings.TrimSuffix(dead, "/"), Apply: cfg,
		MaxText: *maxTextFlag, Window: *windowFlag, IdleStop: *idleFlag, Staging: staging}, nil
}

func run(ctx context.Context) error {
	if err := runners.Check(); err != nil {
		return err
	}
	o, err := optionsFromFlags()
	if err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, o)
	res, err := runners.Run(ctx, p)
	if err != nil || res == nil {
		return err
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
