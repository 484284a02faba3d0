package clean

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn4x0[context.Context, record.Record, func(string, record.Record), func(record.Failure)](&dedupeKeyFn{})
	register.DoFn5x0[context.Context, string, func(*record.Record) bool, func(record.Record), func(record.Failure)](&keepFirstFn{})
	register.DoFn8x0[context.Context, beam.EventTime, state.Provider, timers.Provider, string, record.Record, func(record.Record), func(record.Failure)](&dedupeStreamFn{})
	register.Emitter2[string, record.Record]()
	register.Iter1[*record.Record]()
}

// DedupeKey returns the dedupe key of r: its source and the value at field, or its ID when
// field is empty. Sources are kept apart: the same order_id in two sources is two records.
func DedupeKey(r *record.Record, field path) (string, *Error) {
	if field == nil {
		return r.Source + "\x00" + r.ID, nil
	}
	v, ok := field.get(r.Data)
	if !ok || v == nil {
		return "", reject(fieldReason(ReasonMissingField, field.String()), nil, "dedupe key %s is missing", field)
	}
	switch x := v.(type) {
	case string:
		return r.Source + "\x00" + x, nil
	case map[string]any, []any:
		return "", reject(fieldReason(ReasonWrongType, field.String()), nil, "dedupe key %s is %s, want a string or number", field, typeName(v))
	}
	return fmt.Sprintf("%s\x00%v", r.Source, v), nil
}

// First reports whether a comes before b in input order: by origin and line, then event
// time, then ID, so the record Dedupe keeps does not depend on how the runner ordered them.
func First(a, b *record.Record) bool {
	if a.Origin != b.Origin {
		return a.Origin < b.Origin
	}
	if a.Offset != b.Offset {
		return a.Offset < b.Offset
	}
	if !a.EventTime.Equal(b.EventTime) {
		return a.EventTime.Before(b.EventTime)
	}
	return a.ID < b.ID
}

func duplicate(stage, key string, dup *record.Record) record.Failure {
	if _, v, ok := strings.Cut(key, "\x00"); ok {
		key = v
	}
	return record.Fail(stage, dup, ReasonDuplicate, fmt.Sprintf("another record has dedupe key %q and was kept", key))
}

type dedupeKeyFn struct {
	Field string `json:"field"`
	path  path
	step
}

func (f *dedupeKeyFn) Setup() {
	if f.Field != "" {
		f.path = splitPath(f.Field)
	}
}

func (f *dedupeKeyFn) ProcessElement(ctx context.Context, r record.Record, ok func(string, record.Record), dead func(record.Failure)) {
	k, err := DedupeKey(&r, f.path)
	if err != nil {
		f.fail(ctx, StageDedupe, &r, err, dead)
		return
	}
	ok(k, r)
}

type keepFirstFn struct{ step }

func (f *keepFirstFn) ProcessElement(ctx context.Context, key string, values func(*record.Record) bool, ok func(record.Record), dup func(record.Failure)) {
	// One pass, nothing buffered: a record that loses to the current first is emitted as a
	// duplicate at once, and so is a former first that a later-seen record displaces.
	var kept, r record.Record
	for n := 0; values(&r); n++ {
		switch {
		case n == 0:
			kept = r
		case First(&r, &kept):
			f.emitDup(ctx, key, &kept, dup)
			kept = r
		default:
			f.emitDup(ctx, key, &r, dup)
		}
		r = record.Record{}
	}
	f.pass(ctx, StageDedupe, &kept)
	ok(kept)
}

func (f *keepFirstFn) emitDup(ctx context.Context, key string, r *record.Record, dup func(record.Failure)) {
	f.ctr.Inc(ctx, r.Source, StageDedupe, record.OutcomeDuplicate, "")
	dup(duplicate(StageDedupe, key, r))
}

// Dedupe keeps one record per (source, key field) across a bounded input — the first in input
// order (see First) — and sends the others to dups as Failures with reason "duplicate".
// An empty field dedupes by record ID. A record without the key goes to dups with
// missing_field:F. Duplicates are counted as outcome "duplicate", not "dead".
//
// It groups by key, so use it on batch input; DedupeStream suits unbounded input.
//
//	in, ok: PCollection<record.Record>
//	dups:   PCollection<record.Failure>
func Dedupe(s beam.Scope, in beam.PCollection, field string) (ok, dups beam.PCollection) {
	s = s.Scope(fmt.Sprintf("clean.Dedupe(%s)", keyName(field)))
	keyed, noKey := beam.ParDo2(s, &dedupeKeyFn{Field: field}, in)
	ok, dups = beam.ParDo2(s, &keepFirstFn{}, beam.GroupByKey(s, keyed))
	return ok, beam.Flatten(s, dups, noKey)
}

func keyName(field string) string {
	if field == "" {
		return "id"
	}
	return field
}

type dedupeStreamFn struct {
	Seen   state.Value[bool] `json:"seen"`
	Expiry timers.EventTime  `json:"expiry"`
	TTL    int64             `json:"ttl_ns"`
	step
}

func (f *dedupeStreamFn) ProcessElement(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, key string, r record.Record, ok func(record.Record), dup func(record.Failure)) {
	seen, _, err := f.Seen.Read(sp)
	if err != nil {
		panic(fmt.Sprintf("clean.DedupeStream: reading state: %v", err)) // runner failure; it retries the bundle
	}
	if seen {
		f.ctr.Inc(ctx, r.Source, StageDedupe, record.OutcomeDuplicate, "")
		dup(duplicate(StageDedupe, key, &r))
		return
	}
	f.Seen.Write(sp, true)
	// The timer only clears state, so it must not hold the output watermark back.
	f.Expiry.Set(tp, ts.ToTime().Add(time.Duration(f.TTL)), timers.WithNoOutputTimestamp())
	f.pass(ctx, StageDedupe, &r)
	ok(r)
}

func (f *dedupeStreamFn) OnTimer(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, key string, timer timers.Context, ok func(record.Record), dup func(record.Failure)) {
	f.Seen.Clear(sp)
}

// DedupeStream keeps the first record to arrive per (source, key field) and sends repeats
// seen within ttl of it (in event time) to dups with reason "duplicate". It runs as a stateful
// DoFn with one boolean of state per key and an event-time timer that clears it, so memory is
// bounded by the keys seen in ttl. State is also per window: on windowed input a key repeats
// freely across windows.
//
//	in, ok: PCollection<record.Record>
//	dups:   PCollection<record.Failure>
func DedupeStream(s beam.Scope, in beam.PCollection, field string, ttl time.Duration) (ok, dups beam.PCollection) {
	if ttl <= 0 {
		panic(fmt.Sprintf("clean.DedupeStream: ttl %s must be positive", ttl))
	}
	s = s.Scope(fmt.Sprintf("clean.DedupeStream(%s, %s)", keyName(field), ttl))
	keyed, noKey := beam.ParDo2(s, &dedupeKeyFn{Field: field}, in)
	ok, dups = beam.ParDo2(s, &dedupeStreamFn{
		Seen:   state.MakeValueState[bool]("seen"),
		Expiry: timers.InEventTime("expiry"),
		TTL:    int64(ttl),
	}, keyed)
	return ok, beam.Flatten(s, dups, noKey)
}
