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
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/runners"
)

var (
	sourcesFlag  = flag.String("sources", "", "YAML or JSON file of source definitions (required; see testdata/sources.yaml)")
	outputFlag   = flag.String("output", "", "directory or gs:// prefix for clean/, dead/ and summary.json (required)")
	deadFlag     = flag.String("dead_letter", "", "directory or gs:// prefix for dead letters (default <output>/dead)")
	shardRecords = flag.Int("shard_records", 250000, "maximum records per output file")
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
	o.SpillDir = join(o.Output, ".dedupe-spill-"+time.Now().UTC().Format("20060102T150405.000000000"))
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
	if err := writeJSON(ctx, join(o.Output, "summary.json"), sum); err != nil {
		return err
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
	for _, f := range []struct{ name, v string }{{"output", *outputFlag}, {"dead_letter", *deadFlag}} {
		if strings.Contains(f.v, "://") && !strings.HasPrefix(f.v, "gs://") {
			return Options{}, fmt.Errorf("--%s=%s: only local paths and gs:// are supported", f.name, f.v)
		}
	}
	cfgs, err := LoadConfig(*sourcesFlag)
	if err != nil {
		return Options{}, err
	}
	return Options{Sources: cfgs, Output: strings.TrimSuffix(*outputFlag, "/"), DeadLetter: strings.TrimSuffix(*deadFlag, "/"), ShardRecords: *shardRecords}, nil
}

func writeJSON(ctx context.Context, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return files.WriteFile(ctx, path, append(b, '\n'))
}
