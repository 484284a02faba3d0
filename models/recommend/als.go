package recommend

import (
	"math"
	"math/rand/v2"
)

// trainALS is implicit-feedback ALS (Hu, Koren, Volinsky: "Collaborative Filtering for
// Implicit Feedback Datasets", 2008): preference 1 for every observed pair, 0 elsewhere, with
// confidence 1 + α·weight on the observed ones. Each half-step solves, for every row,
//
//	(YᵀY + Yᵀ(Cᵤ − I)Y + λI) xᵤ = YᵀCᵤp(u)
//
// exactly by Cholesky, with YᵀY computed once per half-step so a row costs
// O(nᵤ·k² + k³). Items are solved first and users last, so the user factors returned are the
// exact least-squares answer to the item factors returned.
//
// The k×k solve is written out here rather than taken from gonum: it is thirty lines, it
// keeps the module free of a numeric dependency only this package would use, and it works
// in place on reused buffers (no allocation per row).
func trainALS(d *dataset, p Params) (userF, itemF []float32) {
	k := p.Factors
	r := rand.New(rand.NewPCG(p.Seed, 0xA15))
	x := make([]float64, len(d.users)*k)
	y := make([]float64, len(d.items)*k)
	for i := range x {
		x[i] = r.NormFloat64() * 0.01
	}
	for i := range y {
		y[i] = r.NormFloat64() * 0.01
	}
	s := newSolver(k)
	for range p.Iterations {
		s.halfStep(y, x, d.byItem, p)
		s.halfStep(x, y, d.byUser, p)
	}
	return to32(x), to32(y)
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out
}

// solver holds the buffers of one k×k system.
type solver struct {
	k    int
	gram []float64 // YᵀY
	a    []float64 // the system, then its Cholesky factor
	b    []float64
}

func newSolver(k int) *solver {
	return &solver{k: k, gram: make([]float64, k*k), a: make([]float64, k*k), b: make([]float64, k)}
}

// halfStep solves every row of dst given the fixed factors of the other side.
func (s *solver) halfStep(dst, fixed []float64, rows [][]entry, p Params) {
	s.setGram(fixed)
	k := s.k
	for u, r := range rows {
		s.solveRow(dst[u*k:(u+1)*k], fixed, r, p.Alpha, p.Regularization)
	}
}

func (s *solver) setGram(fixed []float64) {
	k := s.k
	clear(s.gram)
	for off := 0; off < len(fixed); off += k {
		y := fixed[off : off+k]
		for a := range k {
			ya := y[a]
			row := s.gram[a*k:]
			for b := a; b < k; b++ {
				row[b] += ya * y[b]
			}
		}
	}
	for a := range k {
		for b := 0; b < a; b++ {
			s.gram[a*k+b] = s.gram[b*k+a]
		}
	}
}

// solveRow writes into x the solution for one row with the observed entries r.
func (s *solver) solveRow(x, fixed []float64, r []entry, alpha, lambda float64) {
	k := s.k
	copy(s.a, s.gram)
	clear(s.b)
	for a := range k {
		s.a[a*k+a] += lambda
	}
	for _, e := range r {
		y := fixed[int(e.idx)*k : int(e.idx)*k+k]
		c := 1 + alpha*e.w
		for a := range k {
			ya := y[a]
			s.b[a] += c * ya
			row := s.a[a*k:]
			for b := range k {
				row[b] += (c - 1) * ya * y[b]
			}
		}
	}
	if !cholesky(s.a, k) {
		// Not positive definite (only with λ = 0 and too few rows): leave the row as it was.
		return
	}
	choleskySolve(s.a, k, s.b, x)
}

// cholesky factors the symmetric positive definite a (k×k, row-major) in place into L with
// a = L·Lᵀ, L in the lower triangle. It returns false if a is not positive definite.
func cholesky(a []float64, k int) bool {
	for j := range k {
		d := a[j*k+j]
		for p := range j {
			d -= a[j*k+p] * a[j*k+p]
		}
		if d <= 0 || math.IsNaN(d) {
			return false
		}
		d = math.Sqrt(d)
		a[j*k+j] = d
		for i := j + 1; i < k; i++ {
			v := a[i*k+j]
			for p := range j {
				v -= a[i*k+p] * a[j*k+p]
			}
			a[i*k+j] = v / d
		}
	}
	return true
}

// choleskySolve solves L·Lᵀ·x = b with the factor from cholesky.
func choleskySolve(l []float64, k int, b, x []float64) {
	for i := range k { // L·z = b
		v := b[i]
		for p := range i {
			v -= l[i*k+p] * x[p]
		}
		x[i] = v / l[i*k+i]
	}
	for i := k - 1; i >= 0; i-- { // Lᵀ·x = z
		v := x[i]
		for p := i + 1; p < k; p++ {
			v -= l[p*k+i] * x[p]
		}
		x[i] = v / l[i*k+i]
	}
}

// foldIn solves the user row of a user the model has not seen from the items they own, as a
// training half-step would (each owned item with weight 1).
func (m *Model) foldIn(known []int32) []float64 {
	k := m.Params.Factors
	y := make([]float64, len(m.ItemFactors))
	for i, v := range m.ItemFactors {
		y[i] = float64(v)
	}
	s := newSolver(k)
	s.setGram(y)
	r := make([]entry, len(known))
	for j, i := range known {
		r[j] = entry{i, 1}
	}
	x := make([]float64, k)
	s.solveRow(x, y, r, m.Params.Alpha, m.Params.Regularization)
	return x
}
