package record_test

import (
	"testing"
	"time"

	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

// The Record and Failure coders decode whatever bytes a runner hands them: they return a
// value or an error and never panic, and a value they return encodes and decodes to itself.
// Records built from arbitrary fields survive a round trip too. tools/fuzz.sh runs these.

func coderSeeds(f *testing.F) {
	r := sample()
	r.Header = []byte("a,b")
	for _, rec := range []record.Record{r, {}, {ID: "x", Payload: []byte{}, Attributes: map[string]string{}}} {
		b, err := record.EncodeRecord(rec)
		if err != nil {
			f.Fatalf("EncodeRecord(%+v): %v", rec, err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		fb, err := record.EncodeFailure(record.Fail("stage", &rec, "json_syntax", "bad"))
		if err != nil {
			f.Fatalf("EncodeFailure: %v", err)
		}
		f.Add(fb)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0})
}

func FuzzDecodeRecord(f *testing.F) {
	coderSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := record.DecodeRecord(b)
		if err != nil {
			return
		}
		enc, err := record.EncodeRecord(r)
		if err != nil {
			t.Fatalf("DecodeRecord(%q) = %+v, which does not encode: %v", b, r, err)
		}
		back, err := record.DecodeRecord(enc)
		if err != nil {
			t.Fatalf("DecodeRecord(%q) = %+v, encoded as %q, does not decode: %v", b, r, enc, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("Record from %q changes in a round trip (-first +second):\n%s", b, diff)
		}
	})
}

func FuzzDecodeFailure(f *testing.F) {
	coderSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := record.DecodeFailure(b)
		if err != nil {
			return
		}
		enc, err := record.EncodeFailure(fl)
		if err != nil {
			t.Fatalf("DecodeFailure(%q) = %+v, which does not encode: %v", b, fl, err)
		}
		back, err := record.DecodeFailure(enc)
		if err != nil {
			t.Fatalf("DecodeFailure(%q) = %+v, encoded as %q, does not decode: %v", b, fl, enc, err)
		}
		if diff := cmp.Diff(fl, back); diff != "" {
			t.Fatalf("Failure from %q changes in a round trip (-first +second):\n%s", b, diff)
		}
	})
}

// FuzzRecordRoundTrip builds a Record from arbitrary fields (times anywhere in time.Time's
// range, nil and empty byte slices) and checks that the coder keeps every one.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("r1", "orders", "k", "v", int64(1764288000), uint32(5), []byte(`{"a":1}`), false, 3)
	f.Add("", "", "", "", int64(-62135596800), uint32(0), []byte(nil), true, -1)
	f.Add("\xff", "s", "", "\x00", int64(253402300799), uint32(999999999), []byte{}, false, 0)
	f.Fuzz(func(t *testing.T, id, source, key, val string, sec int64, nsec uint32, payload []byte, nilAttrs bool, version int) {
		at := time.Unix(sec, int64(nsec%1e9)).UTC()
		if at.Unix() != sec {
			t.Skip("time.Unix cannot hold this second") // beyond year 292277026596
		}
		r := record.Record{ID: id, Source: source, Kind: key, SchemaVersion: version, Origin: val, Offset: sec,
			IngestTime: at, Payload: payload, Header: payload}
		if !nilAttrs {
			r.Attributes = map[string]string{key: val}
		}
		b, err := record.EncodeRecord(r)
		if err != nil {
			t.Fatalf("EncodeRecord(%+v): %v", r, err)
		}
		back, err := record.DecodeRecord(b)
		if err != nil {
			t.Fatalf("DecodeRecord(EncodeRecord(%+v)): %v", r, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("Record round trip (-in +out):\n%s", diff)
		}
		fl := record.Fail("stage", &r, "reason:"+key, val)
		fb, err := record.EncodeFailure(fl)
		if err != nil {
			t.Fatalf("EncodeFailure(%+v): %v", fl, err)
		}
		fback, err := record.DecodeFailure(fb)
		if err != nil {
			t.Fatalf("DecodeFailure(EncodeFailure(%+v)): %v", fl, err)
		}
		if diff := cmp.Diff(fl, fback); diff != "" {
			t.Fatalf("Failure round trip (-in +out):\n%s", diff)
		}
	})
}
