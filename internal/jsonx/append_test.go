package jsonx_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/beamline/beamline/internal/jsonx"
)

// TestAppendValueMatchesEncodingJSON checks the appenders against encoding/json with HTML
// escaping off, on values of every kind the decoder produces.
func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, "", "plain", "quote\" back\\slash", "ctl \x01\x1f\n\r\t", "é ü ß 漢字 🙂", "bad \xff utf8",
		"sep \u2028 \u2029", "<html> & stuff", jsonx.Number("12.30"), jsonx.Number("-1e400"), int64(-42), 7,
		1.5, 1e21, 1e-7, 123456789.0, 0.0, math.MaxInt64 * 1.0,
		[]any{}, []any{1.0, "a", nil, map[string]any{"z": 1.0, "a": []any{}}},
		map[string]any{}, map[string]any{"b": "x", "a": map[string]any{"d": false, "c": nil}, "é": int64(1)},
		map[string]string{"k2": "v", "k1": "\"q\""},
	}
	for _, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		got, err := jsonx.AppendValue(nil, v)
		if err != nil {
			t.Fatalf("AppendValue(%#v): %v", v, err)
		}
		if string(got) != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("AppendValue(%#v) = %s, want %s", v, got, want.Bytes())
		}
	}
	if got := string(jsonx.AppendFloat(nil, math.NaN())); got != "null" {
		t.Errorf("AppendFloat(NaN) = %s, want null", got)
	}
}

func BenchmarkAppendObject(b *testing.B) {
	m, err := jsonx.DecodeObject(line())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = jsonx.AppendObject(buf[:0], m)
		}
	})
	b.Run("goccy-sorted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsonx.Marshal(m)
		}
	})
}
