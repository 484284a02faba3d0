// Command ingest is Beamline's batch ingest job: files of several sources (local or gs://,
// plain or gzip) → tag → clean → clean records as sharded NDJSON, failures as NDJSON dead
// letters, and a per-source summary (read = ok + dead + duplicates) from the run's metrics.
//
//	go run ./pipelines/ingest --sources=testdata/sources.yaml --output=out
//	go run ./pipelines/ingest --sources=… --output=gs://bucket/ingest --runner=dataflow \
//	    --project=P --region=europe-west1 --staging_location=gs://bucket/staging
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/runners"
)

var (
	sourcesFlag  = flag.String("sources", "", "YAML or JSON file of source definitions (required; see testdata/sources.yaml)")
	outputFlag   = flag.String("output", "", "directory or gs:// prefix for clean/, dead/ and summary.json, bq://project.dataset.table or pubsub://projects/P/topics/T (required)")
	deadFlag     = flag.String("dead_letter", "", "directory, gs:// prefix or bq://project.dataset.table for dead letters (default <output>/dead; required when --output is not a path)")
	shardRecords = flag.Int("shard_records", 250000, "maximum records per output file")
	inputFlag    = flag.String("input", "", "overrides the input of the only source in --sources: a glob or pubsub://projects/P/subscriptions/S")
	windowFlag   = flag.Duration("window", time.Minute, "streaming: event-time window of the output files")
	latenessFlag = flag.Duration("allowed_lateness", 24*time.Hour, "streaming: how long after its window a late record still gets a file; a later one goes to the dead letter as too_late")
	idleFlag     = flag.Duration("idle_stop", 0, "streaming: end the job once no message has arrived for this long (0: run until cancelled)")
	dedupeTTL    = flag.Duration("dedupe_ttl", 10*time.Minute, "streaming: how long a source's dedupe_key is remembered")
	stagingFlag  = flag.String("staging", "", "batch with a bq:// or pubsub:// output: directory or gs:// prefix for the load job's files and dedupe spill (default a temporary directory)")
)

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if err := runners.Check(); err != nil {
		return err
	}
	o, err := optionsFromFlags()
	if err != nil {
		return err
	}
	// Records waiting for dedupe go to files, not the runner's memory; removed after the run.
	work := o.Output
	if isTopic(work) || isTable(work) {
		work = o.Staging
	}
	o.SpillDir = files.Join(work, ".dedupe-spill-"+time.Now().UTC().Format("20060102T150405.000000000"))
	defer files.RemoveAll(ctx, o.SpillDir)
	p, s := beam.NewPipelineWithRoot()
	Build(s, o)
	res, err := runners.Run(ctx, p)
	if err != nil {
		return err
	}
	if res == nil { // a dry run
		return nil
	}
	names := make([]string, len(o.Sources))
	for i, c := range o.Sources {
		names[i] = c.Name
	}
	sum := Summarize(res.Metrics().AllMetrics(), names)
	sum.Print(os.Stdout)
	if p := o.summaryPath(); p != "" {
		if err := writeJSON(ctx, p, sum); err != nil {
			return err
		}
	}
	for _, ss := range sum.Sources {
		if !ss.Balanced {
			return fmt.Errorf("source %s: read %d != ok %d + dead %d + duplicates %d: records were lost", ss.Source, ss.Read, ss.OK, ss.Dead, ss.Duplicates)
		}
	}
	return nil
}

func optionsFromFlags() (Options, error) {
	if *sourcesFlag == "" {
		return Options{}, fmt.Errorf("--sources is required: a YAML file of source definitions (e.g. --sources=testdata/sources.yaml)")
	}
	if *outputFlag == "" {
		return Options{}, fmt.Errorf("--output is required: a directory or gs:// prefix (e.g. --output=out)")
	}
	if *shardRecords <= 0 {
		return Options{}, fmt.Errorf("--shard_records=%d must be positive (e.g. --shard_records=250000)", *shardRecords)
	}
	if err := checkAddress("output", *outputFlag, true); err != nil {
		return Options{}, err
	}
	if err := checkAddress("dead_letter", *deadFlag, false); err != nil {
		return Options{}, err
	}
	if (isTopic(*outputFlag) || isTable(*outputFlag)) && *deadFlag == "" {
		return Options{}, fmt.Errorf("--dead_letter is required with --output=%s: a directory, gs:// prefix or bq://project.dataset.table for failures", *outputFlag)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"window", *windowFlag}, {"allowed_lateness", *latenessFlag}, {"dedupe_ttl", *dedupeTTL}} {
		if d.v <= 0 {
			return Options{}, fmt.Errorf("--%s=%s must be positive (e.g. --%s=1m)", d.name, d.v, d.name)
		}
	}
	if *idleFlag < 0 {
		return Options{}, fmt.Errorf("--idle_stop=%s must not be negative (0 runs until cancelled)", *idleFlag)
	}
	cfgs, err := LoadConfig(*sourcesFlag)
	if err != nil {
		return Options{}, err
	}
	if *inputFlag != "" {
		if len(cfgs) != 1 {
			return Options{}, fmt.Errorf("--input needs --sources to define exactly one source, found %d; give each source its own glob or subscription instead", len(cfgs))
		}
		cfgs[0].Glob, cfgs[0].Subscription = "", ""
		if pubsub.IsAddress(*inputFlag) {
			cfgs[0].Subscription = *inputFlag
		} else {
			cfgs[0].Glob = *inputFlag
		}
		if err := cfgs[0].Source.Validate(); err != nil {
			return Options{}, fmt.Errorf("--input: %w", err)
		}
	}
	staging := *stagingFlag
	if staging == "" && (isTable(*outputFlag) || isTopic(*outputFlag)) {
		staging = filepath.Join(os.TempDir(), "beamline-staging-"+time.Now().UTC().Format("20060102T150405.000000000"))
	}
	o := Options{Staging: staging, Sources: cfgs, Output: strings.TrimSuffix(*outputFlag, "/"), DeadLetter: strings.TrimSuffix(*deadFlag, "/"), ShardRecords: *shardRecords,
		Window: *windowFlag, Lateness: *latenessFlag, IdleStop: *idleFlag, DedupeTTL: *dedupeTTL}
	if err := o.check(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// checkAddress validates an --output (topics allowed) or --dead_letter address.
func checkAddress(name, v string, topics bool) error {
	switch {
	case v == "" || !strings.Contains(v, "://") || strings.HasPrefix(v, "gs://"):
		return nil
	case isTable(v):
		if _, err := bigquery.ParseTable(v); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		return nil
	case topics && pubsub.IsAddress(v):
		if _, err := pubsub.ParseTopic(v); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		return nil
	}
	want := "a local path, gs://bucket/prefix or bq://project.dataset.table"
	if topics {
		want = "a local path, gs://bucket/prefix, bq://project.dataset.table or pubsub://projects/P/topics/T"
	}
	return fmt.Errorf("--%s=%s: use %s", name, v, want)
}

func writeJSON(ctx context.Context, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return files.WriteFile(ctx, path, append(b, '\n'))
}
