package jsonx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeObject checks DecodeObject against encoding/json on UTF-8 input (callers check
// UTF-8 first: clean.CheckBytes): both accept the same objects with the same values, and an
// object written back with AppendObject decodes to itself. The one intended difference: an
// object naming a key twice is refused (ErrDuplicateKey), where encoding/json keeps the last. On other bytes it must not panic.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"order_id":"O-1","total":"10.00","items":[{"sku":"S","qty":2,"price":5.00}],"ok":true,"n":null}`,
		`{"a":1,"a":2}`, `{"a":1e400}`, `{"a":-0.0}`, `{"a":"\ud800"}`, `{"a":"\u00e9\n\t\"\\\/"}`, `{"":{}}`,
		`[]`, `"x"`, `null`, `{} {}`, `{}x`, `{"a":01}`, `{"a":1.}`, `{,}`, `{"a":1,}`, `{"a"`, `{"a":[`,
		"\xef\xbb\xbf{}", "{\"a\":\"\xff\"}", " {\n\"a\" : 1 }\r\n", `{"a":1E+2,"b":-1.5e-3}`, `{"a":tru}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.Clone(b) // decoded strings share memory with the input
		m, err := jsonx.DecodeObject(b)
		if err == nil && m == nil {
			t.Fatalf("DecodeObject(%q) = nil, nil", b)
		}
		if !utf8.Valid(b) {
			return
		}
		std, stdErr := stdDecodeObject(b)
		switch {
		case err == nil && stdErr != nil:
			t.Fatalf("DecodeObject(%q) = %v, but encoding/json refuses it: %v", b, m, stdErr)
		case errors.Is(err, jsonx.ErrDuplicateKey):
			// encoding/json keeps the last of a repeated key; Beamline refuses the object
			// (a record naming a field twice is a dead letter, never a silent choice).
			return
		case err != nil && stdErr == nil:
			t.Fatalf("DecodeObject(%q) refuses it (%v), but encoding/json reads %v", b, err, std)
		case err != nil:
			return
		}
		if diff := cmp.Diff(std, m); diff != "" {
			t.Fatalf("DecodeObject(%q) and encoding/json differ (-std +DecodeObject):\n%s", b, diff)
		}
		out, err := jsonx.AppendObject(nil, m)
		if err != nil {
			t.Fatalf("AppendObject(DecodeObject(%q)): %v", b, err)
		}
		back, err := jsonx.DecodeObject(out)
		if err != nil {
			t.Fatalf("DecodeObject(%q) written back as %q does not decode: %v", b, out, err)
		}
		if diff := cmp.Diff(m, back); diff != "" {
			t.Fatalf("DecodeObject(%q) written back as %q reads differently (-first +second):\n%s", b, out, diff)
		}
	})
}

func stdDecodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, jsonx.ErrTrailing
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, jsonx.ErrNotObject
	}
	return m, nil
}
