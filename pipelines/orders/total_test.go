package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

// order is an order line as ordergen writes it, with its total and lines given.
func order(id, cur, total, items string) string {
	return `{"order_id":"` + id + `","created_at":"2026-11-16T10:00:00Z","customer":{"id":"C-1","email":"Ana.1@Example.com"},` +
		`"country":"de","currency":"` + cur + `","total":` + total + `,"payment":"card","items":[` + items + `]}`
}

// The order Spec sends an order whose total is not Σ qty × price to the dead letter at
// clean.Validate with reason total_mismatch; good orders, in every currency shape, pass.
func TestSpecChecksOrderTotal(t *testing.T) {
	steps, err := clean.NewSteps(Spec())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, in, stage, reason string }{
		{"eur", order("O-1", "eur", `"25.97"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`), "", ""},
		{"jpy", order("O-2", "jpy", `"1800"`, `{"sku":"A","qty":3,"price":"600"}`), "", ""},
		{"number total", order("O-3", "usd", `25.97`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`), "", ""},
		{"one cent over", order("O-4", "eur", `"25.98"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`), clean.StageValidate, "total_mismatch"},
		{"quantity ignored", order("O-5", "eur", `"17.98"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`), clean.StageValidate, "total_mismatch"},
		{"jpy one yen under", order("O-6", "jpy", `"1799"`, `{"sku":"A","qty":3,"price":"600"}`), clean.StageValidate, "total_mismatch"},
		{"line without price", order("O-7", "eur", `"7.99"`, `{"sku":"A","qty":1}`), clean.StageValidate, "missing_field:items.price"},
		{"unknown currency", order("O-8", "xxy", `"7.99"`, `{"sku":"A","qty":1,"price":"7.99"}`), clean.StageNormalise, "unknown_currency:currency"},
		{"bad total", order("O-9", "eur", `"7,99"`, `{"sku":"A","qty":1,"price":"7.99"}`), clean.StageValidate, "wrong_type:total"},
	} {
		r := record.Record{ID: "r", Source: Source.Name, Payload: []byte(tc.in)}
		stage, e := steps.Apply(&r)
		reason := ""
		if e != nil {
			reason = e.Reason
		}
		if stage != tc.stage || reason != tc.reason {
			t.Errorf("%s: Apply(%s) = %q, %v; want %q, %q", tc.name, tc.in, stage, e, tc.stage, tc.reason)
		}
	}
}

// writeOrders writes cfg's generated orders and the extra lines to a file and returns its
// path and the generated lines.
func writeOrders(t *testing.T, cfg ordergen.Config, extra ...string) (string, []string) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := ordergen.Write(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	good := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, l := range extra {
		buf.WriteString(l + "\n")
	}
	in := filepath.Join(t.TempDir(), "orders.jsonl")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return in, good
}

// setFlags sets the job's flags for one test and restores them after it.
func setFlags(t *testing.T, input, output, dead, alerts, staging string) {
	t.Helper()
	old := []string{*inputFlag, *outputFlag, *deadFlag, *alertsFlag, *stagingFlag, *dimsFlag}
	*inputFlag, *outputFlag, *deadFlag, *alertsFlag, *stagingFlag, *dimsFlag = input, output, dead, alerts, staging, ""
	t.Cleanup(func() {
		*inputFlag, *outputFlag, *deadFlag, *alertsFlag, *stagingFlag, *dimsFlag = old[0], old[1], old[2], old[3], old[4], old[5]
	})
}

// deadLetters reads the failures written under dir.
func deadLetters(t *testing.T, dir string) []record.Failure {
	t.Helper()
	var out []record.Failure
	for _, b := range readAll(t, dir) {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var f record.Failure
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatalf("dead letter %s: %v", sc.Text(), err)
			}
			out = append(out, f)
		}
	}
	return out
}

// A replay with orders whose totals are wrong: they, and only they, land in the dead letter
// with reason total_mismatch and their original payload; run's balance holds (it fails
// otherwise).
func TestReplayDeadLettersTotalMismatch(t *testing.T) {
	bad := []string{
		order("O-900001", "eur", `"25.98"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`),
		order("O-900002", "jpy", `"600"`, `{"sku":"A","qty":3,"price":"600"}`),
	}
	in, good := writeOrders(t, ordergen.Config{Seed: 2, Start: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC), Span: time.Hour, PerMinute: 3, Anomalies: -1}, bad...)
	out := filepath.Join(t.TempDir(), "out")
	setFlags(t, in, out, "", "", "")
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	history := 0
	for _, b := range readAll(t, filepath.Join(out, "history")) {
		history += bytes.Count(b, []byte("\n"))
	}
	if history != len(good) {
		t.Errorf("history holds %d orders, want the %d generated ones", history, len(good))
	}
	type dl struct{ Stage, Reason, Payload string }
	var got []dl
	for _, f := range deadLetters(t, filepath.Join(out, "dead")) {
		got = append(got, dl{f.Stage, f.Reason, f.PayloadString})
	}
	want := []dl{{clean.StageValidate, "total_mismatch", bad[0]}, {clean.StageValidate, "total_mismatch", bad[1]}}
	less := func(a, b dl) bool { return a.Payload < b.Payload }
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
}

// A row the BigQuery sink refuses moves from written to dead in the counters, under the
// orders source, so read = history + dead + duplicates still holds.
func TestSinkRefusedMovesWrittenToDead(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	recs := beam.CreateList(s, []record.Record{cleaned(t, "O-1"), cleaned(t, "O-2"), cleaned(t, "O-3")})
	_, bad := beam.ParDo2(s, &toRowFn{}, recs)
	refused := beam.CreateList(s, []record.Failure{{Stage: "bigquery.Load", Reason: "bq_invalid_row", PayloadString: `{"order_id":"O-2"}`}})
	record.Refused(s, Source.Name, StageWrite, beam.Flatten(s, bad, refused))
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	got := record.SumCounters(res.Metrics().AllMetrics(), "")
	want := map[record.CounterKey]int64{
		{Source: "orders", Stage: StageWrite, Outcome: record.OutcomeWritten}:                             2,
		{Source: "orders", Stage: "bigquery.Load", Outcome: record.OutcomeDead, Reason: "bq_invalid_row"}: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

// cleaned is a generated-shape order run through Spec.
func cleaned(t *testing.T, id string) record.Record {
	t.Helper()
	steps, err := clean.NewSteps(Spec())
	if err != nil {
		t.Fatal(err)
	}
	r := record.Record{ID: id, Source: Source.Name, Payload: []byte(order(id, "eur", `"25.97"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`))}
	if stage, e := steps.Apply(&r); e != nil {
		t.Fatalf("%s rejected %s: %v", stage, r.Payload, e)
	}
	return r
}
