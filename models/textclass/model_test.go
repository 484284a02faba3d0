package textclass

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTopKMatchesFullSort checks topK's selection and softmax against sorting every label.
func TestTopKMatchesFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	labels := make([]string, 58)
	for i := range labels {
		labels[i] = string(rune('A' + i))
	}
	for range 2000 {
		n := 1 + r.IntN(len(labels))
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64() * 4)
			if r.IntN(8) == 0 && i > 0 {
				s[i] = s[r.IntN(i)] // ties
			}
		}
		k := r.IntN(12)
		got := topK(labels[:n], s, k)
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		// Stable: ties keep the lower label first.
		for i := 1; i < n; i++ {
			for j := i; j > 0 && s[order[j]] > s[order[j-1]]; j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
		mx := s[order[0]]
		z := 0.0
		for _, v := range s {
			z += math.Exp(float64(v - mx))
		}
		if want := min(k, n); len(got) != want {
			t.Fatalf("topK(k=%d) of %d labels gave %d", k, n, len(got))
		}
		for i, g := range got {
			c := order[i]
			want := math.Exp(float64(s[c]-mx)) / z
			if g.Label != labels[c] || math.Abs(g.Score-want) > 1e-12*want {
				t.Fatalf("topK(%v, %d)[%d] = %v, want %s %v", s, k, i, g, labels[c], want)
			}
		}
	}
}
