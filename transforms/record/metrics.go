package record

import (
	"context"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Counters use one namespace and structured names, so a runner's UI (Dataflow, Flink) lists
// the same numbers as the local summary:
//
//	<source>/<stage>/<outcome>[/<reason>]      e.g. web_a/clean.Parse/dead/json_syntax
//
// Outcomes are read (counted once per record by the reader or tag), ok, dead and duplicate.
const MetricNamespace = "beamline"

// Outcomes.
const (
	OutcomeRead      = "read"
	OutcomeOK        = "ok"
	OutcomeDead      = "dead"
	OutcomeDuplicate = "duplicate"
	OutcomeWritten   = "written"
)

// CounterName builds a counter name; reason may be empty.
func CounterName(source, stage, outcome, reason string) string {
	n := source + "/" + stage + "/" + outcome
	if reason != "" {
		n += "/" + reason
	}
	return n
}

// CounterKey is a parsed counter name.
type CounterKey struct{ Source, Stage, Outcome, Reason string }

// ParseCounterName splits a name built by CounterName.
func ParseCounterName(name string) (CounterKey, bool) {
	parts := strings.SplitN(name, "/", 4)
	if len(parts) < 3 {
		return CounterKey{}, false
	}
	k := CounterKey{Source: parts[0], Stage: parts[1], Outcome: parts[2]}
	if len(parts) == 4 {
		k.Reason = parts[3]
	}
	return k, true
}

// Counters caches Beam counters by name for a DoFn; the zero value is ready. Not safe for
// concurrent use, which DoFn instances never need.
type Counters struct{ m map[CounterKey]beam.Counter }

// Inc adds one to the counter of (source, stage, outcome, reason).
func (c *Counters) Inc(ctx context.Context, source, stage, outcome, reason string) {
	c.Add(ctx, 1, source, stage, outcome, reason)
}

// Add adds n (which may be negative, to move a count from one outcome to another) to the
// counter of (source, stage, outcome, reason).
func (c *Counters) Add(ctx context.Context, n int64, source, stage, outcome, reason string) {
	if c.m == nil {
		c.m = map[CounterKey]beam.Counter{}
	}
	// Keyed by the parts, so the per-record path builds no string.
	k := CounterKey{source, stage, outcome, reason}
	ctr, ok := c.m[k]
	if !ok {
		ctr = beam.NewCounter(MetricNamespace, CounterName(source, stage, outcome, reason))
		c.m[k] = ctr
	}
	ctr.Inc(ctx, n)
}
