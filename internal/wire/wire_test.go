package wire

import (
	"encoding/binary"
	"math"
	"testing"
)

func TestReaderRoundTrip(t *testing.T) {
	var b []byte
	b = append(b, 7)
	b = binary.AppendUvarint(b, math.MaxUint64)
	b = binary.AppendVarint(b, math.MinInt64)
	b = AppendString(b, "héllo")
	b = AppendString(b, "")
	b = append(b, "raw"...)
	r := Reader{B: b}
	if c := r.Byte(); c != 7 {
		t.Errorf("Byte = %d, want 7", c)
	}
	if v := r.Uvarint(); v != math.MaxUint64 {
		t.Errorf("Uvarint = %d", v)
	}
	if v := r.Varint(); v != math.MinInt64 {
		t.Errorf("Varint = %d", v)
	}
	if s := r.Str(); s != "héllo" {
		t.Errorf("Str = %q", s)
	}
	if p := r.Bytes(); len(p) != 0 {
		t.Errorf("Bytes = %q, want empty", p)
	}
	if p := r.Take(3); string(p) != "raw" || cap(p) != 3 {
		t.Errorf("Take = %q (cap %d), want raw (cap 3)", p, cap(p))
	}
	if r.Err != nil || len(r.B) != 0 {
		t.Errorf("Err %v, %d bytes left; want nil, 0", r.Err, len(r.B))
	}
}

// TestReaderStopsAtTheFirstShortRead: a read past the end sets ErrShort, and every read
// after it gives a zero value, even where the bytes left would do.
func TestReaderStopsAtTheFirstShortRead(t *testing.T) {
	b := AppendString(nil, "abc")
	r := Reader{B: b[:len(b)-1]}
	if s := r.Str(); s != "" || r.Err != ErrShort {
		t.Fatalf("Str of a cut string = %q, %v; want \"\", ErrShort", s, r.Err)
	}
	r.B = []byte{1, 2, 3}
	if c, v, u, p := r.Byte(), r.Varint(), r.Uvarint(), r.Take(1); c != 0 || v != 0 || u != 0 || p != nil {
		t.Errorf("reads after the error = %d, %d, %d, %q; want zero values", c, v, u, p)
	}
	for _, bad := range [][]byte{nil, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		r := Reader{B: bad}
		r.Uvarint()
		if r.Err != ErrShort {
			t.Errorf("Uvarint of % x: err %v, want ErrShort", bad, r.Err)
		}
	}
}
