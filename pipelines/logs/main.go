// Command logs is Beamline's access-log analytics job: Apache or nginx access logs → parsed
// hits, dead letters, and per-day aggregates counted the way GoAccess counts them (requests,
// unique visitors, bandwidth, status codes, top paths, top 404s, referrers, browsers, OS, hits
// per hour) with a per-minute 5xx error-rate alarm, written as summary.json and one
// self-contained report.html.
//
//	go run ./pipelines/logs --input=testdata/logs/logstalgia-example.log --output=out/logs
//	go run ./pipelines/logs --input='gs://bucket/logs/*.gz' --output=gs://bucket/report --log_format=vhost_combined
//
//	go run ./pipelines/logs --input=testdata/logs/logstalgia-example.log --output=bq://my-project.web.hits --report_dir=out/logs
//
// Outputs under --output: hits/part-*.jsonl, dead/part-*.jsonl, summary.json, report.html.
// With --output=bq://project.dataset.table the hits go to that table (one load job in batch,
// the Storage Write API when streaming), summary.json and report.html to --report_dir, and
// the dead letters to --dead_letter (a directory or a bq:// table; default <report_dir>/dead).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/beamline/beamline/io/address"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/clean"
)

var (
	inputFlag       = flag.String("input", "", "access-log files: a path or glob, local or gs://, or pubsub://projects/P/subscriptions/S for a streaming job (required)")
	outputFlag      = flag.String("output", "", "directory or gs:// prefix for hits/, dead/, summary.json and report.html, or bq://project.dataset.table for the hits (required)")
	reportDirFlag   = flag.String("report_dir", "", "directory or gs:// prefix for summary.json and report.html (default --output; required when --output is a bq:// table)")
	deadFlag        = flag.String("dead_letter", "", "directory, gs:// prefix or bq://project.dataset.table for the dead letters (default <output>/dead, or <report_dir>/dead with a bq:// output)")
	stagingFlag     = flag.String("staging", "", "batch with a bq:// output: directory or gs:// prefix where the load job's rows are staged (default <report_dir>/staging)")
	formatFlag      = flag.String("log_format", "combined", "combined, common, vhost_combined, nginx, or an Apache LogFormat / nginx log_format string")
	topFlag         = flag.Int("top", 50, "length of the top lists (paths, 404s, static files, referrers)")
	errorRateFlag   = flag.Float64("error_rate", 0.05, "a minute alarms when its share of 5xx responses is above this")
	minRequestsFlag = flag.Int64("min_requests", 20, "a minute needs at least this many requests to alarm")
	hitsFlag        = flag.Bool("hits", true, "write the parsed hits as hits/part-*.jsonl")
	overwriteFlag   = flag.Bool("overwrite", false, "replace what a previous run left in --output, --report_dir or --dead_letter: the run writes fresh folders and swaps them in once it succeeded")
	idleFlag        = flag.Duration("idle_stop", 0, "streaming: end the job once no message has arrived for this long (0: run until cancelled)")
)

func main() {
	flag.Parse()
	tuneGC()
	beam.Init()
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "logs:", err)
		os.Exit(1)
	}
}

// tuneGC lets the heap grow 4× between collections instead of 2× unless GOGC says otherwise,
// under a soft limit of 1.5 GiB unless GOMEMLIMIT says otherwise. The job's live heap is small
// (lines stream through; the aggregates are bounded), so at Go's default the collector ran
// constantly: on bench-logs' 1M lines, GOGC=400 took user CPU from 9.5–11.6 s to 7.0–7.8 s for
// 35 MB more peak RSS (166 MB). The limit keeps the 2 GB bound if the heap grows.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1536 << 20)
	}
}

func run(ctx context.Context, w io.Writer) error {
	o, outs, err := prepare(ctx)
	if err != nil {
		return err
	}
	if err := execute(ctx, w, o); err != nil {
		outs.Abort(ctx)
		return err
	}
	return outs.Commit(ctx)
}

// prepare checks every flag and the output folders before anything is built; with
// --overwrite, o's paths point at the fresh folders the run writes.
func prepare(ctx context.Context) (Options, *address.Outputs, error) {
	if err := runners.Check(); err != nil {
		return Options{}, nil, err
	}
	o, err := optionsFromFlags()
	if err != nil {
		return Options{}, nil, err
	}
	outs, err := o.checkPlaces(ctx)
	if err != nil {
		return Options{}, nil, err
	}
	if err := outs.Prepare(ctx); err != nil {
		return Options{}, nil, err
	}
	o.Output, o.ReportDir, o.DeadLetter, o.Staging = outs.Path(o.Output), outs.Path(o.ReportDir), outs.Path(o.DeadLetter), outs.Path(o.Staging)
	return o, outs, nil
}

// checkPlaces checks what the runner's workers can reach, outputs that would mix, an input
// glob that matches nothing and a Pub/Sub endpoint that does not answer.
func (o Options) checkPlaces(ctx context.Context) (*address.Outputs, error) {
	parse := func(v string) address.Address {
		a, _ := address.Parse(v) // checked by optionsFromFlags
		return a
	}
	runner := runners.FromFlags().Runner
	in, out := parse(o.Input), parse(o.Output)
	named := []address.Dest{{Flag: "input", Addr: in}, {Flag: "output", Addr: out}}
	for _, n := range []struct{ flag, v string }{{"report_dir", o.ReportDir}, {"dead_letter", o.DeadLetter}, {"staging", o.Staging}} {
		if n.v != "" {
			named = append(named, address.Dest{Flag: n.flag, Addr: parse(n.v)})
		}
	}
	for _, n := range named {
		if err := address.Remote(runner, n.Flag, n.Addr); err != nil {
			return nil, err
		}
		if err := address.Reachable(ctx, n.Flag, n.Addr, 3*time.Second); err != nil {
			return nil, err
		}
	}
	if err := address.Matches(ctx, "input", in); err != nil {
		return nil, err
	}
	report := "output"
	if o.ReportDir != "" {
		report = "report_dir"
	}
	dead := "dead_letter"
	if o.DeadLetter == "" {
		dead = report
		if out.Kind.Files() {
			dead = "output"
		}
	}
	dests := []address.Dest{
		{Flag: report, Addr: parse(files.Join(o.reportDir(), "summary.json"))},
		{Flag: report, Addr: parse(files.Join(o.reportDir(), "report.html"))},
		{Flag: report, Addr: parse(files.Join(o.reportDir(), "windows"))},
		{Flag: dead, Addr: parse(o.deadLetter())},
	}
	if out.Kind.Files() {
		dests = append(dests, address.Dest{Flag: "output", Addr: parse(files.Join(o.Output, "hits"))})
	} else {
		dests = append(dests, address.Dest{Flag: "output", Addr: out})
	}
	if o.Staging != "" {
		dests = append(dests, address.Dest{Flag: "staging", Addr: parse(o.Staging)})
	}
	if err := address.Overlap(dests...); err != nil {
		return nil, err
	}
	outs := &address.Outputs{Overwrite: *overwriteFlag}
	outs.Add("output", out)
	var roots []address.Address
	if out.Kind.Files() {
		roots = append(roots, out)
	}
	for _, n := range named[2:] {
		if n.Flag == "staging" || !n.Addr.Kind.Files() || withinAny(n.Addr, roots) {
			continue
		}
		outs.Add(n.Flag, n.Addr)
		roots = append(roots, n.Addr)
	}
	return outs, nil
}

// withinAny reports whether a lies in the tree of one of roots.
func withinAny(a address.Address, roots []address.Address) bool {
	for _, r := range roots {
		if address.Overlap(address.Dest{Flag: "a", Addr: a}, address.Dest{Flag: "b", Addr: r}) != nil {
			return true
		}
	}
	return false
}

func execute(ctx context.Context, w io.Writer, o Options) error {
	p, s := beam.NewPipelineWithRoot()
	if pubsub.IsAddress(o.Input) {
		BuildStream(s, o, *idleFlag)
	} else {
		Build(s, o)
	}
	res, err := runners.Run(ctx, p)
	if err != nil {
		return address.Cause(err)
	}
	if res == nil { // a Dataflow dry run
		return nil
	}
	dir := o.reportDir()
	if pubsub.IsAddress(o.Input) {
		fmt.Fprintf(w, "wrote one summary.json and report.html per minute under %s\n", files.Join(dir, "windows"))
		return nil
	}
	b, err := files.ReadAll(ctx, files.Join(dir, "summary.json"))
	if err != nil {
		return err
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		return fmt.Errorf("%s: %w", files.Join(dir, "summary.json"), err)
	}
	if sum.SinkRefused > 0 {
		fmt.Fprintf(w, "lines read %d = parsed %d + dead %d - refused by the table %d\n", sum.LinesRead, sum.Parsed, sum.Dead, sum.SinkRefused)
	} else {
		fmt.Fprintf(w, "lines read %d = parsed %d + dead %d\n", sum.LinesRead, sum.Parsed, sum.Dead)
	}
	fmt.Fprintf(w, "requests %d, unique visitors %d, bytes %d, alarms %d\n", sum.Requests, sum.UniqueVisitors, sum.Bytes, len(sum.Alarms))
	if isTable(o.Output) {
		fmt.Fprintf(w, "loaded %d hits into %s\n", sum.Parsed-sum.SinkRefused, o.Output)
	}
	fmt.Fprintf(w, "wrote %s and %s\n", files.Join(dir, "summary.json"), files.Join(dir, "report.html"))
	return nil
}

func optionsFromFlags() (Options, error) {
	o := Options{Input: *inputFlag, Output: strings.TrimSuffix(*outputFlag, "/"), Format: *formatFlag,
		ReportDir: strings.TrimSuffix(*reportDirFlag, "/"), DeadLetter: strings.TrimSuffix(*deadFlag, "/"), Staging: strings.TrimSuffix(*stagingFlag, "/"),
		Top: *topFlag, ErrorRate: *errorRateFlag, MinRequests: *minRequestsFlag, WriteHits: *hitsFlag}
	return o, o.check()
}

// check validates o, naming the flag and the fix.
func (o Options) check() error {
	if o.Input == "" {
		return fmt.Errorf("--input is required: access-log files, e.g. --input=testdata/logs/logstalgia-example.log or --input='gs://bucket/logs/*.gz'")
	}
	if _, err := address.Flag("input", o.Input, address.Path, address.GCS, address.Subscription); err != nil {
		return err
	}
	if o.Output != "" {
		if _, err := address.Flag("output", o.Output, address.Path, address.GCS, address.Table); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"report_dir", o.ReportDir}, {"staging", o.Staging}} {
		if _, err := address.Optional(f.name, f.v, address.Path, address.GCS); err != nil {
			return err
		}
	}
	if _, err := address.Optional("dead_letter", o.DeadLetter, address.Path, address.GCS, address.Table); err != nil {
		return err
	}
	if err := address.Duration("idle_stop", *idleFlag, address.MinDuration, true); err != nil {
		return err
	}
	if err := o.checkOutputs(); err != nil {
		return err
	}
	switch {
	case o.Top <= 0:
		return fmt.Errorf("--top=%d must be positive (e.g. --top=50)", o.Top)
	case o.ErrorRate < 0 || o.ErrorRate > 1:
		return fmt.Errorf("--error_rate=%g must be a share between 0 and 1 (e.g. --error_rate=0.05 for 5%%)", o.ErrorRate)
	case o.MinRequests < 1:
		return fmt.Errorf("--min_requests=%d must be at least 1 (e.g. --min_requests=20)", o.MinRequests)
	}
	if _, err := clean.CompileLogFormat(o.Format); err != nil {
		return fmt.Errorf("--log_format=%q: %v; use combined, common, vhost_combined, nginx or an Apache LogFormat string such as '%%h %%l %%u %%t \"%%r\" %%>s %%b'", o.Format, err)
	}
	return nil
}
