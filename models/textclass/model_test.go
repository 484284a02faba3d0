package textclass

import (
	"math"
	"math/rand/v2"
	"slices"
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

// TestExpNeg holds expNeg, the softmax's exponential, to math.Exp over the range it sees
// (the difference of two float32 scores, at most 0) and at its edges.
func TestExpNeg(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	check := func(x float64) {
		got, want := expNeg(x), math.Exp(x)
		if got == want {
			return
		}
		if math.IsNaN(want) && math.IsNaN(got) {
			return
		}
		if math.Abs(got-want) > 1e-15*want {
			t.Fatalf("expNeg(%v) = %v, math.Exp gives %v (relative error %.3g)", x, got, want, math.Abs(got-want)/want)
		}
	}
	for range 2_000_000 {
		check(-r.Float64() * 60)
		check(-r.ExpFloat64() * 50)
		check(float64(float32(r.NormFloat64()*4) - float32(r.NormFloat64()*4)))
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1e-300, -699.99, -700, -700.01, -720, -745, -746, -1e300,
		math.Inf(-1), math.NaN(), 0.5, 0.6, 1, -math.Ln2, -math.Ln2 / 128, -math.Ln2 / 64} {
		check(x)
	}
	for i := -64 * 1100; i <= 64; i++ { // every step boundary of the table
		check(float64(i) * math.Ln2 / 64)
		check(math.Nextafter(float64(i)*math.Ln2/64, 0))
	}
}

// TestSelect5MatchesInsertion checks the branch-free selection of the 5 best against the
// insertion, on scores with ties, signed zeros, infinities and subnormals, and that it
// declines scores with a NaN (which topK then selects by insertion).
func TestSelect5MatchesInsertion(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}
	for range 20000 {
		n := 5 + r.IntN(80)
		s := randomScores(r, n, special)
		got, want := make([]int, 5), make([]int, 5)
		selectInsertion(s, want)
		if !select5(s, got) {
			t.Fatalf("select5(%v) declined scores without NaN", s)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("select5(%v) = %v, insertion gives %v", s, got, want)
		}
		s[r.IntN(n)] = float32(math.NaN())
		if select5(s, got) {
			t.Fatalf("select5(%v) took a NaN", s)
		}
	}
}

// TestSumExpNeg checks that sumExpNeg adds up expNeg in order and leaves each exponential.
func TestSumExpNeg(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for range 1000 {
		xs := make([]float64, r.IntN(70))
		for i := range xs {
			xs[i] = -r.ExpFloat64() * 30
			if r.IntN(20) == 0 {
				xs[i] = -700 - r.Float64()*100
			}
		}
		var z float64
		want := make([]float64, len(xs))
		for i, x := range xs {
			want[i] = expNeg(x)
			z += want[i]
		}
		if got := sumExpNeg(xs); got != z || !slices.Equal(xs, want) {
			t.Fatalf("sumExpNeg = %v and %v, want %v and %v", got, xs, z, want)
		}
	}
}

// TestTopKManyLabels checks topK past the 64 labels whose exponentials it keeps on the stack.
func TestTopKManyLabels(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	labels := make([]string, 300)
	for i := range labels {
		labels[i] = string(rune(0x100 + i))
	}
	for range 300 {
		n := 65 + r.IntN(len(labels)-65)
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64() * 5)
		}
		k := 1 + r.IntN(10)
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			if s[a] > s[b] {
				return -1
			}
			if s[a] < s[b] {
				return 1
			}
			return 0
		})
		mx := s[order[0]]
		z := 0.0
		for _, v := range s {
			z += math.Exp(float64(v - mx))
		}
		got := topK(labels[:n], s, k)
		for i, g := range got {
			c := order[i]
			want := math.Exp(float64(s[c]-mx)) / z
			if g.Label != labels[c] || math.Abs(g.Score-want) > 1e-12*want {
				t.Fatalf("topK(k=%d of %d)[%d] = %v, want %s %v", k, n, i, g, labels[c], want)
			}
		}
	}
}

// randomScores returns n scores for the selection tests: a sixth from special, a sixth
// repeating an earlier score (ties), the rest normal with standard deviation 4.
func randomScores(r *rand.Rand, n int, special []float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		switch r.IntN(6) {
		case 0:
			s[i] = special[r.IntN(len(special))]
		case 1:
			if i > 0 {
				s[i] = s[r.IntN(i)]
			}
		default:
			s[i] = float32(r.NormFloat64() * 4)
		}
	}
	return s
}
