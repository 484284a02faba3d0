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
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/bigquery"
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
	if err := runners.Check(); err != nil {
		return err
	}
	o, err := optionsFromFlags()
	if err != nil {
		return err
	}
	if err := checkBaselineModel(ctx, o); err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, o)
	res, err := runners.Run(ctx, p)
	if err != nil || res == nil {
		return err
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

func optionsFromFlags() (Options, error) {
	if *inputFlag == "" {
		return Options{}, fmt.Errorf("--input is required: a glob of order JSON lines or pubsub://projects/P/subscriptions/S")
	}
	if pubsub.IsAddress(*inputFlag) {
		if _, err := pubsub.ParseSubscription(*inputFlag); err != nil {
			return Options{}, fmt.Errorf("--input: %w", err)
		}
	}
	if *outputFlag == "" {
		return Options{}, fmt.Errorf("--output is required: a directory, gs:// prefix or bq://project.dataset.table")
	}
	out := strings.TrimSuffix(*outputFlag, "/")
	outTable := isTable(out)
	if outTable {
		if _, err := bigquery.ParseTable(out); err != nil {
			return Options{}, fmt.Errorf("--output: %w", err)
		}
	}
	dead, alerts := *deadFlag, *alertsFlag
	if outTable && (dead == "" || alerts == "") {
		return Options{}, fmt.Errorf("--dead_letter and --alerts are required with --output=%s (directories, gs:// prefixes, or a topic or table for --alerts)", out)
	}
	var dests []string
	for _, a := range strings.Split(alerts, ",") {
		if a = strings.TrimSuffix(strings.TrimSpace(a), "/"); a == "" {
			continue
		}
		if isTable(a) {
			if _, err := bigquery.ParseTable(a); err != nil {
				return Options{}, fmt.Errorf("--alerts: %w", err)
			}
		}
		if pubsub.IsAddress(a) {
			if _, err := pubsub.ParseTopic(a); err != nil {
				return Options{}, fmt.Errorf("--alerts: %w", err)
			}
		}
		dests = append(dests, a)
	}
	if *lakeFlag != "" && (isTable(*lakeFlag) || pubsub.IsAddress(*lakeFlag)) {
		return Options{}, fmt.Errorf("--lake=%s: the raw lake is files; give a directory or gs:// prefix", *lakeFlag)
	}
	if isTable(dead) {
		return Options{}, fmt.Errorf("--dead_letter=%s: the orders job writes failures to files; give a directory or gs:// prefix", dead)
	}
	if dead == "" {
		dead = files.Join(out, "dead")
	}
	if len(dests) == 0 {
		dests = []string{files.Join(out, "alerts")}
	}
	if *windowFlag <= 0 {
		return Options{}, fmt.Errorf("--window=%s must be positive (e.g. --window=1m)", *windowFlag)
	}
	spec, err := detectorSpec()
	if err != nil {
		return Options{}, err
	}
	var dims []string
	for _, d := range strings.Split(*dimsFlag, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dims = append(dims, d)
		}
	}
	staging := *stagingFlag
	if staging == "" {
		staging = filepath.Join(os.TempDir(), "beamline-orders-staging-"+time.Now().UTC().Format("20060102T150405.000000000"))
	}
	return Options{Input: *inputFlag, Output: out, Alerts: dests, Lake: strings.TrimSuffix(*lakeFlag, "/"), DeadLetter: strings.TrimSuffix(dead, "/"),
		Window: *windowFlag, Detector: spec, Dimensions: dims, IdleStop: *idleFlag, Staging: staging,
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
