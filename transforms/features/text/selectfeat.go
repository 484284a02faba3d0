package text

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Chi2 scores each of dim features against labels with scikit-learn's chi2 statistic:
// observed[c][j] is the sum of feature j over documents with label c, expected[c][j] is
// (fraction of documents with label c) × (sum of feature j over all documents), and the score is
// Σ_c (observed−expected)²/expected. labels[i] holds document i's labels; a document with
// several labels counts once for each (a label repeated in one document counts once).
// Feature values must be non-negative (counts or tf-idf). Where scikit-learn gives NaN (a
// feature that is never non-zero, or a label no document has) the term counts as 0.
//
// It keeps a dense nLabels × dim table of float64s. It panics if len(labels) != len(docs) or a
// label or feature index is out of range: those are programming errors, not data.
func Chi2(docs []Vector, labels [][]int32, nLabels, dim int) []float64 {
	if len(labels) != len(docs) {
		panic(fmt.Sprintf("text.Chi2: %d documents but %d label sets; pass one label set per document", len(docs), len(labels)))
	}
	observed := make([]float64, nLabels*dim)
	classDocs := make([]float64, nLabels)
	total := make([]float64, dim)
	for i, d := range docs {
		for _, j := range d.Idx {
			if j < 0 || int(j) >= dim {
				panic(fmt.Sprintf("text.Chi2: document %d has feature %d, outside [0, %d); pass the Vectorizer's Dim as dim", i, j, dim))
			}
		}
		for k, x := range d.Val {
			total[d.Idx[k]] += float64(x)
		}
		for li, c := range labels[i] {
			if c < 0 || int(c) >= nLabels {
				panic(fmt.Sprintf("text.Chi2: document %d has label %d, outside [0, %d)", i, c, nLabels))
			}
			if slices.Contains(labels[i][:li], c) {
				continue
			}
			classDocs[c]++
			row := observed[int(c)*dim : int(c+1)*dim]
			for k, x := range d.Val {
				row[d.Idx[k]] += float64(x)
			}
		}
	}
	scores := make([]float64, dim)
	if len(docs) == 0 {
		return scores
	}
	n := float64(len(docs))
	for c := 0; c < nLabels; c++ {
		p := classDocs[c] / n
		if p == 0 {
			continue
		}
		row := observed[c*dim : (c+1)*dim]
		for j, obs := range row {
			if e := p * total[j]; e > 0 {
				d := obs - e
				scores[j] += d * d / e
			}
		}
	}
	return scores
}

// SelectTop returns the indices of the k highest scores, sorted increasing (ready for
// Vocabulary.Keep). Ties go to the lower index; NaN scores rank last. k above len(scores)
// returns every index; k <= 0 returns none.
func SelectTop(scores []float64, k int) []int32 {
	k = min(k, len(scores))
	if k <= 0 {
		return []int32{}
	}
	order := make([]int32, len(scores))
	for i := range order {
		order[i] = int32(i)
	}
	key := func(i int32) float64 {
		if s := scores[i]; !math.IsNaN(s) {
			return s
		}
		return math.Inf(-1)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(key(b), key(a)) })
	top := order[:k:k]
	slices.Sort(top)
	return top
}

// MutualInfo scores each of dim features by the mutual information, in nats, between the
// feature's presence (value > 0) and the label. A document with several labels counts as one
// sample per label, as in Chi2, and a document with no label is left out. For single-label
// data this is scikit-learn's mutual_info_classif(X > 0, y, discrete_features=True).
//
// It keeps a dense nLabels × dim table of counts and panics on the inputs Chi2 panics on.
func MutualInfo(docs []Vector, labels [][]int32, nLabels, dim int) []float64 {
	if len(labels) != len(docs) {
		panic(fmt.Sprintf("text.MutualInfo: %d documents but %d label sets; pass one label set per document", len(docs), len(labels)))
	}
	joint := make([]float64, nLabels*dim) // samples with label c and feature j present
	perLabel := make([]float64, nLabels)  // samples with label c
	present := make([]float64, dim)       // samples with feature j present
	var n float64
	for i, d := range docs {
		for _, j := range d.Idx {
			if j < 0 || int(j) >= dim {
				panic(fmt.Sprintf("text.MutualInfo: document %d has feature %d, outside [0, %d); pass the Vectorizer's Dim as dim", i, j, dim))
			}
		}
		for li, c := range labels[i] {
			if c < 0 || int(c) >= nLabels {
				panic(fmt.Sprintf("text.MutualInfo: document %d has label %d, outside [0, %d)", i, c, nLabels))
			}
			if slices.Contains(labels[i][:li], c) {
				continue
			}
			n++
			perLabel[c]++
			row := joint[int(c)*dim : int(c+1)*dim]
			for k, j := range d.Idx {
				if d.Val[k] > 0 {
					row[j]++
					present[j]++
				}
			}
		}
	}
	scores := make([]float64, dim)
	if n == 0 {
		return scores
	}
	// term adds p(x,c)·ln(p(x,c) / (p(x)·p(c))) for one cell, written with counts.
	term := func(nxc, nx, nc float64) float64 {
		if nxc <= 0 {
			return 0
		}
		return nxc / n * math.Log(nxc*n/(nx*nc))
	}
	for c := 0; c < nLabels; c++ {
		nc := perLabel[c]
		if nc == 0 {
			continue
		}
		row := joint[c*dim : (c+1)*dim]
		for j, n11 := range row {
			scores[j] += term(n11, present[j], nc) + term(nc-n11, n-present[j], nc)
		}
	}
	return scores
}
