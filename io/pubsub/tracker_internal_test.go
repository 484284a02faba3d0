package pubsub

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRestrictionCoder: a restriction comes back whole from its encoding, with and without
// the acks and ids of a checkpoint, and no prefix of an encoding decodes.
func TestRestrictionCoder(t *testing.T) {
	for _, r := range []Restriction{
		{Start: 0, End: math.MaxInt64},
		{Start: 41, End: 42, Acks: []string{"ack-1", "", "ack-3"}, IDs: []string{"m-1", "m-2", "m-3"}},
	} {
		b := encodeRestriction(r)
		got, err := decodeRestriction(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(r, got); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
		for n := range len(b) {
			if _, err := decodeRestriction(b[:n]); err == nil {
				t.Errorf("the first %d of %d bytes decoded without error", n, len(b))
			}
		}
	}
}
