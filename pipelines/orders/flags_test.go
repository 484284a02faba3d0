package main

import (
	"context"
	"encoding/json"
	"github.com/beamline/beamline/internal/dev/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/transforms/ratealarm"
)

// Bad --output, --alerts and --dead_letter combinations fail before the pipeline is built,
// naming the flag.
func TestOptionsFromFlagsTables(t *testing.T) {
	for _, tc := range []struct{ output, alerts, dead, want string }{
		{"bq://my-proj.shop.orders", "bq://my-proj.shop.alerts", "/tmp/dead", ""},
		{"/tmp/out", "bq://my-proj.shop.alerts", "", ""},
		{"bq://my-proj.shop.orders", "", "/tmp/dead", "--dead_letter and --alerts are required"},
		{"bq://my-proj.shop.orders", "bq://my-proj.alerts", "/tmp/dead", "--alerts=bq://my-proj.alerts"},
		{"/tmp/out", "", "bq://my-proj.shop.dead", "--dead_letter=bq://my-proj.shop.dead"},
	} {
		setFlags(t, "in/*.jsonl", tc.output, tc.dead, tc.alerts, "")
		_, err := optionsFromFlags()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tc.want == "") != (err == nil) || !strings.Contains(got, tc.want) {
			t.Errorf("optionsFromFlags(--output=%s --alerts=%s --dead_letter=%s) = %v, want an error containing %q", tc.output, tc.alerts, tc.dead, err, tc.want)
		}
	}
}

// --baseline_model fails before the pipeline is built when the store has no baseline of that
// name, or its newest was learned at another window than --window.
func TestCheckBaselineModel(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	feat, _ := json.Marshal(ratealarm.BaselineFeatures{Window: "5m0s"})
	bj, _ := json.Marshal(map[string]ratealarm.Baseline{ratealarm.All: {0: {Mean: 50, Std: 5}}})
	if _, err := modelstore.Publish(ctx, root, "order-baseline", modelstore.Manifest{Kind: ratealarm.BaselineKind, Features: feat},
		map[string][]byte{ratealarm.BaselinesFile: bj}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   string
	}{
		{"order-baseline", 5 * time.Minute, ""},
		{"order-baseline", time.Minute, "was learned at 5m0s windows, the counts are 1m0s windows"},
		{"other", 5 * time.Minute, "--baseline_name=other"},
	} {
		err := checkBaselineModel(ctx, Options{BaselineModel: root, BaselineName: tc.name, Window: tc.window})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tc.want == "") != (err == nil) || !strings.Contains(got, tc.want) {
			t.Errorf("checkBaselineModel(%s at %s) = %v, want an error containing %q", tc.name, tc.window, err, tc.want)
		}
	}
}

// checks runs every check main runs before it builds the pipeline, on the parsed flags.
func checks() error {
	_, _, err := prepare(context.Background())
	return err
}

// Bad flags fail before the pipeline is built, with one line naming the flag and the fix.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.jsonl")
	os.WriteFile(in, []byte("{}\n"), 0o644)
	full := filepath.Join(dir, "full")
	os.MkdirAll(filepath.Join(full, "history"), 0o755)
	os.WriteFile(filepath.Join(full, "history", "part-00000-of-00002.jsonl"), []byte("{}\n"), 0o644)
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, nil, 0o644)
	out := func() string { return filepath.Join(t.TempDir(), "out") }
	base := func(extra ...string) []string {
		return append([]string{"--input=" + in, "--output=" + out()}, extra...)
	}
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": testenv.ClosedPort(t)}
	dataflow := []string{"--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/staging"}
	o := out()
	testenv.RunFlagCases(t, []testenv.FlagCase{
		testenv.Row("ok", base(), nil, nil),
		testenv.Row("airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil),
		testenv.Row("no input", []string{"--output=" + out()}, []string{"--input is required", "a local path"}, nil),
		testenv.Row("no output", []string{"--input=" + in}, []string{"--output is required", "gs://bucket/prefix"}, nil),
		testenv.Row("window 1ns", base("--window=1ns"), []string{"--window=1ns is too short", "at least 1ms"}, nil),
		testenv.Row("window 0", base("--window=0"), []string{"--window=0s is too short"}, nil),
		testenv.Row("idle stop 1us", base("--idle_stop=1us"), []string{"--idle_stop=1µs", "or 0 to turn it off"}, nil),
		testenv.Row("baseline refresh", base("--baseline_refresh=0"), []string{"--baseline_refresh=0s"}, nil),
		testenv.Row("alerts kafka", base("--alerts=kafka://x"), []string{"--alerts=kafka://x", `unknown scheme "kafka://"`, "pubsub://projects/P/topics/T"}, nil),
		testenv.Row("alerts subscription", base("--alerts=pubsub://projects/my-project/subscriptions/alerts"), []string{"--alerts=pubsub://projects/my-project/subscriptions/alerts is a subscription", "topics"}, nil),
		testenv.Row("alerts bad table", base("--alerts=bq://my-proj.alerts"), []string{"--alerts=bq://my-proj.alerts"}, nil),
		testenv.Row("input topic", []string{"--input=pubsub://projects/my-project/topics/orders", "--output=" + out()}, []string{"--input=pubsub://projects/my-project/topics/orders is a topic", "subscriptions/S"}, nil),
		testenv.Row("input matches nothing", []string{"--input=" + filepath.Join(dir, "none-*.jsonl"), "--output=" + out()}, []string{"--input=", "matches no file"}, nil),
		testenv.Row("input unknown scheme", []string{"--input=http://example.com/x", "--output=" + out()}, []string{"--input=http://example.com/x", "unknown scheme"}, nil),
		testenv.Row("lake table", base("--lake=bq://my-project.shop.lake"), []string{"--lake=bq://my-project.shop.lake", "does not take"}, nil),
		testenv.Row("dead letter table", base("--dead_letter=bq://my-project.shop.dead"), []string{"--dead_letter=bq://my-project.shop.dead", "does not take"}, nil),
		testenv.Row("table output needs alerts", []string{"--input=" + in, "--output=bq://my-project.shop.orders", "--dead_letter=" + out()}, []string{"--dead_letter and --alerts are required"}, nil),
		testenv.Row("dead letter in history", []string{"--input=" + in, "--output=" + o, "--dead_letter=" + filepath.Join(o, "history", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil),
		testenv.Row("alerts in lake", base("--lake="+filepath.Join(o, "lake"), "--alerts="+filepath.Join(o, "lake", "alerts")), []string{"--alerts=", "is inside", "--lake writes"}, nil),
		testenv.Row("alerts twice", base("--alerts="+filepath.Join(o, "a")+","+filepath.Join(o, "a")), []string{"--alerts and --alerts both write to"}, nil),
		testenv.Row("lake is the history", []string{"--input=" + in, "--output=" + o, "--lake=" + filepath.Join(o, "history")}, []string{"--lake", "--output"}, nil),
		testenv.Row("output is a file", []string{"--input=" + in, "--output=" + aFile}, []string{"--output=" + aFile + " is a file, not a folder"}, nil),
		testenv.Row("output not empty", []string{"--input=" + in, "--output=" + full}, []string{"already holds 1 file(s)", "--overwrite"}, nil),
		testenv.Row("output not empty, overwrite", []string{"--input=" + in, "--output=" + full, "--overwrite"}, nil, nil),
		testenv.Row("threshold min above max", base("--detector=threshold", "--min=10", "--max=1"), []string{"--min=10 is not below --max=1", "--min=1 --max=100"}, nil),
		testenv.Row("threshold negative", base("--detector=threshold", "--min=-1"), []string{"--min=-1", "at least 0"}, nil),
		testenv.Row("threshold unset", base("--detector=threshold"), []string{"--detector=threshold", "--min/--max"}, nil),
		testenv.Row("threshold max only", base("--detector=threshold", "--max=100"), nil, nil),
		testenv.Row("unknown detector", base("--detector=zscore"), []string{"--detector=zscore", "ewma, mad, threshold or seasonal"}, nil),
		testenv.Row("seasonal without baseline", base("--detector=seasonal"), []string{"--detector=seasonal needs --baseline_model"}, nil),
		testenv.Row("seasonal empty store", base("--detector=seasonal", "--baseline_model="+t.TempDir()), []string{"--baseline_model=", "pipelines/baseline-train"}, nil),
		testenv.Row("unknown dimension", base("--dimensions=country,colour"), []string{"--dimensions=country,colour", `"colour" is not an order field`, "country, currency, payment"}, nil),
		testenv.Row("dimensions ok", base("--dimensions=country, currency"), nil, nil),
		testenv.Row("dataflow local input", append([]string{"--input=" + in, "--output=gs://b/out"}, dataflow...), []string{"--input=", "Dataflow workers cannot reach"}, nil),
		testenv.Row("pubsub unreachable", []string{"--input=pubsub://projects/my-project/subscriptions/orders", "--output=" + out()}, []string{"--input=pubsub://", "cannot reach PUBSUB_EMULATOR_HOST="}, emu),
		testenv.Row("alerts topic unreachable", base("--alerts=pubsub://projects/my-project/topics/alerts"), []string{"--alerts=pubsub://", "cannot reach"}, emu),
	}, checks)
}
