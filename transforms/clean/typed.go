package clean

import (
	"context"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

// StageDecode is the stage name of Decode.
const StageDecode = "clean.Decode"

// RegisterSchema registers the DoFn Decode uses for T. Call it from an init() of the package
// that defines T, before building pipelines, as Beam needs every DoFn registered on workers.
func RegisterSchema[T any]() {
	register.DoFn4x0[context.Context, record.Record, func(T), func(record.Failure)](&schemaFn[T]{})
	register.Emitter1[T]()
}

type schemaFn[T any] struct {
	Rules []Rule        `json:"rules"`
	Norm  NormaliseSpec `json:"norm"`
	s     *Schema[T]
	step
}

func (f *schemaFn[T]) Setup() error {
	var err error
	f.s, err = NewSchema[T](f.Rules, f.Norm)
	return err
}

func (f *schemaFn[T]) ProcessElement(ctx context.Context, r record.Record, ok func(T), dead func(record.Failure)) {
	v, err := f.s.ParseRecord(&r)
	if err != nil {
		f.fail(ctx, StageDecode, &r, err, dead)
		return
	}
	f.pass(ctx, StageDecode, &r)
	ok(v)
}

// Decode parses each record's JSON payload into T, validates it against rules and
// normalises it — the typed path (see Schema), several times cheaper per record than
// Parse + Validate + Normalise over generic maps. T must be registered with RegisterSchema.
//
//	in:   PCollection<record.Record>
//	ok:   PCollection<T>
//	dead: PCollection<record.Failure>
func Decode[T any](s beam.Scope, in beam.PCollection, rules []Rule, norm NormaliseSpec) (ok, dead beam.PCollection) {
	if _, err := NewSchema[T](rules, norm); err != nil {
		panic(err)
	}
	s = s.Scope(fmt.Sprintf("clean.Decode[%s]", reflect.TypeFor[T]().Name()))
	return beam.ParDo2(s, &schemaFn[T]{Rules: rules, Norm: norm}, in)
}
