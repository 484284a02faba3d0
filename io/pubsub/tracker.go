package pubsub

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/beamline/beamline/internal/wire"
)

// Restriction is one reader's restriction. A subscription has no offsets, so it counts pulls:
// [Start, End) with End = MaxInt64 while the reader runs. Acks and IDs are the ack ids and
// message ids of what the bundle that produced this restriction emitted. They ride in the
// checkpoint residual, which the runner commits atomically with the bundle's output, so the
// reader that resumes from it knows that output is committed and acknowledges them first.
//
// This replaces bundle finalization callbacks, which the Go SDK (v2.77.0) runs only for the
// first bundle of each cached plan: exec.Plan.Finalize swaps in a new bundleFinalizer while
// the DoFn units keep the pointer to the old one (core/runtime/exec/plan.go), so later
// callbacks are registered where nothing runs them and those messages would never be acked.
type Restriction struct {
	Start, End int64
	Acks, IDs  []string
}

// pullTracker is the restriction tracker of one reader. The only split it accepts is the
// checkpoint (fraction 0) that ProcessContinuation asks for after each bundle; it refuses the
// runner's dynamic splits, because halving an endless count would only multiply readers, not
// divide work. Parallelism is chosen up front with Parallelism.
type pullTracker struct {
	rest    Restriction
	claimed int64
	stopped bool
	err     error
	// pending are the acks of this bundle, handed to the residual at the checkpoint.
	pending, pendingIDs []string
}

func newPullTracker(rest Restriction) *pullTracker {
	return &pullTracker{rest: rest, claimed: rest.Start - 1}
}

func (t *pullTracker) TryClaim(pos any) bool {
	if t.stopped {
		t.err = errors.New("pubsub reader: claim after the tracker stopped")
		return false
	}
	p := pos.(int64)
	if p < t.rest.Start || p <= t.claimed {
		t.stopped = true
		t.err = errors.New("pubsub reader: claimed pull position out of order")
		return false
	}
	if p >= t.rest.End {
		t.stopped = true
		return false
	}
	t.claimed = p
	return true
}

func (t *pullTracker) GetError() error { return t.err }

func (t *pullTracker) TrySplit(fraction float64) (primary, residual any, err error) {
	if t.stopped || t.IsDone() || fraction > 0 {
		return t.rest, nil, nil
	}
	split := max(t.claimed+1, t.rest.Start)
	if split >= t.rest.End {
		return t.rest, nil, nil
	}
	res := Restriction{Start: split, End: t.rest.End, Acks: t.pending, IDs: t.pendingIDs}
	t.rest.End = split
	t.rest.Acks, t.rest.IDs = nil, nil
	return t.rest, res, nil
}

func (t *pullTracker) GetProgress() (done, remaining float64) {
	done = float64(t.claimed + 1 - t.rest.Start)
	if t.rest.End == math.MaxInt64 {
		return done, 1
	}
	return done, float64(t.rest.End - t.claimed - 1)
}

func (t *pullTracker) IsDone() bool {
	return t.err == nil && (t.claimed+1 >= t.rest.End || t.rest.Start >= t.rest.End)
}

func (t *pullTracker) GetRestriction() any { return t.rest }

func (t *pullTracker) IsBounded() bool { return t.rest.End != math.MaxInt64 }

func encodeRestriction(r Restriction) []byte {
	b := binary.AppendVarint(nil, r.Start)
	b = binary.AppendVarint(b, r.End)
	for _, list := range [][]string{r.Acks, r.IDs} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = wire.AppendString(b, s)
		}
	}
	return b
}

func decodeRestriction(b []byte) (Restriction, error) {
	var r Restriction
	bad := errors.New("pubsub reader: corrupt restriction")
	d := wire.Reader{B: b}
	r.Start, r.End = d.Varint(), d.Varint()
	for _, list := range []*[]string{&r.Acks, &r.IDs} {
		cnt := d.Uvarint()
		if cnt > uint64(len(d.B)) { // every string takes a byte at least
			return r, bad
		}
		for range cnt {
			*list = append(*list, d.Str())
		}
	}
	if d.Err != nil || len(d.B) != 0 {
		return r, bad
	}
	return r, nil
}

// watermark is the reader's watermark estimator. Its state, the watermark in Unix
// milliseconds, travels with each checkpoint so a resumed reader never moves it backwards.
// The reader sets it itself (advance); it does not observe outputs one by one.
type watermark struct{ ms int64 }

func (w *watermark) CurrentWatermark() time.Time { return time.UnixMilli(w.ms) }

func (w *watermark) advance(ms int64) {
	if ms > w.ms {
		w.ms = ms
	}
}
