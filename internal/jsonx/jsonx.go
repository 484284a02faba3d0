// Package jsonx is the one place Beamline chooses its JSON implementation, so the choice
// can be made, and revisited, by benchmark (see BenchmarkDecodeObject).
//
// goccy/go-json is used: on the order records of testdata it decodes a generic object in about
// half the time of encoding/json with the same semantics (numbers as json.Number, trailing
// data rejected). Figures are in the benchmark and the foundation issue's note.
package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	gojson "github.com/goccy/go-json"
)

// Number is the exact decimal text of a JSON number.
type Number = json.Number

// ErrTrailing is wrapped when a JSON value is followed by more than white space.
var ErrTrailing = errors.New("data after the JSON value")

// ErrNotObject is wrapped when the JSON value is valid but not an object.
var ErrNotObject = errors.New("JSON value is not an object")

// SyntaxError is a JSON syntax error at a byte offset (0-based) of the input.
type SyntaxError struct {
	Offset int64
	// Truncated is true when the input ended inside a value.
	Truncated bool
	Err       error
}

func (e *SyntaxError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("JSON ends early at byte %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("JSON syntax error at byte %d: %v", e.Offset, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// DecodeObject decodes one JSON object with numbers kept as json.Number.
func DecodeObject(b []byte) (map[string]any, error) {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] != '{' && gojson.Valid(b) {
		return nil, ErrNotObject
	}
	var m map[string]any
	dec := gojson.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, classify(b, dec.InputOffset(), err)
	}
	if m == nil {
		return nil, ErrNotObject
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("%w at byte %d", ErrTrailing, dec.InputOffset())
	}
	return m, nil
}

// Unmarshal decodes b into v (a pointer to a struct, usually) and rejects trailing data.
func Unmarshal(b []byte, v any) error {
	if err := gojson.Unmarshal(b, v); err != nil {
		return classify(b, -1, err)
	}
	return nil
}

// Marshal encodes v.
func Marshal(v any) ([]byte, error) { return gojson.Marshal(v) }

// classify turns a decoder error into a SyntaxError when it is one, and keeps type errors.
// It runs only on the error path, so it re-checks the input with encoding/json, whose syntax
// errors give a dependable offset and say when the input ended early.
func classify(b []byte, off int64, err error) error {
	var ute *gojson.UnmarshalTypeError
	if errors.As(err, &ute) {
		return err
	}
	var v any
	stdErr := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(stdErr, &se) {
		return &SyntaxError{Offset: se.Offset, Truncated: se.Error() == "unexpected end of JSON input", Err: se}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &SyntaxError{Offset: int64(len(b)), Truncated: true, Err: err}
	}
	if off < 0 {
		off = 0
	}
	return &SyntaxError{Offset: off, Err: err}
}
