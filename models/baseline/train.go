package baseline

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/transforms/ratealarm"
)

func init() {
	// Trained holds maps keyed by int (hours of the week); JSON carries them as they are
	// published, with no schema inference.
	beam.RegisterType(reflect.TypeOf((*Trained)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Trained)(nil)).Elem(), encodeTrained, decodeTrained)
	register.DoFn3x0[int, func(*ratealarm.WindowCount) bool, func(Trained)](&fitFn{})
	register.Iter1[ratealarm.WindowCount]()
	register.Emitter1[Trained]()
}

func encodeTrained(t Trained) ([]byte, error) { return json.Marshal(t) }

func decodeTrained(b []byte) (Trained, error) {
	var t Trained
	err := json.Unmarshal(b, &t)
	return t, err
}

type trainConfig struct {
	holdOut time.Duration
}

// TrainOption configures Train.
type TrainOption func(*trainConfig)

// HoldOut sets how much of the end of the history is kept out of the evaluation's baseline
// and scored (default DefaultHoldOut, a day).
func HoldOut(d time.Duration) TrainOption { return func(c *trainConfig) { c.holdOut = d } }

// Train learns the per-key hour-of-week baselines of the window counts and evaluates them on
// the held-out end of the history (see Fit). It emits one Trained, or nothing for no counts.
// The counts of the whole history meet on one worker: a window count is small (a fortnight
// of one-minute windows over ten keys is 200 000 of them), and the held-out cut needs the
// end of every key's history.
//
//	counts: PCollection<ratealarm.WindowCount> (e.g. from ratealarm.Count, in any windowing)
//	out:    PCollection<Trained>
//
// Usage:
//
//	trained := baseline.Train(s, ratealarm.Count(s, orders, time.Minute, ratealarm.Dimensions("country")))
func Train(s beam.Scope, counts beam.PCollection, opts ...TrainOption) beam.PCollection {
	c := trainConfig{holdOut: DefaultHoldOut}
	for _, o := range opts {
		o(&c)
	}
	if c.holdOut <= 0 {
		panic(fmt.Sprintf("baseline.Train: hold-out %s must be positive (e.g. baseline.HoldOut(24*time.Hour))", c.holdOut))
	}
	s = s.Scope(fmt.Sprintf("baseline.Train(hold out %s)", c.holdOut))
	global := beam.WindowInto(s, window.NewGlobalWindows(), counts)
	grouped := beam.GroupByKey(s, beam.AddFixedKey(s, global))
	return beam.ParDo(s, &fitFn{HoldOut: c.holdOut}, grouped)
}

type fitFn struct {
	HoldOut time.Duration `json:"hold_out"`
}

func (f *fitFn) ProcessElement(_ int, iter func(*ratealarm.WindowCount) bool, emit func(Trained)) {
	var counts []ratealarm.WindowCount
	var c ratealarm.WindowCount
	for iter(&c) {
		counts = append(counts, c)
	}
	if len(counts) == 0 {
		return
	}
	emit(Fit(counts, f.HoldOut))
}
