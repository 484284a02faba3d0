package record_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/gen"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

func sample() record.Record {
	return record.Record{
		ID:            "r1",
		Source:        "orders",
		Kind:          "order",
		SchemaVersion: 2,
		Attributes:    map[string]string{"env": "test", "region": "eu"},
		Origin:        "testdata/orders.jsonl",
		Offset:        7,
		IngestTime:    time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
		EventTime:     time.Date(2026, 11, 22, 9, 59, 0, 0, time.UTC),
		Payload:       []byte(`{"order_id":"A1","total":"12.30"}`),
		Data:          map[string]any{"order_id": "A1", "total": jsonx.Number("12.30"), "items": []any{map[string]any{"sku": "x"}}},
	}
}

func TestRecordCoderRoundTrip(t *testing.T) {
	for _, r := range []record.Record{sample(), {}, {ID: "empty-payload", Payload: []byte{}}} {
		b, err := record.EncodeRecord(r)
		if err != nil {
			t.Fatalf("EncodeRecord(%q): %v", r.ID, err)
		}
		got, err := record.DecodeRecord(b)
		if err != nil {
			t.Fatalf("DecodeRecord(%q): %v", r.ID, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", r.ID, diff)
		}
	}
}

// TestAppendRecordInPlace: AppendRecord writes after what b holds, and Data of every length of
// length prefix (one to three bytes) moves into place behind its prefix.
func TestAppendRecordInPlace(t *testing.T) {
	for _, size := range []int{0, 100, 200, 20_000} {
		r := sample()
		r.Data["note"] = strings.Repeat("n", size)
		prefix := []byte("kept")
		b, err := record.AppendRecord(prefix, r)
		if err != nil {
			t.Fatalf("AppendRecord(note of %d bytes): %v", size, err)
		}
		if !bytes.HasPrefix(b, prefix) {
			t.Fatalf("AppendRecord lost what b held: %q", b[:min(len(b), 8)])
		}
		got, err := record.DecodeRecord(b[len(prefix):])
		if err != nil {
			t.Fatalf("DecodeRecord(AppendRecord(note of %d bytes)): %v", size, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip with a note of %d bytes (-want +got):\n%s", size, diff)
		}
	}
}

func TestDecodeRecordRejectsTruncated(t *testing.T) {
	b, _ := record.EncodeRecord(sample())
	for n := range len(b) { // every prefix
		if _, err := record.DecodeRecord(b[:n]); err == nil {
			t.Errorf("DecodeRecord(first %d of %d bytes) = nil error, want one", n, len(b))
		}
	}
}

func TestFailureCoderRoundTripAndJSON(t *testing.T) {
	r := sample()
	f := record.Fail("clean.Validate", &r, "missing_field:customer", "field customer is required")
	b, err := record.EncodeFailure(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := record.DecodeFailure(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("failure round trip (-want +got):\n%s", diff)
	}
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "stage", "source", "record_id", "reason", "message", "payload_bytes", "payload_string", "attributes", "origin", "offset"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Failure JSON %s lacks %q", js, k)
		}
	}
	if m["payload_string"] != string(r.Payload) {
		t.Errorf("payload_string = %v, want %q", m["payload_string"], r.Payload)
	}
}

func TestFailKeepsInvalidUTF8AsBytesOnly(t *testing.T) {
	r := record.Record{ID: "x", Source: "s", Payload: []byte{0xff, 0xfe, 'a'}}
	f := record.Fail("tag", &r, "invalid_utf8", "not UTF-8")
	if f.PayloadString != "" {
		t.Errorf("PayloadString = %q, want empty for invalid UTF-8", f.PayloadString)
	}
	if string(f.PayloadBytes) != string(r.Payload) {
		t.Errorf("PayloadBytes = %v, want %v", f.PayloadBytes, r.Payload)
	}
}

func TestBaseReason(t *testing.T) {
	for in, want := range map[string]string{"missing_field:order_id": "missing_field", "json_syntax": "json_syntax", "": ""} {
		if got := record.BaseReason(in); got != want {
			t.Errorf("BaseReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkEncodeDecodeRecord(b *testing.B) {
	r := sample()
	b.ReportAllocs()
	for b.Loop() {
		p, _ := record.EncodeRecord(r)
		if _, err := record.DecodeRecord(p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRecordJSONMatchesStructTags checks the hand-written encoder against encoding/json over
// the same struct without the method.
func TestRecordJSONMatchesStructTags(t *testing.T) {
	type plain record.Record // drops MarshalJSON, keeps the tags
	for _, r := range []record.Record{sample(), {ID: "x", Source: "s"}, {ID: "p", Source: "s", Payload: []byte{0, 1, 255}, Header: []byte("h")}} {
		got, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(plain(r)); err != nil {
			t.Fatal(err)
		}
		if want := bytes.TrimSpace(buf.Bytes()); string(got) != string(want) {
			t.Errorf("Record JSON\n got %s\nwant %s", got, want)
		}
	}
}

func BenchmarkRecordJSON(b *testing.B) {
	r := sample()
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = r.AppendJSON(buf[:0])
		}
	})
	b.Run("reflection", func(b *testing.B) {
		type plain record.Record
		b.ReportAllocs()
		for b.Loop() {
			jsonx.Marshal(plain(r))
		}
	})
}

// BenchmarkEncodeDecodeOrderRecord: a generated order as it crosses a stage boundary after
// cleaning (its Data parsed, money in minor units).
func BenchmarkEncodeDecodeOrderRecord(b *testing.B) {
	payload := gen.Order(rand.New(rand.NewPCG(1, 1)), 1, gen.Start)
	data, err := jsonx.DecodeObject(payload)
	if err != nil {
		b.Fatal(err)
	}
	data["total_minor"] = int64(29232)
	r := record.Record{ID: "0123456789abcdef", Source: "orders", Kind: "order", Origin: "/data/in/orders-0.jsonl", Offset: 1,
		IngestTime: time.Now(), EventTime: time.Now(), Payload: payload, Data: data}
	b.ReportAllocs()
	for b.Loop() {
		p, _ := record.EncodeRecord(r)
		if _, err := record.DecodeRecord(p); err != nil {
			b.Fatal(err)
		}
	}
}
