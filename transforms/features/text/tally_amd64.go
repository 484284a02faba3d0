//go:build amd64 && !purego

package text

import "unsafe"

// readWeightsAsm is marks.readBack with idf in tally_amd64.s (the Go loop spilled its values to the
// stack, and read-back was the largest part of TFIDF left in Go). It takes each feature's
// weight as table[count] × float64(idf[j]), table being logTable with Sublinear and linTable
// without, which is weight's arithmetic, so the vector is the same bit for bit
// (TestTallyAsmMatchesGo). It reports false, having stopped part way, if a marked feature is
// at or past dim, which cannot happen for ids from the vocabulary.
const haveReadWeightsAsm = true

//go:noescape
func readWeightsAsm(m *marks, summary int, idf *float32, dim int, table *[256]float64, idx *int32, val *float32) (norm float64, ok bool)

// The offsets of marks' arrays, which tally_amd64.s has as constants: the build fails here
// if they move.
var (
	_ [unsafe.Offsetof(marks{}.seen) - 0x40000]struct{}
	_ [0x40000 - unsafe.Offsetof(marks{}.seen)]struct{}
	_ [unsafe.Offsetof(marks{}.seenWords) - 0x48000]struct{}
	_ [0x48000 - unsafe.Offsetof(marks{}.seenWords)]struct{}
)
