// Command orders is Beamline's orders job: order events (JSON files replayed in event time,
// or a Pub/Sub subscription) → tag → clean (order total = Σ qty × price, amounts to minor
// units, UTC timestamps, event time) → dedupe by order_id → order history (NDJSON files, or a
// BigQuery table of OrderRow: one row per order, its lines a REPEATED RECORD, partitioned by
// day on created_at), and the transaction rate alarm: orders per window and key (all, and
// each --dimensions value) → detector → alerts (NDJSON, a Pub/Sub topic or a BigQuery table).
//
//	go run ./pipelines/orders --input=out/orders-day.jsonl --output=out/orders
//	go run ./pipelines/orders --input=pubsub://projects/P/subscriptions/S --output=bq://P.shop.orders \
//	    --alerts=pubsub://projects/P/topics/alerts --dead_letter=gs://b/dead
//	go run ./pipelines/orders --input=out/orders-day.jsonl --output=bq://P.shop.orders \
//	    --alerts=bq://P.shop.order_alerts --dead_letter=out/orders-dead --staging=gs://b/tmp
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/address"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/ratealarm"
	"github.com/beamline/beamline/transforms/record"
)

var (
	inputFlag           = flag.String("input", "", "glob of order JSON lines (replayed in event time) or pubsub://projects/P/subscriptions/S (required)")
	outputFlag          = flag.String("output", "", "directory or gs:// prefix for history/ and dead/, or bq://project.dataset.table for the order history (required)")
	alertsFlag          = flag.String("alerts", "", "where alerts go, comma-separated: directories, gs:// prefixes, pubsub://projects/P/topics/T, bq://project.dataset.table (default <output>/alerts)")
	lakeFlag            = flag.String("lake", "", "directory or gs:// prefix for the raw orders as they arrived (window-aware files when streaming; default: none)")
	deadFlag            = flag.String("dead_letter", "", "directory or gs:// prefix for failures (default <output>/dead; required with a bq:// output)")
	windowFlag          = flag.Duration("window", time.Minute, "event-time window of the order counts")
	detectorFlag        = flag.String("detector", "ewma", "ewma, mad, threshold (with --min/--max) or seasonal (with --baseline)")
	minFlag             = flag.Float64("min", 0, "threshold detector: alarm below this many orders per window")
	maxFlag             = flag.Float64("max", 0, "threshold detector: alarm above this many orders per window")
	baselineModelFlag   = flag.String("baseline_model", "", "seasonal detector: model store root (directory or gs:// prefix) whose newest baseline, published by pipelines/baseline-train, is followed while running")
	baselineNameFlag    = flag.String("baseline_name", "order-baseline", "seasonal detector with --baseline_model: the baseline's name in the store")
	baselineRefreshFlag = flag.Duration("baseline_refresh", 5*time.Minute, "seasonal detector with --baseline_model: how often each worker looks for a new version")
	baselineFlag        = flag.String("baseline", "", "seasonal detector: JSON file of the hour-of-week baseline (ratealarm.Baseline)")
	dimsFlag            = flag.String("dimensions", "", "comma-separated order fields counted as keys besides all, e.g. country (default: all only)")
	idleFlag            = flag.Duration("idle_stop", 0, "streaming: end once no message has arrived for this long (0: run until cancelled)")
	overwriteFlag       = flag.Bool("overwrite", false, "replace what a previous run left in --output, --dead_letter, --alerts or --lake: the run writes fresh folders and swaps them in once it succeeded")
	stagingFlag         = flag.String("staging", "", "batch with a bq:// output or --alerts: where the load jobs stage their files (default a temporary directory)")
)

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
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

// prepare checks every flag, the baseline model and the output folders before anything is
// built; with --overwrite, o's paths point at the fresh folders the run writes.
func prepare(ctx context.Context) (Options, *address.Outputs, error) {
	if err := runners.Check(); err != nil {
		return Options{}, nil, err
	}
	o, err := optionsFromFlags()
	if err != nil {
		return Options{}, nil, err
	}
	outs, err := checkPlaces(ctx, o)
	if err != nil {
		return Options{}, nil, err
	}
	if err := checkBaselineModel(ctx, o); err != nil {
		return Options{}, nil, err
	}
	if err := outs.Prepare(ctx); err != nil {
		return Options{}, nil, err
	}
	o.Output, o.DeadLetter, o.Lake = outs.Path(o.Output), outs.Path(o.DeadLetter), outs.Path(o.Lake)
	for i := range o.Alerts {
		o.Alerts[i] = outs.Path(o.Alerts[i])
	}
	return o, outs, nil
}

// checkPlaces checks what the runner's workers can reach, outputs that would mix, an input
// glob that matches nothing and a Pub/Sub endpoint that does not answer.
func checkPlaces(ctx context.Context, o Options) (*address.Outputs, error) {
	runner := runners.FromFlags().Runner
	parse := func(flag, v string) address.Address {
		a, _ := address.Parse(v) // checked by optionsFromFlags
		return a
	}
	in, out := parse("input", o.Input), parse("output", o.Output)
	named := []address.Dest{{Flag: "input", Addr: in}, {Flag: "output", Addr: out}, {Flag: "dead_letter", Addr: parse("dead_letter", o.DeadLetter)}}
	for _, a := range o.Alerts {
		named = append(named, address.Dest{Flag: "alerts", Addr: parse("alerts", a)})
	}
	if o.Lake != "" {
		named = append(named, address.Dest{Flag: "lake", Addr: parse("lake", o.Lake)})
	}
	if *stagingFlag != "" {
		named = append(named, address.Dest{Flag: "staging", Addr: parse("staging", o.Staging)})
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
	// The history is written under <output>/history; the other outputs are folders of their own.
	dests := append([]address.Dest(nil), named[1:]...)
	if out.Kind.Files() {
		dests[0].Addr = parse("output", files.Join(o.Output, "history"))
	}
	if err := address.Overlap(dests...); err != nil {
		return nil, err
	}
	outs := &address.Outputs{Overwrite: *overwriteFlag}
	outs.Add("output", out)
	for _, d := range dests[1:] {
		if d.Flag == "staging" || within(d.Addr, out) {
			continue
		}
		outs.Add(d.Flag, d.Addr)
	}
	return outs, nil
}

// within reports whether a lies in b's tree (both files).
func within(a, b address.Address) bool {
	return b.Kind.Files() && a.Kind.Files() && address.Overlap(address.Dest{Flag: "a", Addr: a}, address.Dest{Flag: "b", Addr: b}) != nil
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
	var read, ok, dead, dups int64
	for k, n := range record.SumCounters(res.Metrics().AllMetrics(), Source.Name) {
		switch {
		case k.Stage == "tag" && k.Outcome == record.OutcomeRead:
			read += n
		case k.Outcome == record.OutcomeWritten:
			ok += n
		case k.Outcome == record.OutcomeDead:
			dead += n
		case k.Outcome == record.OutcomeDuplicate:
			dups += n
		}
	}
	fmt.Printf("orders: read %d = history %d + dead %d + duplicates %d (%v)\n", read, ok, dead, dups, read == ok+dead+dups)
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace == "ratealarm" && c.Key.Name == "alerts_after_input_end" && c.Result() > 0 {
			fmt.Printf("orders: left out %d alert(s) of windows after the end of the input (the end of a replay is not silence)\n", c.Result())
		}
	}
	if dir := alertFiles(o.Alerts); dir != "" {
		if err := printAlerts(ctx, dir); err != nil {
			return err
		}
	}
	if read != ok+dead+dups {
		return fmt.Errorf("read %d != history %d + dead %d + duplicates %d: orders were lost", read, ok, dead, dups)
	}
	return nil
}

// alertFiles is the first alert destination that is files, or "".
func alertFiles(dests []string) string {
	for _, d := range dests {
		if !pubsub.IsAddress(d) && !isTable(d) {
			return d
		}
	}
	return ""
}

// printAlerts prints the alarms written under dir, in time order.
func printAlerts(ctx context.Context, dir string) error {
	names, err := files.List(ctx, files.Join(dir, "*.jsonl"))
	if err != nil {
		names = nil // no alert file: nothing was alarmed
	}
	var alerts []ratealarm.Alert
	for _, n := range names {
		b, err := files.ReadAll(ctx, n)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			var a ratealarm.Alert
			if err := jsonx.Unmarshal(sc.Bytes(), &a); err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			alerts = append(alerts, a)
		}
	}
	sort.Slice(alerts, func(i, j int) bool {
		if !alerts[i].WindowStart.Equal(alerts[j].WindowStart) {
			return alerts[i].WindowStart.Before(alerts[j].WindowStart)
		}
		return alerts[i].Key < alerts[j].Key
	})
	fmt.Printf("alarms (%d):\n", len(alerts))
	for _, a := range alerts {
		fmt.Printf("  %s  %-9s %-8s %-16s observed %5.0f expected %7.1f score %6.1f (%s)\n",
			a.WindowStart.Format("2006-01-02 15:04"), a.Kind, a.Severity, a.Key, a.Observed, a.Expected, a.Score, a.Detector)
	}
	return nil
}

// knownDimensions are the order fields that make sensible keys for --dimensions.
var knownDimensions = []string{"country", "currency", "payment"}

// dimensions parses --dimensions, refusing a field orders do not have.
func dimensions(v string) ([]string, error) {
	var dims []string
	for _, d := range strings.Split(v, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if !slices.Contains(knownDimensions, d) {
			return nil, fmt.Errorf("--dimensions=%s: %q is not an order field counted as a key; use one or more of %s (e.g. --dimensions=country)", v, d, strings.Join(knownDimensions, ", "))
		}
		dims = append(dims, d)
	}
	return dims, nil
}

func optionsFromFlags() (Options, error) {
	in, err := address.Flag("input", *inputFlag, address.Path, address.GCS, address.Subscription)
	if err != nil {
		return Options{}, err
	}
	out, err := address.Flag("output", *outputFlag, address.Path, address.GCS, address.Table)
	if err != nil {
		return Options{}, err
	}
	deadA, err := address.Optional("dead_letter", *deadFlag, address.Path, address.GCS)
	if err != nil {
		return Options{}, err
	}
	if _, err := address.Optional("lake", *lakeFlag, address.Path, address.GCS); err != nil {
		return Options{}, err
	}
	if _, err := address.Optional("staging", *stagingFlag, address.Path, address.GCS); err != nil {
		return Options{}, err
	}
	if _, err := address.Optional("baseline_model", *baselineModelFlag, address.Path, address.GCS); err != nil {
		return Options{}, err
	}
	outTable := out.Kind == address.Table
	dead, alerts := deadA.String(), *alertsFlag
	if outTable && (dead == "" || alerts == "") {
		return Options{}, fmt.Errorf("--dead_letter and --alerts are required with --output=%s (directories, gs:// prefixes, or a topic or table for --alerts)", out)
	}
	var dests []string
	for _, a := range strings.Split(alerts, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		addr, err := address.Flag("alerts", a, address.Path, address.GCS, address.Topic, address.Table)
		if err != nil {
			return Options{}, err
		}
		dests = append(dests, addr.String())
	}
	if dead == "" {
		dead = files.Join(out.String(), "dead")
	}
	if len(dests) == 0 {
		dests = []string{files.Join(out.String(), "alerts")}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		zero bool
	}{{"window", *windowFlag, false}, {"idle_stop", *idleFlag, true}, {"baseline_refresh", *baselineRefreshFlag, false}} {
		if err := address.Duration(d.name, d.v, address.MinDuration, d.zero); err != nil {
			return Options{}, err
		}
	}
	spec, err := detectorSpec()
	if err != nil {
		return Options{}, err
	}
	dims, err := dimensions(*dimsFlag)
	if err != nil {
		return Options{}, err
	}
	staging := *stagingFlag
	if staging == "" {
		staging = filepath.Join(os.TempDir(), "beamline-orders-staging-"+time.Now().UTC().Format("20060102T150405.000000000"))
	}
	lake, _ := address.Optional("lake", *lakeFlag, address.Path, address.GCS)
	return Options{Input: in.String(), Output: out.String(), Alerts: dests, Lake: lake.String(), DeadLetter: dead,
		Window: *windowFlag, Detector: spec, Dimensions: dims, IdleStop: *idleFlag, Staging: strings.TrimSuffix(staging, "/"),
		BaselineModel: strings.TrimSuffix(*baselineModelFlag, "/"), BaselineName: *baselineNameFlag, BaselineRefresh: *baselineRefreshFlag}, nil
}

// detectorSpec turns --detector and its flags into a ratealarm.Spec, checked by Build.
func detectorSpec() (ratealarm.Spec, error) {
	var spec ratealarm.Spec
	switch *detectorFlag {
	case "ewma":
		spec = ratealarm.Spec{Detector: "ewma", EWMA: &ratealarm.EWMA{Alpha: 0.05, Z: 4, WarmUp: 60, MinExpected: 2}}
	case "mad":
		spec = ratealarm.Spec{Detector: "mad", MAD: &ratealarm.MAD{Window: 60, K: 6, MinExpected: 2}}
	case "threshold":
		switch {
		case *minFlag < 0 || *maxFlag < 0:
			return spec, fmt.Errorf("--min=%g --max=%g: counts are never negative; give --min and/or --max of at least 0 (e.g. --min=1 --max=100 orders per window)", *minFlag, *maxFlag)
		case *maxFlag > 0 && *minFlag >= *maxFlag:
			return spec, fmt.Errorf("--min=%g is not below --max=%g: every window would alarm; give --min below --max (e.g. --min=1 --max=100), or --max=0 for no upper bound", *minFlag, *maxFlag)
		}
		spec = ratealarm.Spec{Detector: "threshold", Threshold: &ratealarm.Threshold{Min: *minFlag, Max: *maxFlag}}
	case "seasonal":
		if *baselineModelFlag != "" && *baselineFlag != "" {
			return spec, fmt.Errorf("--baseline=%s and --baseline_model=%s: give one (the store's newest version, or a fixed file)", *baselineFlag, *baselineModelFlag)
		}
		if *baselineModelFlag != "" {
			// The baseline comes from the store when Detect starts, and again whenever a
			// newer version is published (ratealarm.BaselineFrom).
			return ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{K: 5, Spans: []int{1, 5, 15}, MinStd: 1, MinExpected: 2}}, nil
		}
		if *baselineFlag == "" {
			return spec, fmt.Errorf("--detector=seasonal needs --baseline_model=DIR_OR_GS (published by pipelines/baseline-train) or --baseline=FILE (a ratealarm.Baseline as JSON)")
		}
		b, err := os.ReadFile(*baselineFlag)
		if err != nil {
			return spec, fmt.Errorf("--baseline: %w", err)
		}
		var base ratealarm.Baseline
		if err := jsonx.Unmarshal(b, &base); err != nil {
			return spec, fmt.Errorf("--baseline=%s: not a baseline: %w", *baselineFlag, err)
		}
		spec = ratealarm.Spec{Detector: "seasonal", Seasonal: &ratealarm.Seasonal{Baseline: base, K: 5, Spans: []int{1, 5, 15}, MinStd: 1, MinExpected: 2}}
	default:
		return spec, fmt.Errorf("--detector=%s: use ewma, mad, threshold or seasonal", *detectorFlag)
	}
	if _, err := spec.Build(); err != nil {
		return spec, fmt.Errorf("--detector=%s: %w (set --min/--max for threshold)", *detectorFlag, err)
	}
	return spec, nil
}

// checkBaselineModel fails fast when --baseline_model has no baseline to follow, or its newest
// one was learned at another window than --window: the job would otherwise start, and then
// fail or refuse the version at its first count.
func checkBaselineModel(ctx context.Context, o Options) error {
	if o.BaselineModel == "" {
		return nil
	}
	a, err := modelstore.OpenLatest(ctx, o.BaselineModel, o.BaselineName, modelstore.WithKind(ratealarm.BaselineKind))
	if err != nil {
		return fmt.Errorf("--baseline_model=%s --baseline_name=%s: %w (publish one with pipelines/baseline-train --window=%s)",
			o.BaselineModel, o.BaselineName, err, o.Window)
	}
	if err := ratealarm.CheckBaselineWindow(a.Manifest, o.Window); err != nil {
		return fmt.Errorf("--window=%s with --baseline_model=%s: %w", o.Window, o.BaselineModel, err)
	}
	return nil
}
