package record

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn2x1[context.Context, Failure, Failure](&refusedFn{})
}

// SumCounters adds up a finished run's Beamline counters by parsed name, over every step
// that counted under the same name. An empty source keeps every source's counters; others
// keep only source's. What each job makes of the sums (read = written + dead, …) is its own.
func SumCounters(res metrics.QueryResults, source string) map[CounterKey]int64 {
	out := map[CounterKey]int64{}
	for _, c := range res.Counters() {
		if c.Key.Namespace != MetricNamespace {
			continue
		}
		k, ok := ParseCounterName(c.Key.Name)
		if !ok || (source != "" && k.Source != source) {
			continue
		}
		out[k] += c.Result()
	}
	return out
}

// Refused takes the failures a sink refused back out of what a job counted written at
// writeStage: for each, <source>/<writeStage>/written goes down by one and
// <source>/<its stage>/dead/<reason> up, so read = written + dead still holds. A failure
// without a source (a typed BigQuery row has none) gets source.
//
//	failures, out: PCollection<Failure>
func Refused(s beam.Scope, source, writeStage string, failures beam.PCollection) beam.PCollection {
	if writeStage == "" {
		panic("record.Refused: writeStage is empty: name the stage that counted the records written")
	}
	s = s.Scope(fmt.Sprintf("record.Refused(%s)", writeStage))
	return beam.ParDo(s, &refusedFn{Source: source, WriteStage: writeStage}, failures)
}

type refusedFn struct {
	Source     string `json:"source"`
	WriteStage string `json:"write_stage"`
	ctr        Counters
}

func (f *refusedFn) ProcessElement(ctx context.Context, fl Failure) Failure {
	if fl.Source == "" {
		fl.Source = f.Source
	}
	f.ctr.Add(ctx, -1, fl.Source, f.WriteStage, OutcomeWritten, "")
	f.ctr.Inc(ctx, fl.Source, fl.Stage, OutcomeDead, fl.Reason)
	return fl
}
