package recommend

import (
	"math"
	"math/rand/v2"
	"sort"
)

// trainBPR is Bayesian personalised ranking (Rendle et al., 2009) by stochastic gradient
// ascent: each step draws an observed (user, item) pair uniformly and an item the user has
// not interacted with, and pushes the user's score of the first above the second. An epoch
// is as many steps as observed pairs; one goroutine, one seeded stream, so a seed gives one
// model.
func trainBPR(d *dataset, p Params) (userF, itemF, bias []float32) {
	k := p.Factors
	r := rand.New(rand.NewPCG(p.Seed, 0xB9))
	x := make([]float64, len(d.users)*k)
	y := make([]float64, len(d.items)*k)
	b := make([]float64, len(d.items))
	for i := range x {
		x[i] = r.NormFloat64() * 0.1
	}
	for i := range y {
		y[i] = r.NormFloat64() * 0.1
	}
	// Pairs flattened so one draw picks an observed pair uniformly.
	pairU := make([]int32, 0, d.nnz)
	pairI := make([]int32, 0, d.nnz)
	for u, row := range d.byUser {
		for _, e := range row {
			pairU = append(pairU, int32(u))
			pairI = append(pairI, e.idx)
		}
	}
	nItems := len(d.items)
	if nItems < 2 {
		return to32(x), to32(y), to32(b)
	}
	lr, reg := p.LearningRate, p.Regularization
	for range p.Iterations {
		for range len(pairU) {
			n := r.IntN(len(pairU))
			u, i := int(pairU[n]), int(pairI[n])
			row := d.byUser[u]
			if len(row) == nItems {
				continue
			}
			var j int
			for {
				j = r.IntN(nItems)
				if !owns(row, int32(j)) {
					break
				}
			}
			xu, yi, yj := x[u*k:(u+1)*k], y[i*k:(i+1)*k], y[j*k:(j+1)*k]
			diff := b[i] - b[j]
			for f := range k {
				diff += xu[f] * (yi[f] - yj[f])
			}
			g := 1 / (1 + math.Exp(diff)) // σ(−x_uij)
			for f := range k {
				uf := xu[f]
				xu[f] += lr * (g*(yi[f]-yj[f]) - reg*uf)
				yi[f] += lr * (g*uf - reg*yi[f])
				yj[f] += lr * (-g*uf - reg*yj[f])
			}
			b[i] += lr * (g - reg*b[i])
			b[j] += lr * (-g - reg*b[j])
		}
	}
	return to32(x), to32(y), to32(b)
}

// owns reports whether the sorted row holds item i.
func owns(row []entry, i int32) bool {
	j := sort.Search(len(row), func(j int) bool { return row[j].idx >= i })
	return j < len(row) && row[j].idx == i
}
