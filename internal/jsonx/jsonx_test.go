package jsonx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/beamline/beamline/internal/dev/gen"
	"github.com/beamline/beamline/internal/jsonx"
	gojson "github.com/goccy/go-json"
)

func line() []byte { return gen.Order(rand.New(rand.NewPCG(1, 1)), 1, gen.Start) }

func TestUseNumberOptionFound(t *testing.T) {
	if !jsonx.FastPath() {
		t.Error("the goccy UseNumber flag was not found; DecodeObject runs on the slower Decoder path")
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	for in, want := range map[string]error{`{"a":1} {"b":2}`: jsonx.ErrTrailing, `[1]`: jsonx.ErrNotObject, `null`: jsonx.ErrNotObject} {
		if _, err := jsonx.DecodeObject([]byte(in)); !errors.Is(err, want) {
			t.Errorf("DecodeObject(%s) = %v, want %v", in, err, want)
		}
	}
	var se *jsonx.SyntaxError
	if _, err := jsonx.DecodeObject([]byte(`{"a":`)); !errors.As(err, &se) || !se.Truncated {
		t.Errorf("DecodeObject(truncated) = %v, want a truncated SyntaxError", err)
	}
	if _, err := jsonx.DecodeObject([]byte(`{"a" 1}`)); !errors.As(err, &se) || se.Truncated || se.Offset != 6 {
		t.Errorf("DecodeObject(bad) = %v, want a SyntaxError at byte 6 (encoding/json counts the bytes read)", err)
	}
}

func TestDecodeObject(t *testing.T) {
	m, err := jsonx.DecodeObject(line())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["total"].(string); !ok {
		t.Errorf("total = %T, want the string it was written as", m["total"])
	}
	items := m["items"].([]any)
	if _, ok := items[0].(map[string]any)["qty"].(json.Number); !ok {
		t.Errorf("qty = %T, want json.Number", items[0].(map[string]any)["qty"])
	}
}

// BenchmarkDecodeObject compares generic-object decoders with the same semantics (numbers
// kept exact); the package uses the fastest.
func BenchmarkDecodeObject(b *testing.B) {
	l := line()
	b.Run("jsonx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jsonx.DecodeObject(l); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("std-decoder-usenumber", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(l))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goccy-unmarshal-float", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := gojson.Unmarshal(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
