package main

import (
	"context"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/internal/orderbench"
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
