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
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/beamline/beamline/io/address"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/runners"
)

var (
	sourcesFlag   = flag.String("sources", "", "YAML or JSON file of source definitions (required; see testdata/sources.yaml)")
	outputFlag    = flag.String("output", "", "directory or gs:// prefix for clean/, dead/ and summary.json, bq://project.dataset.table or pubsub://projects/P/topics/T (required)")
	deadFlag      = flag.String("dead_letter", "", "directory, gs:// prefix or bq://project.dataset.table for dead letters (default <output>/dead; required when --output is not a path)")
	shardRecords  = flag.Int("shard_records", 250000, "maximum records per output file")
	inputFlag     = flag.String("input", "", "overrides the input of the only source in --sources: a glob or pubsub://projects/P/subscriptions/S")
	windowFlag    = flag.Duration("window", time.Minute, "streaming: event-time window of the output files")
	latenessFlag  = flag.Duration("allowed_lateness", 24*time.Hour, "streaming: how long after its window a late record still gets a file; a later one goes to the dead letter as too_late")
	idleFlag      = flag.Duration("idle_stop", 0, "streaming: end the job once no message has arrived for this long (0: run until cancelled)")
	dedupeTTL     = flag.Duration("dedupe_ttl", 10*time.Minute, "streaming: how long a source's dedupe_key is remembered")
	overwriteFlag = flag.Bool("overwrite", false, "replace what a previous run left in --output (and --dead_letter): the run writes a fresh folder and swaps it in once it succeeded")
	stagingFlag   = flag.String("staging", "", "batch with a bq:// or pubsub:// output: directory or gs:// prefix for the load job's files and dedupe spill (default a temporary directory)")
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

// prepare checks every flag, then the output folders, before anything is built; with
// --overwrite, o's paths point at the fresh folders the run writes.
func prepare(ctx context.Context) (Options, *address.Outputs, error) {
	if err := runners.Check(); err != nil {
		return Options{}, nil, err
	}
	o, outs, err := optionsFromFlags(ctx)
	if err != nil {
		return Options{}, nil, err
	}
	if err := outs.Prepare(ctx); err != nil {
		return Options{}, nil, err
	}
	o.Output, o.DeadLetter = outs.Path(o.Output), outs.Path(o.DeadLetter)
	return o, outs, nil
}

func execute(ctx context.Context, o Options) error {
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
		return address.Cause(err)
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

// optionsFromFlags checks the flags through the address layer: addresses and their kinds,
// durations, what the runner's workers can reach, outputs that would mix, inputs that match
// nothing and endpoints that do not answer.
func optionsFromFlags(ctx context.Context) (Options, *address.Outputs, error) {
	fail := func(err error) (Options, *address.Outputs, error) { return Options{}, nil, err }
	if *sourcesFlag == "" {
		return fail(fmt.Errorf("--sources is required: a YAML file of source definitions (e.g. --sources=testdata/sources.yaml)"))
	}
	out, err := address.Flag("output", *outputFlag, address.Path, address.GCS, address.Table, address.Topic)
	if err != nil {
		return fail(err)
	}
	dead, err := address.Optional("dead_letter", *deadFlag, address.Path, address.GCS, address.Table)
	if err != nil {
		return fail(err)
	}
	staging, err := address.Optional("staging", *stagingFlag, address.Path, address.GCS)
	if err != nil {
		return fail(err)
	}
	in, err := address.Optional("input", *inputFlag, address.Path, address.GCS, address.Subscription)
	if err != nil {
		return fail(err)
	}
	if *shardRecords <= 0 {
		return fail(fmt.Errorf("--shard_records=%d must be positive (e.g. --shard_records=250000)", *shardRecords))
	}
	if !out.Kind.Files() && *deadFlag == "" {
		return fail(fmt.Errorf("--dead_letter is required with --output=%s: a directory, gs:// prefix or bq://project.dataset.table for failures", out))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		zero bool
	}{{"window", *windowFlag, false}, {"allowed_lateness", *latenessFlag, false}, {"dedupe_ttl", *dedupeTTL, false}, {"idle_stop", *idleFlag, true}} {
		if err := address.Duration(d.name, d.v, address.MinDuration, d.zero); err != nil {
			return fail(err)
		}
	}
	cfgs, err := LoadConfig(*sourcesFlag)
	if err != nil {
		return fail(err)
	}
	if *inputFlag != "" {
		if len(cfgs) != 1 {
			return fail(fmt.Errorf("--input needs --sources to define exactly one source, found %d; give each source its own glob or subscription instead", len(cfgs)))
		}
		cfgs[0].Glob, cfgs[0].Subscription = "", ""
		if in.Kind == address.Subscription {
			cfgs[0].Subscription = in.String()
		} else {
			cfgs[0].Glob = *inputFlag
		}
		if err := cfgs[0].Source.Validate(); err != nil {
			return fail(fmt.Errorf("--input: %w", err))
		}
	}
	runner := runners.FromFlags().Runner
	named := []struct {
		flag string
		a    address.Address
	}{{"output", out}, {"dead_letter", dead}, {"staging", staging}}
	for _, c := range cfgs {
		flagName, v := "sources", c.Glob
		if *inputFlag != "" {
			flagName = "input"
		}
		if c.Subscription != "" {
			v = c.Subscription
		}
		a, err := address.Parse(v)
		if err != nil {
			return fail(fmt.Errorf("--%s: source %q: %s %v", flagName, c.Name, v, err))
		}
		named = append(named, struct {
			flag string
			a    address.Address
		}{flagName, a})
		if c.Subscription == "" {
			if err := address.Matches(ctx, flagName, a); err != nil {
				return fail(fmt.Errorf("source %q: %w", c.Name, err))
			}
		}
	}
	for _, n := range named {
		if n.a == (address.Address{}) {
			continue
		}
		if err := address.Remote(runner, n.flag, n.a); err != nil {
			return fail(err)
		}
		if err := address.Reachable(ctx, n.flag, n.a, 3*time.Second); err != nil {
			return fail(err)
		}
	}
	dests := []address.Dest{{Flag: "dead_letter", Addr: dead}}
	if out.Kind.Files() {
		dests = []address.Dest{
			{Flag: "output", Addr: mustParse(files.Join(out.String(), "clean"))},
			{Flag: "output", Addr: mustParse(files.Join(out.String(), "summary.json"))},
			{Flag: "dead_letter", Addr: dead},
		}
		if dead == (address.Address{}) {
			dests[2].Addr = mustParse(files.Join(out.String(), "dead"))
		}
	} else {
		dests = append(dests, address.Dest{Flag: "output", Addr: out})
	}
	if staging != (address.Address{}) {
		dests = append(dests, address.Dest{Flag: "staging", Addr: staging})
	}
	if err := address.Overlap(dests...); err != nil {
		return fail(err)
	}
	outs := &address.Outputs{Overwrite: *overwriteFlag}
	outs.Add("output", out)
	if dead.Kind.Files() && !insideOf(dead, out) {
		outs.Add("dead_letter", dead)
	}
	stagingDir := staging.String()
	if staging == (address.Address{}) && !out.Kind.Files() {
		stagingDir = filepath.Join(os.TempDir(), "beamline-staging-"+time.Now().UTC().Format("20060102T150405.000000000"))
	}
	o := Options{Staging: stagingDir, Sources: cfgs, Output: out.String(), DeadLetter: dead.String(), ShardRecords: *shardRecords,
		Window: *windowFlag, Lateness: *latenessFlag, IdleStop: *idleFlag, DedupeTTL: *dedupeTTL}
	if err := o.check(); err != nil {
		return fail(err)
	}
	return o, outs, nil
}

// mustParse parses an address built from one already checked.
func mustParse(s string) address.Address {
	a, err := address.Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// insideOf reports whether a lies in b's tree (both files).
func insideOf(a, b address.Address) bool {
	return b.Kind.Files() && address.Overlap(address.Dest{Flag: "a", Addr: a}, address.Dest{Flag: "b", Addr: b}) != nil
}

func writeJSON(ctx context.Context, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return files.WriteFile(ctx, path, append(b, '\n'))
}
