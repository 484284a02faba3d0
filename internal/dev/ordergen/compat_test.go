package ordergen_test

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

// OrderSpec is the orders source of testdata/sources.yaml as a clean.Spec.
func orderSpec() clean.Spec {
	zero := 0.0
	return clean.Spec{
		Parse: &clean.ParseSpec{Format: "json"},
		Rules: []clean.Rule{
			{Field: "order_id", Required: true, Type: "string", Regex: `O-[0-9]{6}`},
			{Field: "created_at", Required: true},
			{Field: "customer.email", Required: true, Type: "string"},
			{Field: "currency", Required: true, Type: "string"},
			{Field: "total", Required: true, Type: "number", Min: &zero},
			{Field: "country", Required: true, Enum: []string{"DE", "FR", "GB", "US", "JP", "SE", "CH", "PL", "de", "fr", "gb", "us", "jp", "se", "ch", "pl"}},
			{Field: "payment", Enum: []string{"card", "paypal", "invoice"}},
		},
		Normalise: &clean.NormaliseSpec{Trim: true, Emails: []string{"customer.email"},
			Money: []clean.MoneyField{{Amount: "total", Currency: "currency"}}},
		EventTime: &clean.TimeField{Field: "created_at", Format: "auto"},
	}
}

// Generated orders pass the repository's own order rules and normalisation unchanged, and
// their event time is the time they were generated for.
func TestOrdersPassTheOrderSource(t *testing.T) {
	steps, err := clean.NewSteps(orderSpec())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	cfg := ordergen.Config{Seed: 4, Span: 12 * time.Hour, PerMinute: 3}
	if _, err := ordergen.Write(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	counts, _ := ordergen.Minutes(cfg)
	start := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	got := make([]int, len(counts))
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		n++
		r := record.Record{ID: "x", Source: "orders", Payload: append([]byte(nil), sc.Bytes()...)}
		if stage, err := steps.Apply(&r); err != nil {
			t.Fatalf("line %d %s: %s rejected it: %v", n, sc.Text(), stage, err)
		}
		if _, ok := r.Data["total"].(int64); !ok {
			t.Fatalf("line %d: total %v (%T) not in minor units", n, r.Data["total"], r.Data["total"])
		}
		got[int(r.EventTime.Sub(start)/time.Minute)]++
	}
	if n == 0 {
		t.Fatal("no orders written")
	}
	for m := range counts {
		if counts[m] != got[m] {
			t.Fatalf("minute %d: %d orders by event time, Minutes says %d", m, got[m], counts[m])
		}
	}
}
