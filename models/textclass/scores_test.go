package textclass

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/beamline/beamline/transforms/features/text"
)

// TestScoresKernelMatchesGo holds Scores (on the assembly kernel where there is one) to
// scoresGo bit for bit: label counts around the kernel's groups of four, documents of 0 to 40
// features (every mix of groups of eight, four and one), features at or past Dim, and weights
// and values that are subnormal, signed zeros, infinities or NaNs (whose bits must match too).
func TestScoresKernelMatchesGo(t *testing.T) { eachKernel(t, testScoresKernelMatchesGo) }

// eachKernel runs test on the kernels Scores and topK take by default and, where the processor
// has AVX2 (so the default ones are the AVX kernels), on the SSE2 ones too.
func eachKernel(t *testing.T, test func(*testing.T)) {
	t.Run("default", test)
	if useAVX2 {
		t.Run("SSE2", func(t *testing.T) {
			setAVX2(t, false)
			test(t)
		})
	}
}

func testScoresKernelMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.Float32frombits(0xffc00123), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, 1e-30}
	value := func(rare bool) float32 {
		if rare && r.IntN(50) == 0 {
			return special[r.IntN(len(special))]
		}
		return float32(r.NormFloat64())
	}
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 58, 63, 64, 65} {
		dim := 1 + r.IntN(300)
		m := &Model{Labels: make([]string, n), Dim: dim, W: make([]float32, dim*n), Bias: make([]float32, n)}
		for i := range m.W {
			m.W[i] = value(true)
		}
		for i := range m.Bias {
			m.Bias[i] = value(true)
		}
		for range 300 {
			var x text.Vector
			for range r.IntN(41) {
				j := int32(r.IntN(dim))
				if r.IntN(40) == 0 {
					j = int32(dim + r.IntN(5)) // past Dim: skipped
				}
				x.Idx = append(x.Idx, j)
				x.Val = append(x.Val, value(r.IntN(4) == 0))
			}
			got := m.Scores(x, nil)
			want := m.scoresGo(x.Idx, x.Val, append([]float32(nil), m.Bias...))
			if len(got) != n || len(want) != n {
				t.Fatalf("%d labels: %d and %d scores", n, len(got), len(want))
			}
			for c := range got {
				if math.Float32bits(got[c]) != math.Float32bits(want[c]) {
					t.Fatalf("%d labels, %d features: label %d scores %v (%#x), the Go loop %v (%#x)",
						n, x.Len(), c, got[c], math.Float32bits(got[c]), want[c], math.Float32bits(want[c]))
				}
			}
		}
	}
}

// TestScoresKernelShortWeights checks that a model whose W is shorter than Dim rows does
// not send the missing rows to the kernel: Scores panics on them as the Go loop does.
func TestScoresKernelShortWeights(t *testing.T) {
	m := &Model{Labels: make([]string, 4), Dim: 10, W: make([]float32, 4*5), Bias: make([]float32, 4)}
	for _, x := range []text.Vector{
		{Idx: []int32{1, 2, 3, 4, 6, 7, 8, 9}, Val: make([]float32, 8)},
		{Idx: []int32{1, 2, 3, 7}, Val: make([]float32, 4)},
		{Idx: []int32{7}, Val: make([]float32, 1)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Scores(%v) on 5 rows of weights did not panic", x.Idx)
				}
			}()
			m.Scores(x, nil)
		}()
	}
}

// TestExpKernelMatchesGo holds the exponential kernel to sumExpNeg bit for bit, on shifted
// scores as topK makes them and on arguments around the edges of its range, [−700, 0.5], past
// which the kernel declines.
func TestExpKernelMatchesGo(t *testing.T) {
	if !haveExpKernel {
		t.Skip("no exponential kernel on this architecture")
	}
	t.Run("SSE2", func(t *testing.T) {
		testExpKernel(t, 2, func(s *float32, n int, mx float32, out *float64) (float64, bool) {
			return expShiftedSSE(s, n, mx, out, expConsts())
		})
	})
	if useAVX2 {
		t.Run("AVX2", func(t *testing.T) {
			testExpKernel(t, 4, func(s *float32, n int, mx float32, out *float64) (float64, bool) {
				return expShiftedAVX2(s, n, mx, out, expConsts4())
			})
		})
	}
}

// testExpKernel is TestExpKernelMatchesGo for one kernel, which takes a multiple of step.
func testExpKernel(t *testing.T, step int, kernel func(s *float32, n int, mx float32, out *float64) (float64, bool)) {
	r := rand.New(rand.NewPCG(8, 8))
	edges := []float32{0, float32(math.Copysign(0, -1)), -700, math.Nextafter32(-700, 0), math.Nextafter32(-700, -1000),
		0.5, math.Nextafter32(0.5, 1), -1e-30, -745, -1e4, float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN())}
	for range 20000 {
		n := step * (1 + r.IntN(64/step))
		s := make([]float32, n)
		scale := []float64{1, 4, 30, 200}[r.IntN(4)]
		for i := range s {
			s[i] = float32(r.NormFloat64() * scale)
		}
		mx := s[0]
		for _, v := range s {
			mx = max(mx, v)
		}
		if r.IntN(10) == 0 { // arguments at the edges: mx 0, so the argument is the score
			mx = 0
			for range 1 + r.IntN(3) {
				s[r.IntN(n)] = edges[r.IntN(len(edges))]
			}
		}
		want := make([]float64, n)
		in := true
		for i, v := range s {
			want[i] = float64(v - mx)
			in = in && want[i] >= -700 && want[i] <= 0.5
		}
		wantZ := sumExpNeg(want)
		var got [64]float64
		z, ok := kernel(&s[0], n, mx, &got[0])
		if ok != in {
			t.Fatalf("kernel(%v − %v) ok = %v, want %v", s, mx, ok, in)
		}
		if !ok {
			continue
		}
		if math.Float64bits(z) != math.Float64bits(wantZ) {
			t.Fatalf("kernel(%v − %v) sums to %v, sumExpNeg to %v", s, mx, z, wantZ)
		}
		for i := range n {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("kernel(%v − %v)[%d] = %v, sumExpNeg gives %v", s, mx, i, got[i], want[i])
			}
		}
	}
}

// TestTopKKernelMatchesGo checks topK, which takes the exponential kernel for up to 64
// labels, against its Go loop (written out here) bit for bit, odd label counts included.
func TestTopKKernelMatchesGo(t *testing.T) { eachKernel(t, testTopKKernelMatchesGo) }

func testTopKKernelMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	labels := make([]string, 64)
	for i := range labels {
		labels[i] = string(rune('A' + i))
	}
	for range 5000 {
		n := 1 + r.IntN(len(labels))
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64() * []float64{1, 5, 40, 300}[r.IntN(4)])
		}
		k := 1 + r.IntN(min(n, 8))
		got := topK(labels[:n], s, k)
		best := make([]int, k)
		selectInsertion(s, best)
		mx := s[best[0]]
		x := make([]float64, n)
		for i, v := range s {
			x[i] = float64(v - mx)
		}
		z := sumExpNeg(x)
		for i, c := range best {
			if want := x[c] / z; got[i].Label != labels[c] || math.Float64bits(got[i].Score) != math.Float64bits(want) {
				t.Fatalf("topK(%v, %d)[%d] = %v, the Go loop gives %s %v", s, k, i, got[i], labels[c], want)
			}
		}
	}
}

// TestTop5KernelMatchesInsertion checks the top-5 kernels against the insertion, on scores
// with ties, signed zeros, +Inf and subnormals, for every label count each takes, and that
// each declines scores with a NaN or a −Inf and leaves the scores as they were.
func TestTop5KernelMatchesInsertion(t *testing.T) {
	if !haveTop5Kernel {
		t.Skip("no top-5 kernel on this architecture or with -tags purego; select5 is tested on its own")
	}
	t.Run("SSE2", func(t *testing.T) { testTop5Kernel(t, top5SSE, 5) })
	if useAVX2 {
		t.Run("AVX", func(t *testing.T) { testTop5Kernel(t, top5AVX, 8) })
	}
}

func testTop5Kernel(t *testing.T, top5 func(s *float32, n int, best *int) bool, minN int) {
	r := rand.New(rand.NewPCG(5, 5))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}
	for i := range 40000 {
		n := minN + i%(65-minN)
		s := randomScores(r, n, special)
		before := slices.Clone(s)
		got, want := make([]int, 5), make([]int, 5)
		selectInsertion(s, want)
		if !top5(&s[0], n, &got[0]) {
			t.Fatalf("kernel(%v) declined scores without NaN or −Inf", s)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("kernel(%v) = %v, insertion gives %v", s, got, want)
		}
		if !slices.Equal(s, before) {
			t.Fatalf("the kernel changed the scores: %v, were %v", s, before)
		}
		s[r.IntN(n)] = []float32{float32(math.NaN()), float32(math.Inf(-1))}[r.IntN(2)]
		got = []int{-1, -1, -1, -1, -1}
		if top5(&s[0], n, &got[0]) {
			t.Fatalf("kernel(%v) took a NaN or −Inf", s)
		}
		if !slices.Equal(got, []int{-1, -1, -1, -1, -1}) {
			t.Fatalf("kernel(%v) declined but wrote %v", s, got)
		}
	}
}

// BenchmarkSelectBest times the selection of the 5 best of 58 scores (the Debian corpus's
// labels), by the kernel where there is one, and by select5.
func BenchmarkSelectBest(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	sets := make([][]float32, 256)
	for i := range sets {
		sets[i] = make([]float32, 58)
		for j := range sets[i] {
			sets[i][j] = float32(r.NormFloat64() * 3)
		}
	}
	best := make([]int, 5)
	b.Run("selectBest", func(b *testing.B) {
		i := 0
		for b.Loop() {
			selectBest(sets[i&255], best)
			i++
		}
	})
	b.Run("select5", func(b *testing.B) {
		i := 0
		for b.Loop() {
			select5(sets[i&255], best)
			i++
		}
	})
}
