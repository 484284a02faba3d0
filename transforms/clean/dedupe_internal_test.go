package clean

import (
	"hash/fnv"
	"testing"
)

func TestFNV32aMatchesHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "orders\x00O-000001", "é漢"} {
		h := fnv.New32a()
		h.Write([]byte(s))
		if got, want := fnv32a(s), h.Sum32(); got != want {
			t.Errorf("fnv32a(%q) = %d, want %d", s, got, want)
		}
	}
}
