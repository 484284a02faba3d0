package clean_test

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/clean"
)

func decode(t testing.TB, doc string) map[string]any {
	t.Helper()
	m, err := jsonx.DecodeObject([]byte(doc))
	if err != nil {
		t.Fatalf("decoding %s: %v", doc, err)
	}
	return m
}

func TestLineTotalsCheck(t *testing.T) {
	lt := clean.NewLineTotals(clean.LineTotal{})
	for _, tc := range []struct{ doc, want string }{
		{`{"currency":"eur","total":"12.30","items":[{"qty":2,"price":"6.15"}]}`, ""},
		{`{"currency":"EUR","total":12.3,"items":[{"qty":1,"price":"6.15"},{"qty":"1","price":6.15}]}`, ""},
		{`{"currency":"jpy","total":"1800","items":[{"qty":3,"price":"600"}]}`, ""},
		{`{"currency":"kwd","total":"1.001","items":[{"qty":1,"price":"1.001"}]}`, ""}, // 3 decimals
		{`{"currency":"eur","total":"0.00","items":[]}`, ""},
		{`{"currency":"eur","total":"12.31","items":[{"qty":2,"price":"6.15"}]}`, "total_mismatch"}, // one cent
		{`{"currency":"eur","total":"12.29","items":[{"qty":2,"price":"6.15"}]}`, "total_mismatch"},
		{`{"currency":"eur","total":"6.15","items":[{"qty":2,"price":"6.15"}]}`, "total_mismatch"},
		{`{"currency":"jpy","total":"1801","items":[{"qty":3,"price":"600"}]}`, "total_mismatch"},
		{`{"currency":"eur","total":"1.00","items":[]}`, "total_mismatch"},
		{`{"currency":"eur","total":"12.30","items":[{"price":"6.15"}]}`, "missing_field:items.qty"},
		{`{"currency":"eur","total":"12.30","items":[{"qty":2}]}`, "missing_field:items.price"},
		{`{"currency":"eur","total":"12.30","items":[{"qty":1.5,"price":"6.15"}]}`, "wrong_type:items.qty"},
		{`{"currency":"eur","total":"12.30","items":[{"qty":"two","price":"6.15"}]}`, "wrong_type:items.qty"},
		{`{"currency":"eur","total":"0.00","items":[{"qty":0,"price":"6.15"}]}`, "out_of_range:items.qty"},
		{`{"currency":"eur","total":"12.30","items":[{"qty":2,"price":"6.150001"}]}`, "bad_amount:items.price"},
		{`{"currency":"eur","total":"12.30","items":[{"qty":2,"price":"six"}]}`, "bad_amount:items.price"},
		{`{"currency":"eur","total":"12.30","items":[{"qty":1000000000,"price":"99999999999999.99"}]}`, "bad_amount:items.price"},
		{`{"currency":"eur","total":"12.30","items":["x"]}`, "wrong_type:items"},
		{`{"currency":"eur","total":"12.30","items":{"qty":2}}`, "wrong_type:items"},
		// Left to the rules and the Money normalisation, which give their own reasons.
		{`{"currency":"xyz","total":"12.30","items":[{"qty":2,"price":"6.15"}]}`, ""},
		{`{"currency":"eur","total":"abc","items":[{"qty":2,"price":"6.15"}]}`, ""},
		{`{"currency":"eur","items":[{"qty":2,"price":"6.15"}]}`, ""},
		{`{"currency":"eur","total":"12.30"}`, ""},
	} {
		err := lt.Check(decode(t, tc.doc))
		got := ""
		if err != nil {
			var ce *clean.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Check(%s) = %v (%T), want a *clean.Error", tc.doc, err, err)
			}
			got = ce.Reason
		}
		if got != tc.want {
			t.Errorf("Check(%s) reason = %q (%v), want %q", tc.doc, got, err, tc.want)
		}
	}
}

// The check reads a total the Money normalisation already turned into minor units, and
// custom field names.
func TestLineTotalsAfterNormalise(t *testing.T) {
	lt := clean.NewLineTotals(clean.LineTotal{Total: "amount.value", Currency: "amount.currency", Items: "lines", Quantity: "n", Price: "unit.price"})
	for _, tc := range []struct {
		total any
		want  bool
	}{{int64(1230), true}, {int64(1231), false}, {"12.30", true}} {
		doc := decode(t, `{"amount":{"currency":"EUR"},"lines":[{"n":2,"unit":{"price":"6.15"}}]}`)
		doc["amount"].(map[string]any)["value"] = tc.total
		if err := lt.Check(doc); (err == nil) != tc.want {
			t.Errorf("Check(total %v) = %v, want pass %v", tc.total, err, tc.want)
		}
	}
}

// Every generated order passes: ordergen sums the lines in minor units and prints both with
// the currency's decimals.
func TestLineTotalsPassGeneratedOrders(t *testing.T) {
	var buf bytes.Buffer
	if _, err := ordergen.Write(&buf, ordergen.Config{Seed: 3, Span: 6 * time.Hour, PerMinute: 4, Anomalies: -1}); err != nil {
		t.Fatal(err)
	}
	lt := clean.NewLineTotals(clean.LineTotal{})
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		n++
		if err := lt.Check(decode(t, sc.Text())); err != nil {
			t.Fatalf("line %d %s: %v", n, sc.Text(), err)
		}
	}
	if n < 100 {
		t.Fatalf("only %d generated orders", n)
	}
}

func BenchmarkLineTotals(b *testing.B) {
	lt := clean.NewLineTotals(clean.LineTotal{})
	doc := decode(b, `{"order_id":"O-000001","currency":"eur","total":"73.45","items":[{"sku":"SKU-0001","qty":2,"price":"12.99"},{"sku":"SKU-0002","qty":1,"price":"47.47"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := lt.Check(doc); err != nil {
			b.Fatal(err)
		}
	}
}
