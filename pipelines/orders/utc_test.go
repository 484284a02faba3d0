package main

import (
	"strings"
	"testing"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

// The order history keeps created_at in UTC, whatever offset the order arrived with, and the
// event time is the same instant.
func TestSpecWritesCreatedAtInUTC(t *testing.T) {
	steps, err := clean.NewSteps(Spec())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"2026-11-16T10:00:00Z", "2026-11-16T10:00:00Z"},
		{"2026-11-16T11:30:00+01:30", "2026-11-16T10:00:00Z"},
		{"2026-11-16T05:00:00.25-05:00", "2026-11-16T10:00:00.25Z"},
	} {
		o := strings.Replace(order("O-1", "eur", `"7.99"`, `{"sku":"A","qty":1,"price":"7.99"}`), "2026-11-16T10:00:00Z", tc.in, 1)
		r := record.Record{ID: "r", Source: "orders", Payload: []byte(o)}
		if stage, rej := steps.Apply(&r); rej != nil {
			t.Fatalf("Apply(created_at %s) = dead at %s: %v", tc.in, stage, rej)
		}
		if got := r.Data["created_at"]; got != tc.want {
			t.Errorf("Apply(created_at %s): created_at = %v, want %s", tc.in, got, tc.want)
		}
		if got := r.EventTime.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"); got != tc.want {
			t.Errorf("Apply(created_at %s): event time = %s, want %s", tc.in, got, tc.want)
		}
	}
}
