package textclass

import (
	"fmt"
	"hash/fnv"
	"sort"
)

// HeldOut reports whether the document id belongs to the evaluation split: FNV-1a 64 of the
// id, modulo 100, below percent. The split is stable (a document stays on its side from one
// day's training to the next, whatever else changes in the data) and is the same rule the
// scikit-learn comparison script applies, so both evaluate on the same documents.
//
// percent ≤ 0 holds nothing out; percent ≥ 100 holds everything out.
func HeldOut(id string, percent int) bool {
	if percent <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()%100 < uint64(percent)
}

// Report is the evaluation of a model on held-out documents. A document's predicted label,
// for the per-label figures and the confusions, is its top-1.
type Report struct {
	Model     string          `json:"model"`
	Docs      int             `json:"docs"`
	Labels    int             `json:"labels"`
	PAt1      float64         `json:"precision_at_1"`
	RecallAt  map[int]float64 `json:"recall_at"` // k → mean share of a document's labels in its top k
	HitAt     map[int]float64 `json:"hit_at"`    // k → share of documents with a label of theirs in the top k
	PerLabel  []LabelScore    `json:"per_label"`
	Macro     PRF             `json:"macro"`
	Micro     PRF             `json:"micro"`
	Confusion []Confusion     `json:"most_confused"`
}

// PRF is precision, recall and F1.
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// LabelScore is one label's figures; Support is how many held-out documents carry it.
type LabelScore struct {
	Label   string `json:"label"`
	Support int    `json:"support"`
	PRF
}

// Confusion counts documents of label True whose top-1 was Predicted.
type Confusion struct {
	True      string `json:"true"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// Ks are the cut-offs Evaluate reports.
var Ks = []int{1, 3, 5}

// Evaluate scores m on the examples (labels as indices into m.Labels).
func Evaluate(m *Model, examples []Example) Report {
	L := len(m.Labels)
	r := Report{Model: m.Kind, Docs: len(examples), Labels: L, RecallAt: map[int]float64{}, HitAt: map[int]float64{}}
	tp, fp, fn := make([]int, L), make([]int, L), make([]int, L)
	support := make([]int, L)
	confused := map[[2]int32]int{}
	kmax := Ks[len(Ks)-1]
	scratch := make([]float32, 0, L)
	idx := make(map[string]int32, L)
	for i, l := range m.Labels {
		idx[l] = int32(i)
	}
	for _, e := range examples {
		top := m.TopKInto(e.X, kmax, &scratch)
		truth := map[int32]bool{}
		for _, l := range e.Labels {
			truth[l] = true
			support[l]++
		}
		if len(truth) == 0 || len(top) == 0 {
			continue
		}
		for _, k := range Ks {
			found := 0
			for _, s := range top[:min(k, len(top))] {
				if truth[idx[s.Label]] {
					found++
				}
			}
			r.RecallAt[k] += float64(found) / float64(len(truth))
			if found > 0 {
				r.HitAt[k]++
			}
		}
		p := idx[top[0].Label]
		if truth[p] {
			r.PAt1++
			tp[p]++
		} else {
			fp[p]++
			for l := range truth {
				confused[[2]int32{l, p}]++
			}
		}
		for l := range truth {
			if l != p {
				fn[l]++
			}
		}
	}
	if n := float64(len(examples)); n > 0 {
		r.PAt1 /= n
		for _, k := range Ks {
			r.RecallAt[k] /= n
			r.HitAt[k] /= n
		}
	}
	var sumTP, sumFP, sumFN int
	var macro PRF
	counted := 0
	for c := 0; c < L; c++ {
		if support[c] == 0 && fp[c] == 0 {
			continue // neither present nor predicted: says nothing
		}
		s := LabelScore{Label: m.Labels[c], Support: support[c], PRF: prf(tp[c], fp[c], fn[c])}
		r.PerLabel = append(r.PerLabel, s)
		macro.Precision += s.Precision
		macro.Recall += s.Recall
		macro.F1 += s.F1
		counted++
		sumTP, sumFP, sumFN = sumTP+tp[c], sumFP+fp[c], sumFN+fn[c]
	}
	if counted > 0 {
		macro.Precision /= float64(counted)
		macro.Recall /= float64(counted)
		macro.F1 /= float64(counted)
	}
	r.Macro, r.Micro = macro, prf(sumTP, sumFP, sumFN)
	sort.Slice(r.PerLabel, func(i, j int) bool {
		if r.PerLabel[i].Support != r.PerLabel[j].Support {
			return r.PerLabel[i].Support > r.PerLabel[j].Support
		}
		return r.PerLabel[i].Label < r.PerLabel[j].Label
	})
	for pair, n := range confused {
		r.Confusion = append(r.Confusion, Confusion{True: m.Labels[pair[0]], Predicted: m.Labels[pair[1]], Count: n})
	}
	sort.Slice(r.Confusion, func(i, j int) bool {
		a, b := r.Confusion[i], r.Confusion[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.True+"\x00"+a.Predicted < b.True+"\x00"+b.Predicted
	})
	if len(r.Confusion) > 20 {
		r.Confusion = r.Confusion[:20]
	}
	return r
}

func prf(tp, fp, fn int) PRF {
	var p PRF
	if tp+fp > 0 {
		p.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		p.Recall = float64(tp) / float64(tp+fn)
	}
	if p.Precision+p.Recall > 0 {
		p.F1 = 2 * p.Precision * p.Recall / (p.Precision + p.Recall)
	}
	return p
}

// Summary is the report's headline in one line.
func (r Report) Summary() string {
	return fmt.Sprintf("%s: %d docs, %d labels, p@1 %.3f, recall@5 %.3f, hit@3 %.3f, macro F1 %.3f, micro F1 %.3f",
		r.Model, r.Docs, r.Labels, r.PAt1, r.RecallAt[5], r.HitAt[3], r.Macro.F1, r.Micro.F1)
}
