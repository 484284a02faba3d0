package clean

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn5x0[context.Context, beam.EventTime, record.Record, func(beam.EventTime, record.Record), func(record.Failure)](&stepsFn{})
	register.Emitter1[record.Record]()
	register.Emitter1[record.Failure]()
	register.Emitter2[beam.EventTime, record.Record]()
}

// Stage names, as they appear in Failure.Stage and in counter names.
const (
	StageParse     = "clean.Parse"
	StageValidate  = "clean.Validate"
	StageNormalise = "clean.Normalise"
	StageEventTime = "clean.EventTime"
	StageDedupe    = "clean.Dedupe"
)

// Spec lists the clean steps Apply runs, in this order; a nil or empty part is skipped.
type Spec struct {
	Parse     *ParseSpec     `json:"parse,omitempty"`
	Rules     []Rule         `json:"rules,omitempty"`
	Normalise *NormaliseSpec `json:"normalise,omitempty"`
	EventTime *TimeField     `json:"event_time,omitempty"`
	// Earliest and MaxAhead bound event times (see TimeChecker); zero means the defaults.
	Earliest time.Time     `json:"earliest,omitzero"`
	MaxAhead time.Duration `json:"max_ahead,omitempty"`
	// Lateness, when set, sends to dead (too_late) a record whose event time is more than
	// Lateness before the timestamp it arrived with: the allowed lateness of the windows
	// downstream (see DeadLetterLate). Nil means no such check; without EventTime there is
	// no event time to check, and it is ignored.
	Lateness *time.Duration `json:"lateness,omitempty"`
}

// Steps are the pure cores of a Spec, built once per worker.
type Steps struct {
	parser   *Parser
	valid    *Validator
	norm     *Normaliser
	times    *TimeChecker
	lateness *time.Duration
}

// NewSteps checks spec and builds its cores.
func NewSteps(spec Spec) (*Steps, error) {
	st := &Steps{}
	var err error
	if spec.Parse != nil {
		if st.parser, err = NewParser(*spec.Parse); err != nil {
			return nil, err
		}
	}
	if len(spec.Rules) > 0 {
		if st.valid, err = NewValidator(spec.Rules); err != nil {
			return nil, err
		}
	}
	if spec.Normalise != nil {
		if st.norm, err = NewNormaliser(*spec.Normalise); err != nil {
			return nil, err
		}
	}
	if spec.EventTime != nil {
		st.times = &TimeChecker{Field: spec.EventTime.Field, Format: spec.EventTime.Format, Earliest: spec.Earliest, MaxAhead: spec.MaxAhead}
		if err := st.times.Init(); err != nil {
			return nil, err
		}
		if spec.Lateness != nil && *spec.Lateness < 0 {
			return nil, fmt.Errorf("clean: Spec.Lateness %s is negative", *spec.Lateness)
		}
		st.lateness = spec.Lateness
	}
	if st.parser == nil && st.valid == nil && st.norm == nil && st.times == nil {
		return nil, fmt.Errorf("clean: the spec has no step")
	}
	return st, nil
}

// Apply runs the steps on r in order. It returns the stage that rejected r and why, or "".
func (st *Steps) Apply(r *record.Record) (string, *Error) { return st.ApplyArrived(r, time.Time{}) }

// ApplyArrived is Apply for a record that arrived with the element timestamp arrived (zero:
// unknown), which the Lateness check compares its event time with.
func (st *Steps) ApplyArrived(r *record.Record, arrived time.Time) (string, *Error) {
	if st.parser != nil {
		if err := st.parser.Parse(r); err != nil {
			return StageParse, err
		}
	}
	if st.valid != nil {
		if err := st.valid.Validate(r.Data); err != nil {
			return StageValidate, err
		}
	}
	if st.norm != nil {
		if err := st.norm.Normalise(r.Data); err != nil {
			return StageNormalise, err
		}
	}
	if st.times != nil {
		t, err := st.times.Time(r.Data)
		if err != nil {
			return StageEventTime, err
		}
		if st.lateness != nil && !arrived.IsZero() && t.Add(*st.lateness).Before(arrived) {
			return StageEventTime, reject(fieldReason(ReasonTooLate, st.times.Field), nil,
				"field %s = %s is more than the allowed lateness %s before the record arrived (%s): the windows downstream would drop it",
				st.times.Field, t.Format(time.RFC3339), *st.lateness, arrived.UTC().Format(time.RFC3339))
		}
		r.EventTime = t
	}
	return "", nil
}

// stages lists the stage names the steps pass through, for counting.
func (st *Steps) stages() []string {
	var out []string
	for _, s := range []struct {
		on   bool
		name string
	}{{st.parser != nil, StageParse}, {st.valid != nil, StageValidate}, {st.norm != nil, StageNormalise}, {st.times != nil, StageEventTime}} {
		if s.on {
			out = append(out, s.name)
		}
	}
	return out
}

// step holds what every clean DoFn shares: its counters and how it reports an outcome.
type step struct {
	ctr record.Counters
}

func (st *step) pass(ctx context.Context, stage string, r *record.Record) {
	st.ctr.Inc(ctx, r.Source, stage, record.OutcomeOK, "")
}

func (st *step) fail(ctx context.Context, stage string, r *record.Record, e *Error, dead func(record.Failure)) {
	st.ctr.Inc(ctx, r.Source, stage, record.OutcomeDead, e.Reason)
	dead(record.Fail(stage, r, e.Reason, e.Msg))
}

// stepsFn runs a Spec in one DoFn. Each single-step transform (Parse, Validate, …) is a
// stepsFn with one part, and Apply fuses several, saving a hand-over per step on every record.
type stepsFn struct {
	Spec   Spec `json:"spec"`
	st     *Steps
	passed []string
	step
}

func (f *stepsFn) Setup() error {
	var err error
	if f.st, err = NewSteps(f.Spec); err != nil {
		return err
	}
	f.passed = f.st.stages()
	return nil
}

func (f *stepsFn) ProcessElement(ctx context.Context, ts beam.EventTime, r record.Record, ok func(beam.EventTime, record.Record), dead func(record.Failure)) {
	var arrived time.Time
	if ts > mtime.MinTimestamp && ts < mtime.MaxTimestamp {
		arrived = ts.ToTime()
	}
	stage, err := f.st.ApplyArrived(&r, arrived)
	for _, s := range f.passed {
		if s == stage {
			break
		}
		f.pass(ctx, s, &r)
	}
	if err != nil {
		f.fail(ctx, stage, &r, err, dead)
		return
	}
	if f.st.times != nil {
		ts = mtime.FromTime(r.EventTime)
	}
	ok(ts, r)
}

// Apply runs the steps of spec — parse, validate, normalise, event time, each optional — in
// one DoFn. Failures and counters name the step that rejected a record exactly as the single
// steps do; Apply only saves the hand-over between them.
//
//	in, ok: PCollection<record.Record> (ok timestamped when spec.EventTime is set)
//	dead:   PCollection<record.Failure>
func Apply(s beam.Scope, in beam.PCollection, spec Spec) (ok, dead beam.PCollection) {
	return single(s, "", in, spec)
}

// single adds a stepsFn for spec in a scope called name, or clean.Apply(<stages>) when name
// is empty. A spec that does not build panics here, at construction.
func single(s beam.Scope, name string, in beam.PCollection, spec Spec) (ok, dead beam.PCollection) {
	st, err := NewSteps(spec)
	if err != nil {
		panic(err)
	}
	if name == "" {
		name = "clean.Apply(" + strings.Join(st.stages(), ",") + ")"
	}
	return beam.ParDo2(s.Scope(name), &stepsFn{Spec: spec}, in)
}

// Parse fills each record's Data from its Payload as JSON (an object), CSV (mapped by the
// record's file header or spec.Columns) or a text line. Empty, oversized, NUL-bearing,
// invalid UTF-8 and malformed payloads go to dead with their reason.
//
//	in, ok: PCollection<record.Record>
//	dead:   PCollection<record.Failure>
func Parse(s beam.Scope, in beam.PCollection, spec ParseSpec) (ok, dead beam.PCollection) {
	return single(s, fmt.Sprintf("clean.Parse(%s)", spec.Format), in, Spec{Parse: &spec})
}

// Validate applies rules to each parsed record; the first rule that fails sends the record
// to dead with reason missing_field:F, wrong_type:F, out_of_range:F, bad_format:F,
// not_allowed:F, too_long:F or the reason of a custom check.
//
//	in, ok: PCollection<record.Record>
//	dead:   PCollection<record.Failure>
func Validate(s beam.Scope, in beam.PCollection, rules []Rule) (ok, dead beam.PCollection) {
	if len(rules) == 0 {
		panic("clean.Validate: rules is empty; leave the step out instead")
	}
	return single(s, fmt.Sprintf("clean.Validate(%d rules)", len(rules)), in, Spec{Rules: rules})
}

// Normalise trims and case-folds strings, rewrites timestamps as UTC RFC 3339 and amounts as
// integer minor units of their ISO 4217 currency. Unreadable values go to dead.
//
//	in, ok: PCollection<record.Record>
//	dead:   PCollection<record.Failure>
func Normalise(s beam.Scope, in beam.PCollection, spec NormaliseSpec) (ok, dead beam.PCollection) {
	return single(s, "clean.Normalise", in, Spec{Normalise: &spec})
}

// EventTimeOption adjusts EventTime.
type EventTimeOption func(*Spec)

// Earliest sets the earliest accepted event time (default 2000-01-01).
func Earliest(t time.Time) EventTimeOption { return func(s *Spec) { s.Earliest = t } }

// MaxAhead sets how far ahead of the wall clock an event time may be (default 24h).
func MaxAhead(d time.Duration) EventTimeOption { return func(s *Spec) { s.MaxAhead = d } }

// DeadLetterLate makes EventTime send to dead, with reason too_late:<field>, a record whose
// event time is more than lateness before the timestamp it arrived with (a Pub/Sub publish
// time, say). Give it the allowed lateness of the event-time windows downstream: a runner drops
// an element that reaches a window's grouping after the watermark has passed the window's end
// plus that lateness, silently. The watermark there is at most the arrival timestamps of the
// elements still being processed upstream, so every record the runner could drop is caught
// here and kept with its payload (and, at the margin, some it would have kept). Streaming
// only: in batch, elements arrive without a timestamp and the check never fires.
func DeadLetterLate(lateness time.Duration) EventTimeOption {
	return func(s *Spec) { s.Lateness = &lateness }
}

// EventTime sets each record's EventTime and element timestamp from field, read in format
// (see ParseTime). A missing, unreadable or absurd time (before Earliest, more than MaxAhead
// in the future) sends the record to dead. Apply it before windowing.
//
//	in, ok: PCollection<record.Record> (ok timestamped)
//	dead:   PCollection<record.Failure>
func EventTime(s beam.Scope, in beam.PCollection, field, format string, opts ...EventTimeOption) (ok, dead beam.PCollection) {
	spec := Spec{EventTime: &TimeField{Field: field, Format: format}}
	for _, o := range opts {
		o(&spec)
	}
	return single(s, fmt.Sprintf("clean.EventTime(%s)", field), in, spec)
}
