package text

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Vocabulary maps terms to feature indices: term i is feature i. BuildVocabulary orders the
// terms by decreasing document frequency, ties by term, so a vocabulary built from the same
// counts is the same whatever order the counts came in, and the common terms' weights sit
// together in a model (see BuildVocabulary). Any order is valid: a vocabulary read back from
// a model keeps the order it was saved in. It is JSON-serialisable; do not modify Terms after
// the first Index call.
type Vocabulary struct {
	Terms []string `json:"terms"`
	DF    []int32  `json:"df"`   // documents containing Terms[i]
	Docs  int      `json:"docs"` // documents counted

	once  sync.Once
	index map[string]int32
	err   error
}

// BuildVocabulary keeps the terms of df (term → number of documents containing it, out of docs)
// that pass s.MinDF, s.MaxDF and s.MaxFeatures, in decreasing document frequency, ties broken
// by term. MaxFeatures keeps the first terms of that order, after the MinDF/MaxDF filters.
//
// The order is for memory: a model's weights are a row per feature, so the rows of the common
// terms, which nearly every document reads, are packed together at the start instead of
// spread over all of them. On the Debian corpus's linear model (71,831 features, 16 MB of
// weights) prediction missed a 512 KiB cache 72 times a document instead of 88 (cachegrind).
func BuildVocabulary(df map[string]int, docs int, s Spec) *Vocabulary {
	minDF := max(s.MinDF, 1)
	maxDF := float64(docs)
	if s.MaxDF > 0 {
		maxDF = s.MaxDF * float64(docs)
	}
	type entry struct {
		term string
		df   int
	}
	kept := make([]entry, 0, len(df))
	for t, n := range df {
		if n >= minDF && float64(n) <= maxDF {
			kept = append(kept, entry{t, n})
		}
	}
	slices.SortFunc(kept, func(a, b entry) int {
		if c := cmp.Compare(b.df, a.df); c != 0 {
			return c
		}
		return cmp.Compare(a.term, b.term)
	})
	if s.MaxFeatures > 0 && len(kept) > s.MaxFeatures {
		kept = kept[:s.MaxFeatures]
	}
	v := &Vocabulary{Terms: make([]string, len(kept)), DF: make([]int32, len(kept)), Docs: docs}
	for i, e := range kept {
		v.Terms[i], v.DF[i] = e.term, int32(min(e.df, math.MaxInt32))
	}
	return v
}

// Len is the number of terms.
func (v *Vocabulary) Len() int { return len(v.Terms) }

// Index returns term's feature index. The map behind it is built on the first call.
func (v *Vocabulary) Index(term string) (int32, bool) {
	v.build()
	i, ok := v.index[term]
	return i, ok
}

func (v *Vocabulary) build() {
	v.once.Do(func() {
		if len(v.DF) != len(v.Terms) {
			v.err = fmt.Errorf("text: vocabulary has %d terms but %d DF values; rebuild it with BuildVocabulary", len(v.Terms), len(v.DF))
		}
		v.index = make(map[string]int32, len(v.Terms))
		for i, t := range v.Terms {
			if _, dup := v.index[t]; dup && v.err == nil {
				v.err = fmt.Errorf("text: vocabulary term %q appears twice; rebuild it with BuildVocabulary", t)
			}
			v.index[t] = int32(i)
		}
	})
}

// IDF returns the smoothed inverse document frequency of each term, as scikit-learn's
// TfidfTransformer(smooth_idf=True) computes it: ln((1+Docs)/(1+DF)) + 1.
func (v *Vocabulary) IDF() []float32 {
	idf := make([]float32, len(v.DF))
	for i, df := range v.DF {
		idf[i] = float32(math.Log(float64(1+v.Docs)/float64(1+df)) + 1)
	}
	return idf
}

// Keep returns a copy of v holding only the features idx (e.g. from SelectTop), in increasing
// index order, so the copy's terms keep their relative order; duplicates are kept once. It panics if an
// index is out of range.
func (v *Vocabulary) Keep(idx []int32) *Vocabulary {
	sorted := slices.Clone(idx)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	k := &Vocabulary{Terms: make([]string, len(sorted)), DF: make([]int32, len(sorted)), Docs: v.Docs}
	for i, j := range sorted {
		if j < 0 || int(j) >= len(v.Terms) {
			panic(fmt.Sprintf("text: Vocabulary.Keep: index %d out of range [0, %d)", j, len(v.Terms)))
		}
		k.Terms[i], k.DF[i] = v.Terms[j], v.DF[j]
	}
	return k
}

// maxPacked is the longest term, in bytes, a termTable holds.
const maxPacked = 12

// termTable maps terms of 1 to maxPacked bytes to int32 values. Such a term is packed,
// zero-padded, into a uint64 and a uint32 (see pack) and stored in a 16-byte slot of an
// open-addressing table, so a lookup is a few multiplications and one or two loads from one
// cache line: no string hashing, no pointer to the term's bytes to follow and compare, as
// map[string]int32 has. 98.6% of the word occurrences in the Debian package descriptions are
// this short.
//
// Terms containing a NUL byte are left out: the tokenizer never produces one (NUL separates
// tokens), and zero padding could not tell "a" from "a\x00". Callers look up longer terms
// elsewhere. A termTable is read-only once built, so safe for concurrent use.
type termTable struct {
	slots []termSlot // a power of two of them, at most two thirds full
	shift uint       // 64 − log2(len(slots)): hash keeps the top bits
}

type termSlot struct {
	lo  uint64 // the term's bytes 0–7, little endian; 0 marks an empty slot
	hi  uint32 // bytes 8–11
	val int32
}

// newTermTable holds terms[i] → vals[i] for the terms that pack; a term appearing twice
// keeps its first value.
func newTermTable(terms []string, vals []int32) *termTable {
	n := 0
	for _, w := range terms {
		if packable(w) {
			n++
		}
	}
	size, bits := 8, uint(3)
	for size < n+n/2 {
		size, bits = size*2, bits+1
	}
	t := &termTable{slots: make([]termSlot, size), shift: 64 - bits}
	for i, w := range terms {
		if !packable(w) {
			continue
		}
		lo, hi := pack([]byte(w))
		for k := t.hash(lo, hi); ; k = (k + 1) & uint64(size-1) {
			sl := &t.slots[k]
			if sl.lo == 0 {
				*sl = termSlot{lo, hi, vals[i]}
				break
			}
			if sl.lo == lo && sl.hi == hi {
				break
			}
		}
	}
	return t
}

func packable(w string) bool {
	return w != "" && len(w) <= maxPacked && !strings.Contains(w, "\x00")
}

// pack returns b's bytes 0–7 and 8–11, little endian and zero-padded; len(b) must be at most
// maxPacked. When b's capacity allows, it reads 16 bytes at once from b's backing array and
// masks off the bytes past len(b) (the callers' buffers keep 16 bytes of slack for this), as
// two loads rather than a loop over the bytes.
func pack(b []byte) (lo uint64, hi uint32) {
	n := uint(len(b))
	var w []byte
	if cap(b) >= 16 {
		w = b[:16]
	} else {
		var a [16]byte
		copy(a[:], b)
		w = a[:]
	}
	lo = binary.LittleEndian.Uint64(w)
	if n < 8 {
		return lo & (1<<(8*n) - 1), 0
	}
	return lo, uint32(uint64(binary.LittleEndian.Uint32(w[8:])) & (1<<(8*(n-8)) - 1))
}

func (t *termTable) hash(lo uint64, hi uint32) uint64 {
	return ((lo * 0x9e3779b97f4a7c15) ^ uint64(hi)) * 0xbf58476d1ce4e5b9 >> t.shift
}

// get returns the value of the packed term lo, hi (a non-empty result of pack).
func (t *termTable) get(lo uint64, hi uint32) (int32, bool) {
	if sl := t.find(lo, hi); sl != nil {
		return sl.val, true
	}
	return 0, false
}

// getOr is get returning the value of the packed term lo, hi, or −1 if it has none.
func (t *termTable) getOr(lo uint64, hi uint32) int32 {
	return t.getOrProbe(t.hash(lo, hi)&uint64(len(t.slots)-1), lo, hi)
}

// getOrProbe is getOr from slot k on, k being the term's home slot or a slot between it and
// the term's. Vectorizer.fastIDs makes the first probe itself and calls it for the rest.
func (t *termTable) getOrProbe(k uint64, lo uint64, hi uint32) int32 {
	mask := uint64(len(t.slots) - 1)
	for ; ; k = (k + 1) & mask {
		sl := &t.slots[k]
		if sl.lo == lo && sl.hi == hi {
			return sl.val
		}
		if sl.lo == 0 {
			return -1
		}
	}
}

// find returns the slot of the packed term lo, hi, or nil.
func (t *termTable) find(lo uint64, hi uint32) *termSlot {
	mask := uint64(len(t.slots) - 1)
	for k := t.hash(lo, hi); ; k = (k + 1) & mask {
		sl := &t.slots[k]
		if sl.lo == lo && sl.hi == hi {
			return sl
		}
		if sl.lo == 0 {
			return nil
		}
	}
}
