package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

func TestRowOf(t *testing.T) {
	steps, err := clean.NewSteps(Spec())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	ingest := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     OrderRow
	}{
		{"eur", order("O-1", "eur", `"25.97"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`), OrderRow{
			OrderID: "O-1", CreatedAt: at, Customer: Customer{ID: "C-1", Email: "ana.1@example.com"}, Country: "DE", Currency: "EUR",
			Total: 259700, TotalMinor: 2597, Payment: "card",
			Items: []Item{{SKU: "A", Quantity: 2, UnitPrice: 79900, UnitPriceMinor: 799}, {SKU: "B", Quantity: 1, UnitPrice: 99900, UnitPriceMinor: 999}},
			ID:    "r", Source: "orders", Origin: "f.jsonl", IngestTime: ingest,
		}},
		{"jpy has no decimals", order("O-2", "jpy", `"1800"`, `{"sku":"A","qty":3,"price":"600"}`), OrderRow{
			OrderID: "O-2", CreatedAt: at, Customer: Customer{ID: "C-1", Email: "ana.1@example.com"}, Country: "DE", Currency: "JPY",
			Total: 18000000, TotalMinor: 1800, Payment: "card",
			Items: []Item{{SKU: "A", Quantity: 3, UnitPrice: 6000000, UnitPriceMinor: 600}},
			ID:    "r", Source: "orders", Origin: "f.jsonl", IngestTime: ingest,
		}},
	} {
		r := record.Record{ID: "r", Source: Source.Name, Origin: "f.jsonl", IngestTime: ingest, Payload: []byte(tc.in)}
		if stage, e := steps.Apply(&r); e != nil {
			t.Fatalf("%s: %s rejected %s: %v", tc.name, stage, tc.in, e)
		}
		got, err := RowOf(&r)
		if err != nil {
			t.Fatalf("%s: RowOf(%s) = %v", tc.name, tc.in, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: RowOf(%s) (-want +got):\n%s", tc.name, tc.in, diff)
		}
	}
}

// A record that skipped the Money normalisation does not fit a row: bad_row, not a panic.
func TestRowOfRejectsUncleaned(t *testing.T) {
	r := record.Record{ID: "r", Source: Source.Name, Data: map[string]any{"order_id": "O-1", "currency": "EUR", "total": "25.97"}}
	_, err := RowOf(&r)
	e, ok := err.(*clean.Error)
	if !ok || e.Reason != ReasonBadRow {
		t.Errorf("RowOf(total as text) = %v, want reason %s", err, ReasonBadRow)
	}
}

func BenchmarkRowOf(b *testing.B) {
	steps, _ := clean.NewSteps(Spec())
	r := record.Record{ID: "r", Source: Source.Name, Payload: []byte(order("O-1", "eur", `"25.97"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`))}
	if _, e := steps.Apply(&r); e != nil {
		b.Fatal(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RowOf(&r); err != nil {
			b.Fatal(err)
		}
	}
}
