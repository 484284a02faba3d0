package clean

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn4x0[context.Context, record.Record, func(record.Record), func(record.Failure)](&parseFn{})
	register.DoFn4x0[context.Context, record.Record, func(record.Record), func(record.Failure)](&validateFn{})
	register.DoFn4x0[context.Context, record.Record, func(record.Record), func(record.Failure)](&normaliseFn{})
	register.DoFn4x0[context.Context, record.Record, func(beam.EventTime, record.Record), func(record.Failure)](&eventTimeFn{})
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

type parseFn struct {
	Spec ParseSpec `json:"spec"`
	p    *Parser
	step
}

func (f *parseFn) Setup() error {
	var err error
	f.p, err = NewParser(f.Spec)
	return err
}

func (f *parseFn) ProcessElement(ctx context.Context, r record.Record, ok func(record.Record), dead func(record.Failure)) {
	if err := f.p.Parse(&r); err != nil {
		f.fail(ctx, StageParse, &r, err, dead)
		return
	}
	f.pass(ctx, StageParse, &r)
	ok(r)
}

// Parse fills each record's Data from its Payload as JSON (an object), CSV (mapped by the
// record's file header or spec.Columns) or a text line. Empty, oversized, NUL-bearing,
// invalid UTF-8 and malformed payloads go to dead with their reason.
//
//	in, ok: PCollection<record.Record>
//	dead:   PCollection<record.Failure>
func Parse(s beam.Scope, in beam.PCollection, spec ParseSpec) (ok, dead beam.PCollection) {
	if _, err := NewParser(spec); err != nil {
		panic(err)
	}
	s = s.Scope(fmt.Sprintf("clean.Parse(%s)", spec.Format))
	return beam.ParDo2(s, &parseFn{Spec: spec}, in)
}

type validateFn struct {
	Rules []Rule `json:"rules"`
	v     *Validator
	step
}

func (f *validateFn) Setup() error {
	var err error
	f.v, err = NewValidator(f.Rules)
	return err
}

func (f *validateFn) ProcessElement(ctx context.Context, r record.Record, ok func(record.Record), dead func(record.Failure)) {
	if err := f.v.Validate(r.Data); err != nil {
		f.fail(ctx, StageValidate, &r, err, dead)
		return
	}
	f.pass(ctx, StageValidate, &r)
	ok(r)
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
	if _, err := NewValidator(rules); err != nil {
		panic(err)
	}
	s = s.Scope(fmt.Sprintf("clean.Validate(%d rules)", len(rules)))
	return beam.ParDo2(s, &validateFn{Rules: rules}, in)
}

type normaliseFn struct {
	Spec NormaliseSpec `json:"spec"`
	n    *Normaliser
	step
}

func (f *normaliseFn) Setup() error {
	var err error
	f.n, err = NewNormaliser(f.Spec)
	return err
}

func (f *normaliseFn) ProcessElement(ctx context.Context, r record.Record, ok func(record.Record), dead func(record.Failure)) {
	if err := f.n.Normalise(r.Data); err != nil {
		f.fail(ctx, StageNormalise, &r, err, dead)
		return
	}
	f.pass(ctx, StageNormalise, &r)
	ok(r)
}

// Normalise trims and case-folds strings, rewrites timestamps as UTC RFC 3339 and amounts as
// integer minor units of their ISO 4217 currency. Unreadable values go to dead.
//
//	in, ok: PCollection<record.Record>
//	dead:   PCollection<record.Failure>
func Normalise(s beam.Scope, in beam.PCollection, spec NormaliseSpec) (ok, dead beam.PCollection) {
	if _, err := NewNormaliser(spec); err != nil {
		panic(err)
	}
	s = s.Scope("clean.Normalise")
	return beam.ParDo2(s, &normaliseFn{Spec: spec}, in)
}

type eventTimeFn struct {
	Field    string    `json:"field"`
	Format   string    `json:"format"`
	Earliest time.Time `json:"earliest"`
	MaxAhead int64     `json:"max_ahead_ns"`
	c        *TimeChecker
	step
}

func (f *eventTimeFn) Setup() error {
	f.c = &TimeChecker{Field: f.Field, Format: f.Format, Earliest: f.Earliest, MaxAhead: time.Duration(f.MaxAhead)}
	return f.c.Init()
}

func (f *eventTimeFn) ProcessElement(ctx context.Context, r record.Record, ok func(beam.EventTime, record.Record), dead func(record.Failure)) {
	t, err := f.c.Time(r.Data)
	if err != nil {
		f.fail(ctx, StageEventTime, &r, err, dead)
		return
	}
	r.EventTime = t
	f.pass(ctx, StageEventTime, &r)
	ok(mtime.FromTime(t), r)
}

// EventTimeOption adjusts EventTime.
type EventTimeOption func(*eventTimeFn)

// Earliest sets the earliest accepted event time (default 2000-01-01).
func Earliest(t time.Time) EventTimeOption { return func(f *eventTimeFn) { f.Earliest = t } }

// MaxAhead sets how far ahead of the wall clock an event time may be (default 24h).
func MaxAhead(d time.Duration) EventTimeOption {
	return func(f *eventTimeFn) { f.MaxAhead = int64(d) }
}

// EventTime sets each record's EventTime and element timestamp from field, read in format
// (see ParseTime). A missing, unreadable or absurd time (before Earliest, more than MaxAhead
// in the future) sends the record to dead. Apply it before windowing.
//
//	in, ok: PCollection<record.Record> (ok timestamped)
//	dead:   PCollection<record.Failure>
func EventTime(s beam.Scope, in beam.PCollection, field, format string, opts ...EventTimeOption) (ok, dead beam.PCollection) {
	f := &eventTimeFn{Field: field, Format: format}
	for _, o := range opts {
		o(f)
	}
	c := &TimeChecker{Field: field, Format: format}
	if err := c.Init(); err != nil {
		panic(err)
	}
	s = s.Scope(fmt.Sprintf("clean.EventTime(%s)", field))
	return beam.ParDo2(s, f, in)
}
