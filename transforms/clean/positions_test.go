package clean

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ordersPositions are positions as positionFn collects them over a file of orders: one
// batch, consecutive lines, nearby event times, content-hash IDs.
func ordersPositions(n int) []position {
	rnd := rand.New(rand.NewPCG(1, 2))
	ps := make([]position, n)
	for i := range ps {
		ps[i] = position{
			Key:   fmt.Sprintf("orders\x00O-%07d", rnd.IntN(1_000_000)),
			Ident: "0123456789abcdef" + string(rune(1+i/128)) + string(rune(i%128)),
			Order: inputOrder{
				Origin:    "/data/in/orders-00003.jsonl",
				Offset:    int64(1000 + 3*i),
				EventTime: 1_764_000_000_000_000_000 + int64(rnd.IntN(60_000))*1e6,
				RecordID:  fmt.Sprintf("%016x", rnd.Uint64()),
			},
		}
	}
	return ps
}

func TestPositionsCoderRoundTrip(t *testing.T) {
	cases := map[string][]position{
		"none":   {},
		"one":    {{Key: "k", Ident: "i", Order: inputOrder{Origin: "o", Offset: 1, EventTime: 2, RecordID: "r"}}},
		"orders": ordersPositions(1000),
		"pubsub, no origin or event time": {
			{Key: "s\x00a", Ident: "x0", Order: inputOrder{EventTime: math.MinInt64, RecordID: "m-1"}},
			{Key: "s\x00a", Ident: "x1", Order: inputOrder{EventTime: math.MaxInt64, RecordID: "m-1"}},
			{Key: "s\x00b", Ident: "x2", Order: inputOrder{EventTime: math.MinInt64, RecordID: "m-2"}},
		},
		"repeats and empties": {
			{Key: "", Ident: "", Order: inputOrder{Offset: math.MaxInt64}},
			{Key: "", Ident: "", Order: inputOrder{Offset: math.MinInt64}},
			{Key: "ab", Ident: "ab", Order: inputOrder{Origin: "ab", RecordID: "ab"}},
			{Key: "ab", Ident: "a", Order: inputOrder{Origin: "abc", RecordID: ""}},
			{Key: "é漢", Ident: "é", Order: inputOrder{Origin: "é漢", RecordID: "漢"}},
		},
	}
	for name, ps := range cases {
		b := encodePositions(positions{ps})
		pp, err := decodePositions(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := pp.P
		if diff := cmp.Diff(ps, got); len(ps) > 0 && diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", name, diff)
		}
		if len(ps) == 0 && len(got) != 0 {
			t.Errorf("%s: decoded %d positions from none", name, len(got))
		}
	}
	// The point of the coder: a batch of orders' positions is small.
	ps := ordersPositions(1000)
	if per := len(encodePositions(positions{ps})) / len(ps); per > 45 {
		t.Errorf("%d bytes per orders position, want at most 45", per)
	}
}

func TestPositionsCoderRejectsCorrupt(t *testing.T) {
	b := encodePositions(positions{ordersPositions(50)})
	for n := range len(b) {
		if _, err := decodePositions(b[:n]); err == nil {
			t.Errorf("decoded %d of %d bytes without error", n, len(b))
		}
	}
	if _, err := decodePositions(append(b[:len(b):len(b)], 0)); err == nil {
		t.Error("decoded with a trailing byte without error")
	}
	bad := append([]byte{}, b...)
	bad[0] = positionsCoderVersion + 1
	if _, err := decodePositions(bad); err == nil {
		t.Error("decoded another coder version without error")
	}
	// A count far beyond the bytes there.
	if _, err := decodePositions([]byte{positionsCoderVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Error("decoded an absurd count without error")
	}
}

func FuzzDecodePositions(f *testing.F) {
	f.Add(encodePositions(positions{ordersPositions(3)}))
	f.Add([]byte{positionsCoderVersion, 1, 0, 1, 'k', 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := decodePositions(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to a form that decodes to the same.
		again, err := decodePositions(encodePositions(ps))
		if err != nil || !cmp.Equal(ps.P, again.P) {
			t.Errorf("re-encoding %d positions: %v", len(ps.P), err)
		}
	})
}
