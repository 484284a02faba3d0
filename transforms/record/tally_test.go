package record_test

import (
	"context"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() { register.DoFn2x1[context.Context, string, string](&writtenFn{}) }

// writtenFn counts each element written under source s at stage w.
type writtenFn struct{ ctr record.Counters }

func (f *writtenFn) ProcessElement(ctx context.Context, x string) string {
	f.ctr.Inc(ctx, "s", "w", record.OutcomeWritten, "")
	return x
}

// TestRefusedMovesWrittenToDead: three records counted written, one refused by the sink
// (with no source, as a typed BigQuery row) and one of another source: SumCounters sees two
// written and one dead under s, and the other source's dead only when asked for all.
func TestRefusedMovesWrittenToDead(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo(s, &writtenFn{}, beam.CreateList(s, []string{"a", "b", "c"}))
	refused := beam.CreateList(s, []record.Failure{
		{Stage: "bigquery.Load", Reason: "bq_invalid_row"},
		{Stage: "bigquery.Load", Reason: "bq_invalid_row", Source: "other"},
	})
	record.Refused(s, "s", "w", refused)
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[record.CounterKey]int64{
		{Source: "s", Stage: "w", Outcome: record.OutcomeWritten}:                                    2,
		{Source: "s", Stage: "bigquery.Load", Outcome: record.OutcomeDead, Reason: "bq_invalid_row"}: 1,
	}
	if diff := cmp.Diff(want, record.SumCounters(res.Metrics().AllMetrics(), "s")); diff != "" {
		t.Errorf("SumCounters(s) (-want +got):\n%s", diff)
	}
	all := record.SumCounters(res.Metrics().AllMetrics(), "")
	if got := all[record.CounterKey{Source: "other", Stage: "w", Outcome: record.OutcomeWritten}]; got != -1 {
		t.Errorf("other source's written = %d, want -1", got)
	}
	if got := all[record.CounterKey{Source: "other", Stage: "bigquery.Load", Outcome: record.OutcomeDead, Reason: "bq_invalid_row"}]; got != 1 {
		t.Errorf("other source's dead = %d, want 1", got)
	}
}
