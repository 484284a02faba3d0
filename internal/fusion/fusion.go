// Package fusion shapes where a runner's fused stages begin, for prism above all.
//
// prism's scheduler does not wait while a stage that reads a side input has a bundle in
// flight (Beam v2.77.0, ElementManager.Bundles): that stage's input watermark, held back by
// the bundle, differs from its upstream's, so bundleReady calls the stage ready, the bundle it
// then builds is empty, and the stage goes straight back on the list of stages to look at.
// For as long as the bundle runs, one core spins in that loop. A 1M-record clean.Dedupe spun
// 9.4M times in its filter; a 100k-row bigquery.Write 6M times in ten seconds.
//
// So a step that reads a side input should do little, and the work that follows it should
// start a stage of its own: After is that gate, Break the stage boundary. Neither changes
// elements, windows or timestamps. Other runners fuse across the Flatten that Break adds
// (Dataflow does), which costs nothing there.
package fusion

import (
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.Function2x0(noneFn)
	register.Function2x0(noKVFn)
	register.Function3x0(passFn)
	register.Function4x0(passKVFn)
	register.Emitter1[beam.X]()
	register.Emitter2[beam.X, beam.Y]()
	register.Iter1[beam.Z]()
}

// Break returns a PCollection with col's elements that starts a new stage on prism: a Flatten
// of col with an empty collection of its type, since prism runs a Flatten itself and fuses no
// step across one. Unlike a Reshuffle it keeps every element's timestamp, so the watermark
// downstream still waits for the earliest element; and nothing is shuffled.
//
//	col, out: PCollection<T> or PCollection<KV<K, V>>
func Break(s beam.Scope, col beam.PCollection) beam.PCollection {
	s = s.Scope("fusion.Break")
	return beam.Flatten(s, col, empty(s, col))
}

// After passes col's elements on once signal is complete in their window — signal is read as
// a side input, as Beam Java's Wait.on does. The step that reads it sits between two Breaks,
// in a stage of its own: fused with col's producer it would hold that work back until the
// signal and make the scheduler spin through it, and fused with the consumer it would do the
// same to the work that follows (see the package doc).
//
//	signal: PCollection of any type
//	col, out: PCollection<T> or PCollection<KV<K, V>>
func After(s beam.Scope, signal, col beam.PCollection) beam.PCollection {
	s = s.Scope("fusion.After")
	side := beam.SideInput{Input: signal}
	col = Break(s, col)
	if typex.IsKV(col.Type()) {
		return Break(s, beam.ParDo(s, passKVFn, col, side))
	}
	return Break(s, beam.ParDo(s, passFn, col, side))
}

// empty is an empty PCollection of col's element type and window function, as a Flatten
// requires. (The Flatten's output takes the first input's windowing, trigger and all.)
func empty(s beam.Scope, col beam.PCollection) beam.PCollection {
	t := col.Type()
	imp := beam.Impulse(s)
	var out beam.PCollection
	switch {
	case typex.IsKV(t):
		c := t.Components()
		out = beam.ParDo(s, noKVFn, imp, def(beam.XType, c[0]), def(beam.YType, c[1]))
	case t.Class() == typex.Composite:
		panic(fmt.Sprintf("fusion: argument col: %v is neither a plain type nor a KV", t))
	default:
		out = beam.ParDo(s, noneFn, imp, def(beam.XType, t))
	}
	if fn := col.WindowingStrategy().Fn; !fn.Equals(window.NewGlobalWindows()) {
		out = beam.WindowInto(s, fn, out)
	}
	return out
}

func def(v reflect.Type, t typex.FullType) beam.TypeDefinition {
	return beam.TypeDefinition{Var: v, T: t.Type()}
}

func noneFn(_ []byte, _ func(beam.X))         {}
func noKVFn(_ []byte, _ func(beam.X, beam.Y)) {}

func passFn(x beam.X, _ func(*beam.Z) bool, emit func(beam.X)) { emit(x) }

func passKVFn(k beam.X, v beam.Y, _ func(*beam.Z) bool, emit func(beam.X, beam.Y)) { emit(k, v) }
