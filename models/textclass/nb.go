package textclass

import (
	"fmt"
	"math"
	"sort"

	"github.com/beamline/beamline/transforms/features/text"
)

// Example is one labelled document as features: X the term counts (Naive Bayes) or TF-IDF
// (linear), Labels indices into the model's label list. A document may have several labels.
type Example struct {
	ID     string      `json:"id"`
	X      text.Vector `json:"x"`
	Labels []int32     `json:"labels"`
}

// LabelStats are the Naive Bayes sufficient statistics of one label: how many documents
// carry it and the summed feature values of those documents, sparse (Idx increasing). They
// add up: the statistics of two parts of the data are the sum of each part's, which is what
// lets TrainNB build them with CombinePerKey on any number of workers.
type LabelStats struct {
	Label string    `json:"label"`
	Docs  float64   `json:"docs"`
	Idx   []int32   `json:"idx"`
	Val   []float64 `json:"val"`
}

// StatsOf sums the examples into one LabelStats per label (labels[i] names index i). It is
// the single-machine twin of TrainNB's combine, used by tests and small jobs.
func StatsOf(examples []Example, labels []string) []LabelStats {
	acc := make([]*nbAcc, len(labels))
	for i := range acc {
		acc[i] = &nbAcc{Sum: map[int32]float64{}}
	}
	for _, e := range examples {
		for _, l := range e.Labels {
			acc[l].add(e.X)
		}
	}
	out := make([]LabelStats, len(labels))
	for i, a := range acc {
		out[i] = a.stats(labels[i])
	}
	return out
}

// nbAcc accumulates one label's statistics.
type nbAcc struct {
	Docs float64           `json:"docs"`
	Sum  map[int32]float64 `json:"sum"`
}

func (a *nbAcc) add(x text.Vector) {
	a.Docs++
	for i, j := range x.Idx {
		a.Sum[j] += float64(x.Val[i])
	}
}

func (a *nbAcc) merge(b *nbAcc) {
	a.Docs += b.Docs
	for j, v := range b.Sum {
		a.Sum[j] += v
	}
}

func (a *nbAcc) stats(label string) LabelStats {
	s := LabelStats{Label: label, Docs: a.Docs, Idx: make([]int32, 0, len(a.Sum))}
	for j := range a.Sum {
		s.Idx = append(s.Idx, j)
	}
	sort.Slice(s.Idx, func(x, y int) bool { return s.Idx[x] < s.Idx[y] })
	s.Val = make([]float64, len(s.Idx))
	for i, j := range s.Idx {
		s.Val[i] = a.Sum[j]
	}
	return s
}

// NBOptions configure a Naive Bayes model.
type NBOptions struct {
	// Complement selects Complement Naive Bayes (Rennie et al. 2003): each label is scored
	// by how badly the other labels' statistics explain the document, which copes better
	// with labels of very different sizes than the multinomial model does.
	Complement bool
	// Alpha is the additive (Laplace/Lidstone) smoothing; 0 means 1.
	Alpha float64
}

// NaiveBayes builds a multinomial (or complement) Naive Bayes model over dim features from
// per-label statistics. Labels with no documents are kept (so label indices stay stable) but
// score as unlikely as possible under the multinomial model.
func NaiveBayes(stats []LabelStats, dim int, o NBOptions) (*Model, error) {
	if len(stats) == 0 {
		return nil, fmt.Errorf("textclass.NaiveBayes: no labels")
	}
	if dim <= 0 {
		return nil, fmt.Errorf("textclass.NaiveBayes: dimension %d must be positive", dim)
	}
	alpha := o.Alpha
	if alpha == 0 {
		alpha = 1
	}
	if alpha < 0 {
		return nil, fmt.Errorf("textclass.NaiveBayes: Alpha %g must not be negative", alpha)
	}
	L := len(stats)
	m := &Model{Kind: KindMultinomialNB, Dim: dim, W: make([]float32, dim*L), Bias: make([]float32, L)}
	if o.Complement {
		m.Kind = KindComplementNB
	}
	totalDocs, total := 0.0, 0.0
	all := make([]float64, dim) // feature totals over every label
	labelTotal := make([]float64, L)
	for c, s := range stats {
		m.Labels = append(m.Labels, s.Label)
		totalDocs += s.Docs
		for i, j := range s.Idx {
			if int(j) >= dim {
				return nil, fmt.Errorf("textclass.NaiveBayes: label %q has feature %d past dimension %d", s.Label, j, dim)
			}
			all[j] += s.Val[i]
			labelTotal[c] += s.Val[i]
		}
		total += labelTotal[c]
	}
	ad := alpha * float64(dim)
	for c, s := range stats {
		if !o.Complement {
			// log P(c) + Σ x_j log θ_cj with θ_cj = (N_cj + α) / (N_c + α·dim).
			if s.Docs > 0 {
				m.Bias[c] = float32(math.Log(s.Docs / totalDocs))
			} else {
				m.Bias[c] = float32(math.Inf(-1))
			}
			norm := math.Log(labelTotal[c] + ad)
			base := float32(math.Log(alpha) - norm)
			for j := 0; j < dim; j++ {
				m.W[j*L+c] = base
			}
			for i, j := range s.Idx {
				m.W[int(j)*L+c] = float32(math.Log(s.Val[i]+alpha) - norm)
			}
			continue
		}
		// Complement: −Σ x_j log θ̃_cj with θ̃_cj = (N_~c,j + α) / (N_~c + α·dim), the
		// statistics of every other label; no prior, as in the paper.
		norm := math.Log(total - labelTotal[c] + ad)
		own := make(map[int32]float64, len(s.Idx))
		for i, j := range s.Idx {
			own[j] = s.Val[i]
		}
		for j := 0; j < dim; j++ {
			m.W[j*L+c] = float32(norm - math.Log(all[j]-own[int32(j)]+alpha))
		}
	}
	return m, m.Validate()
}
