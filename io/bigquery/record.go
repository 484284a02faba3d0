package bigquery

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/record"
)

// RecordRow is the row a record.Record is written as: its metadata in columns and its parsed
// Data as one JSON column. It serves the config-driven ingest job, which has no Go type per
// source; a pipeline with a Go type writes that type instead and gets typed columns.
//
// The original Payload is not written: Data holds what was parsed from it, and the payload
// of a record that failed rides in its record.Failure.
type RecordRow struct {
	ID            string            `json:"id"`
	Source        string            `json:"source"`
	Kind          string            `json:"kind"`
	SchemaVersion int64             `json:"schema_version"`
	Origin        string            `json:"origin"`
	Offset        int64             `json:"offset"`
	Attributes    map[string]string `json:"attributes"`
	IngestTime    time.Time         `json:"ingest_time"`
	EventTime     time.Time         `json:"event_time"`
	Data          json.RawMessage   `json:"data"`
}

// RowOf returns the RecordRow of r. Data is encoded with sorted keys, money as the int64
// minor units clean produced.
func RowOf(r *record.Record) (RecordRow, error) {
	row := RecordRow{
		ID: r.ID, Source: r.Source, Kind: r.Kind, SchemaVersion: int64(r.SchemaVersion),
		Origin: r.Origin, Offset: r.Offset, Attributes: r.Attributes,
		IngestTime: r.IngestTime, EventTime: r.EventTime,
	}
	if r.Data != nil {
		b, err := jsonx.AppendObject(nil, r.Data)
		if err != nil {
			return row, &ValueError{Field: "data", Err: fmt.Errorf("%w: %v", ErrNotEncodable, err)}
		}
		row.Data = b
	}
	return row, nil
}

var (
	typeRecord    = reflect.TypeFor[record.Record]()
	typeRecordRow = reflect.TypeFor[RecordRow]()
)

// rowType is the Go type whose plan encodes elements of type t: RecordRow for record.Record.
func rowType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == typeRecord {
		return typeRecordRow
	}
	return t
}

// rowValue returns the struct value to encode for element x, with the plan for it.
// The value is addressable, which lets the encoders read time.Time and big.Rat in place.
func rowValue(x any) (reflect.Value, *plan, error) {
	switch r := x.(type) {
	case record.Record:
		row, err := RowOf(&r)
		if err != nil {
			return reflect.Value{}, nil, err
		}
		p, err := planOf(typeRecordRow)
		return reflect.ValueOf(&row).Elem(), p, err
	case *record.Record:
		return rowValue(*r)
	}
	v := reflect.ValueOf(x)
	p, err := planOf(v.Type())
	if err != nil {
		return v, nil, err
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return v, nil, &ValueError{Field: "(row)", Err: fmt.Errorf("%w: nil row", ErrNotEncodable)}
		}
		return v.Elem(), p, nil
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c, p, nil
}
