package main

import (
	"context"

	"github.com/beamline/beamline/internal/dev/orderbench"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/record"
)

func init() { registerFailure() }

// bareFn is the same per-record work written by hand in one DoFn.
type bareFn struct{}

func (bareFn) ProcessElement(_ context.Context, r record.Record) ([]byte, error) {
	o, err := orderbench.PlainClean(r.Payload, jsonx.Unmarshal)
	if err != nil {
		return nil, err
	}
	return jsonx.Marshal(o)
}

// bareKeyedFn is bareFn keyed by order id, for the hand-written dedupe: a GroupByKey of the
// whole records, which is how a pipeline without clean.Dedupe would drop duplicates.
type bareKeyedFn struct{}

func (bareKeyedFn) ProcessElement(_ context.Context, r record.Record, emit func(string, []byte)) error {
	o, err := orderbench.PlainClean(r.Payload, jsonx.Unmarshal)
	if err != nil {
		return err
	}
	b, err := jsonx.Marshal(o)
	if err != nil {
		return err
	}
	emit(o.OrderID, b)
	return nil
}

// firstFn keeps one record per key: the first the runner hands over (no input order, which
// clean.Dedupe keeps, so this is the cheapest form of the work).
func firstFn(_ string, recs func(*[]byte) bool) []byte {
	var first []byte
	recs(&first)
	return first
}
