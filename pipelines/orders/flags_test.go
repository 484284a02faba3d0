package main

import (
	"context"
	"encoding/json"
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
		{"bq://my-proj.shop.orders", "bq://my-proj.alerts", "/tmp/dead", "--alerts:"},
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
