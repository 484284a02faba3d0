package main

import (
	"strings"
	"testing"
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
