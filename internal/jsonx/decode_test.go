package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beamline/beamline/internal/dev/gen"
	"github.com/google/go-cmp/cmp"
)

// stdDecode is what decodeFast must agree with: encoding/json with numbers kept as text.
func stdDecode(b []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if !json.Valid(b) || d.Decode(&v) != nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

var decodeCases = []string{
	`{}`, ` {"a":1} `, "\t{\"a\" :\n[ ]\r}",
	`{"a":"x","b":-0.5e+10,"c":[1,"2",{"d":null}],"e":true,"f":false,"g":{},"h":[]}`,
	`{"a":1,"a":2}`, `{"x":{"a":1,"b":[{"c":1,"c":2}]}}`, `{"a":{"b":1},"c":{"b":2,"b":3}}`,
	`{"a":[{"k":1},{"k":2}],"b":{"k":1},"k":0}`,
	`{"esc":"q\"b\\s\/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00 end"}`,
	`{"lone":"\ud800 x \udc00 \ud800\u0041"}`,
	`{"ünï":"çødé ✓ 😀"}`,
	`{"n":[0,-0,1.0,1e5,1E-5,123456789012345678901234567890]}`,
	// Rejected by encoding/json: decodeFast must decline them.
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":"x}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":1,}`, `{,}`, `{"a"}`, `{"a":1}}`,
	`{"a":1} x`, `[1]`, `null`, `"s"`, ``, `{`, `{"a":[1,]}`, `{"a":[1 2]}`, `{a:1}`,
	"{\"a\":\"\xff\"}", "{\"\xc3\":1}",
}

func TestDecodeFastAgreesWithEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	cases := append([]string{}, decodeCases...)
	for i := range 200 {
		cases = append(cases, string(gen.Order(r, i+1, gen.Start)))
	}
	for _, c := range cases {
		checkDecodeFast(t, []byte(c))
	}
}

// TestDecodeFastValuesOutliveGC checks the slab-boxed values: after the decoder's pool has
// been drained and the heap collected, they still read as what was decoded.
func TestDecodeFastValuesOutliveGC(t *testing.T) {
	var ms []map[string]any
	for i := range 100 {
		m, _, ok := decodeFast([]byte(`{"s":"v` + string(rune('a'+i%26)) + `","n":12.5,"a":["x","y"]}`))
		if !ok {
			t.Fatal("declined a valid object")
		}
		ms = append(ms, m)
	}
	runtime.GC()
	runtime.GC()
	for i, m := range ms {
		want := map[string]any{"s": "v" + string(rune('a'+i%26)), "n": Number("12.5"), "a": []any{"x", "y"}}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Fatalf("object %d after GC (-want +got):\n%s", i, diff)
		}
		if m["s"] != want["s"] || m["n"] != want["n"] {
			t.Fatalf("object %d: == comparison of boxed values fails", i)
		}
	}
}

func checkDecodeFast(t *testing.T, b []byte) {
	t.Helper()
	got, dup, ok := decodeFast(b)
	want, stdOK := stdDecode(b)
	if wantDup := FindDuplicate(b); stdOK && wantDup != "" {
		if ok || dup != wantDup {
			t.Errorf("decodeFast(%q) = ok %v, duplicate %q; want refused with duplicate %q", b, ok, dup, wantDup)
		}
		return
	}
	if dup != "" && stdOK { // an invalid document may be refused for a duplicate met first
		t.Errorf("decodeFast(%q) reports duplicate key %q in a document without one", b, dup)
	}
	switch {
	case ok && !stdOK:
		t.Errorf("decodeFast accepted %q, which encoding/json rejects", b)
	case ok:
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decodeFast(%q) differs from encoding/json (-want +got):\n%s", b, diff)
		}
	case stdOK && utf8.Valid(b):
		// Declining is allowed where the full decoder refuses a duplicate key that
		// FindDuplicate cannot name apart from "none" (the empty key "").
		if _, err := DecodeObject(b); errors.Is(err, ErrDuplicateKey) {
			return
		}
		t.Errorf("decodeFast declined %q, valid UTF-8 that encoding/json decodes", b)
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(checkDecodeFast)
}

func TestDecodeObjectRefusesDuplicateKeys(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxDepth+5) + `{"k":1,"k":2}` + strings.Repeat(`}`, maxDepth+5)
	cases := []struct {
		in, path string
	}{
		{`{"amount":"x","amount":2}`, "amount"},
		{`{"meta":{"src":"a","src":"b"}}`, "meta.src"},
		{`{"items":[{"sku":"A"},{"sku":"B","qty":1,"sku":"C"}]}`, "items.sku"},
		{`{"a":1,"b":{"a":2},"c":[{"a":3}]}`, ""},                                // the same name at different levels is fine
		{`{"é":1,"\u00e9":2}`, "é"},                                              // equal after unescaping
		{deep, strings.TrimSuffix(strings.Repeat("a.", maxDepth+5), ".") + ".k"}, // the library path
	}
	for _, c := range cases {
		_, err := DecodeObject([]byte(c.in))
		var de *DuplicateKeyError
		switch {
		case c.path == "" && err != nil:
			t.Errorf("DecodeObject(%.40q) = %v, want no error", c.in, err)
		case c.path != "" && (!errors.As(err, &de) || de.Path != c.path || !errors.Is(err, ErrDuplicateKey)):
			t.Errorf("DecodeObject(%.40q) = %v, want a duplicate key error at %.60q", c.in, err, c.path)
		}
	}
}
