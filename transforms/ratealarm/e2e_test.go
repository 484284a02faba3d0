package ratealarm_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/ratealarm"
	"github.com/beamline/beamline/transforms/record"
)

// Generated order lines go through the repository's clean steps, Count and Detect on prism,
// and the pipeline raises exactly the alerts the pure core raises over the same per-minute
// counts, among them alerts for the injected anomalies.
func TestPipelineMatchesCore(t *testing.T) {
	const minutes = 6 * 60
	base, _, _ := fortnight(1)
	cfg := ordergen.Config{Seed: 11, Start: evalStart, Span: minutes * time.Minute, Anomalies: 2}
	var buf bytes.Buffer
	an, err := ordergen.Write(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := ordergen.Minutes(cfg)
	det := ratealarm.Seasonal{Baseline: base, K: 5, Spans: []int{1, 5, 15}}

	// The pure core over the same counts.
	var want []string
	var st ratealarm.State
	var as ratealarm.AlarmState
	for m, c := range counts {
		if k, _ := evalPolicy.Step(&as, det.Observe(&st, evalStart.Add(time.Duration(m)*time.Minute), float64(c))); k != ratealarm.None {
			want = append(want, fmt.Sprintf("%s@%d", k, m))
		}
	}
	sc := evaluate(det, evalPolicy, evalStart, counts, an)
	if sc.Found == 0 || len(want) == 0 {
		t.Fatalf("the core finds %d of %d injected anomalies %+v; the test needs some alerts", sc.Found, len(an), an)
	}

	var recs []record.Record
	sc2 := bufio.NewScanner(&buf)
	for i := 0; sc2.Scan(); i++ {
		recs = append(recs, record.Record{ID: fmt.Sprint(i), Source: "orders", Payload: append([]byte(nil), sc2.Bytes()...)})
	}
	p, s := beam.NewPipelineWithRoot()
	orders, dead := clean.Apply(s, beam.CreateList(s, recs), orderSpec())
	passert.Empty(s, dead)
	// BoundedInput: the end of the input raises no silence, so every alert is compared.
	alerts := ratealarm.Detect(s, ratealarm.Count(s, orders, time.Minute), ratealarm.Spec{Detector: "seasonal", Seasonal: &det},
		ratealarm.WithPolicy(evalPolicy), ratealarm.BoundedInput())
	passert.Equals(s, beam.ParDo(s, &alertsBeforeFn{From: evalStart, Unit: time.Minute, Before: math.MaxInt32}, alerts), beam.CreateList(s, want))
	ptest.RunAndValidate(t, p)
	t.Logf("%d orders, anomalies %+v, alerts %v", len(recs), an, want)
}

// orderSpec is the orders source of testdata/sources.yaml as a clean.Spec.
func orderSpec() clean.Spec {
	zero := 0.0
	return clean.Spec{
		Parse: &clean.ParseSpec{Format: "json"},
		Rules: []clean.Rule{
			{Field: "order_id", Required: true, Type: "string", Regex: `O-[0-9]{6}`},
			{Field: "total", Required: true, Type: "number", Min: &zero},
			{Field: "currency", Required: true, Type: "string"},
		},
		Normalise: &clean.NormaliseSpec{Trim: true, Money: []clean.MoneyField{{Amount: "total", Currency: "currency"}}},
		EventTime: &clean.TimeField{Field: "created_at", Format: "auto"},
	}
}
