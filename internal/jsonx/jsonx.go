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
	"strings"

	gojson "github.com/goccy/go-json"
)

// Number is the exact decimal text of a JSON number.
type Number = json.Number

// ErrTrailing is wrapped when a JSON value is followed by more than white space.
var ErrTrailing = errors.New("data after the JSON value")

// ErrNotObject is wrapped when the JSON value is valid but not an object.
var ErrNotObject = errors.New("JSON value is not an object")

// ErrDuplicateKey is wrapped when an object names the same member twice.
var ErrDuplicateKey = errors.New("JSON object has a duplicate key")

// DuplicateKeyError is an object naming a member twice, at any depth. Decoders differ on
// which value such a document means (encoding/json keeps the last, others the first), so
// DecodeObject refuses it rather than choose.
type DuplicateKeyError struct {
	// Path is the dotted path of the repeated key from the top object (items.sku); array
	// levels add nothing to it.
	Path string
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("key %q appears twice in one object", e.Path)
}

func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

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

// useNumber is goccy/go-json's "numbers as json.Number" option for Unmarshal. goccy exposes it
// only on its streaming Decoder, which costs 1.7x Unmarshal on an order record (see
// BenchmarkDecodeObject), while Unmarshal takes option functions over a flag word whose bits
// are internal. init finds the bit by its effect and checks that it has no other; if a new
// goccy release changes that, useNumber stays nil and DecodeObject takes the Decoder path.
var useNumber gojson.DecodeOptionFunc

func init() {
	for bit := 0; bit < 8; bit++ {
		opt := func(o *gojson.DecodeOption) { o.Flags |= 1 << bit }
		var m map[string]any
		if err := gojson.UnmarshalWithOption([]byte(`{"a":1.50,"b":"x","c":[2],"a":3}`), &m, opt); err != nil {
			continue
		}
		if m["a"] == json.Number("3") && m["b"] == "x" && len(m) == 3 {
			if c, ok := m["c"].([]any); ok && len(c) == 1 && c[0] == json.Number("2") {
				useNumber = opt
				return
			}
		}
	}
}

// DecodeObject decodes one JSON object with numbers kept as json.Number. Decoded strings
// share memory with b (no copy), so b must not be modified afterwards: records are immutable
// once read, and their Payload lives as long as their Data anyway. An object with a duplicate
// key, at any depth, is a *DuplicateKeyError.
func DecodeObject(b []byte) (map[string]any, error) {
	m, dup, ok := decodeFast(b)
	if ok {
		return m, nil
	}
	if dup != "" {
		return nil, &DuplicateKeyError{Path: dup}
	}
	m, err := decodeLibrary(b)
	if err != nil {
		return nil, err
	}
	// The library keeps the last of repeated keys; this rare path (documents decodeFast
	// declines, such as nesting deeper than maxDepth) checks for them on its own.
	if dup := FindDuplicate(b); dup != "" {
		return nil, &DuplicateKeyError{Path: dup}
	}
	return m, nil
}

func decodeLibrary(b []byte) (map[string]any, error) {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] != '{' && gojson.Valid(b) {
		return nil, ErrNotObject
	}
	var m map[string]any
	if useNumber != nil {
		if err := gojson.UnmarshalNoEscape(b, &m, useNumber, gojson.DecodeNoCopyString()); err != nil {
			return nil, classify(b, -1, err)
		}
		if m == nil {
			return nil, ErrNotObject
		}
		return m, nil
	}
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

// pathSegment is key as a segment of a duplicate's dotted path: the empty key is written "",
// so that a path is never empty (FindDuplicate's "" means no duplicate).
func pathSegment(key string) string {
	if key == "" {
		return `""`
	}
	return key
}

// FindDuplicate returns the dotted path of the first key that some object of the JSON text
// b names twice, or "" when there is none (or b is not valid JSON). It walks b's tokens, so it
// costs about a decode: use it where no decode already sees the keys.
func FindDuplicate(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		object bool
		key    string // the member being read, within an object
		seen   map[string]bool
	}
	var stack []level
	inObject := func() bool { return len(stack) > 0 && stack[len(stack)-1].object }
	expectKey := false
	for {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, level{object: true, seen: map[string]bool{}})
				expectKey = true
			case '[':
				stack = append(stack, level{})
				expectKey = false
			default: // '}' or ']' ends a value
				stack = stack[:len(stack)-1]
				expectKey = inObject()
			}
			continue
		}
		if k, ok := t.(string); ok && expectKey {
			top := &stack[len(stack)-1]
			if top.seen[k] {
				var path []string
				for _, l := range stack[:len(stack)-1] {
					if l.object {
						path = append(path, l.key)
					}
				}
				parts := append(path, k)
				for i := range parts {
					parts[i] = pathSegment(parts[i])
				}
				return strings.Join(parts, ".")
			}
			top.seen[k], top.key, expectKey = true, k, false
			continue
		}
		expectKey = inObject() // a scalar value ended
	}
}

// Unmarshal decodes b into v (a pointer to a struct, usually) and rejects trailing data.
// As with DecodeObject, decoded strings share memory with b.
func Unmarshal(b []byte, v any) error {
	if err := gojson.UnmarshalNoEscape(b, v, gojson.DecodeNoCopyString()); err != nil {
		return classify(b, -1, err)
	}
	return nil
}

// FastPath reports whether DecodeObject uses Unmarshal (true) or the Decoder fallback.
func FastPath() bool { return useNumber != nil }

// Marshal encodes v; map keys are sorted, so equal values encode to equal bytes.
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
	if errors.As(stdErr, &se) && strings.Contains(se.Error(), "after top-level value") {
		return fmt.Errorf("%w at byte %d", ErrTrailing, se.Offset)
	}
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
