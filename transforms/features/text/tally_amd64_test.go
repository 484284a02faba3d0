//go:build amd64 && !purego

package text

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestReadWeightsAsmMatchesGo holds readWeightsAsm to marks.readBack bit for bit: the
// features, their weights and the sum of squares, with and without Sublinear, for
// vocabularies of one to maxTally features and counts up to 255; both leave the marks zero.
func TestReadWeightsAsmMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	mGo, mAsm := new(marks), new(marks)
	for round := range 3000 {
		dim := 1 + r.IntN([]int{10, 300, 5000, maxTally}[round%4])
		idf := make([]float32, dim)
		for i := range idf {
			idf[i] = float32(1 + r.ExpFloat64()*3)
		}
		var ids []int32
		for range r.IntN(200) {
			j := int32(r.IntN(dim))
			for range 1 + r.IntN([]int{1, 3, 255}[r.IntN(3)]) {
				if len(ids) < 255 || r.IntN(4) == 0 {
					ids = append(ids, j)
				}
			}
		}
		r.Shuffle(len(ids), func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
		sub := r.IntN(2) == 0
		table := &linTable
		if sub {
			table = &logTable
		}
		z := &Vectorizer{dim: dim, idf: idf, sub: sub}
		dGo, stopGo := mGo.mark(ids)
		dAsm, stopAsm := mAsm.mark(ids)
		if stopGo < len(ids) || stopAsm < len(ids) {
			// A count past 255: tally's fallback, not the read-back, handles it.
			for _, m := range []*marks{mGo, mAsm} {
				for _, j := range ids {
					m.tally[j], m.seen[j>>6], m.seenWords[j>>12] = 0, 0, 0
				}
			}
			continue
		}
		idxGo, valGo := make([]int32, dGo), make([]float32, dGo)
		normGo := mGo.readBack(idxGo, valGo, z.summary(), table, idf)
		idxAsm, valAsm := make([]int32, dAsm+1), make([]float32, dAsm+1)
		normAsm, ok := readWeightsAsm(mAsm, z.summary(), &idf[0], dim, table, &idxAsm[0], &valAsm[0])
		if !ok {
			t.Fatalf("readWeightsAsm declined features below dim %d", dim)
		}
		if !slices.Equal(idxGo, idxAsm[:dAsm]) || math.Float64bits(normGo) != math.Float64bits(normAsm) {
			t.Fatalf("dim %d, sub %v: asm %v norm %v, Go %v norm %v", dim, sub, idxAsm[:dAsm], normAsm, idxGo, normGo)
		}
		for i := range valGo {
			if math.Float32bits(valGo[i]) != math.Float32bits(valAsm[i]) {
				t.Fatalf("dim %d, sub %v, feature %d: asm weight %v, Go %v", dim, sub, idxGo[i], valAsm[i], valGo[i])
			}
		}
		if idxAsm[dAsm] != 0 || valAsm[dAsm] != 0 {
			t.Fatalf("readWeightsAsm wrote past the %d features", dAsm)
		}
		for _, m := range []*marks{mGo, mAsm} {
			if m.seenWords != [len(m.seenWords)]uint64{} {
				t.Fatal("summary words left set")
			}
			for _, j := range ids {
				if m.tally[j] != 0 || m.seen[j>>6] != 0 {
					t.Fatalf("marks of feature %d left set", j)
				}
			}
		}
	}
}

// TestReadWeightsAsmRefusesFeaturesPastDim checks that a marked feature at or past dim stops
// the kernel rather than reading past idf.
func TestReadWeightsAsmRefusesFeaturesPastDim(t *testing.T) {
	m := new(marks)
	m.mark([]int32{3, 70})
	idf := make([]float32, 10)
	idx, val := make([]int32, 2), make([]float32, 2)
	if _, ok := readWeightsAsm(m, 1, &idf[0], len(idf), &logTable, &idx[0], &val[0]); ok {
		t.Fatal("readWeightsAsm took feature 70 of a 10-feature vocabulary")
	}
}
