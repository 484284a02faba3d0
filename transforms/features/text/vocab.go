package text

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Vocabulary maps terms to feature indices: term i is feature i. Terms are sorted, so a
// vocabulary built from the same counts is the same whatever order the counts came in.
// It is JSON-serialisable; do not modify Terms after the first Index call.
type Vocabulary struct {
	Terms []string `json:"terms"`
	DF    []int32  `json:"df"`   // documents containing Terms[i]
	Docs  int      `json:"docs"` // documents counted

	once  sync.Once
	index map[string]int32
	err   error
}

// BuildVocabulary keeps the terms of df (term → number of documents containing it, out of docs)
// that pass s.MinDF, s.MaxDF and s.MaxFeatures, sorted by term. MaxFeatures keeps the terms
// with the highest document frequency, ties broken by term, after the MinDF/MaxDF filters.
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
	if s.MaxFeatures > 0 && len(kept) > s.MaxFeatures {
		slices.SortFunc(kept, func(a, b entry) int {
			if c := cmp.Compare(b.df, a.df); c != 0 {
				return c
			}
			return cmp.Compare(a.term, b.term)
		})
		kept = kept[:s.MaxFeatures]
	}
	slices.SortFunc(kept, func(a, b entry) int { return cmp.Compare(a.term, b.term) })
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
// index order, so the copy's terms stay sorted; duplicates are kept once. It panics if an
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
