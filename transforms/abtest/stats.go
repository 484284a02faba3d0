package abtest

import "math"

// Comparison is a treatment's conversion rate against the control's.
type Comparison struct {
	RateT, RateC float64 // conversions / users
	Diff         float64 // RateT − RateC
	// DiffLow, DiffHigh: 95 % confidence interval of Diff (unpooled standard error).
	DiffLow, DiffHigh float64
	// Uplift is Diff / RateC; its interval is the difference's divided by RateC (the control
	// rate taken as known: a good approximation once the control has many users).
	Uplift, UpliftLow, UpliftHigh float64
	Z, P                          float64 // two-sided pooled two-proportion z test
}

// TwoProportion compares convT of nT treated users with convC of nC control users.
func TwoProportion(convT, nT, convC, nC int64) Comparison {
	var c Comparison
	if nT <= 0 || nC <= 0 {
		c.P = 1
		return c
	}
	pt, pc := float64(convT)/float64(nT), float64(convC)/float64(nC)
	c.RateT, c.RateC, c.Diff = pt, pc, pt-pc
	se := math.Sqrt(pt*(1-pt)/float64(nT) + pc*(1-pc)/float64(nC))
	c.DiffLow, c.DiffHigh = c.Diff-1.959964*se, c.Diff+1.959964*se
	pool := float64(convT+convC) / float64(nT+nC)
	sp := math.Sqrt(pool * (1 - pool) * (1/float64(nT) + 1/float64(nC)))
	c.P = 1
	if sp > 0 {
		c.Z = c.Diff / sp
		c.P = math.Erfc(math.Abs(c.Z) / math.Sqrt2)
	}
	if pc > 0 {
		c.Uplift, c.UpliftLow, c.UpliftHigh = c.Diff/pc, c.DiffLow/pc, c.DiffHigh/pc
	}
	return c
}

// SampleRatio is Pearson's χ² test of observed counts against expected shares: a small P
// (below 0.001 by convention) is a sample-ratio mismatch.
func SampleRatio(observed []int64, shares []float64) (chi2, p float64) {
	var n float64
	for _, o := range observed {
		n += float64(o)
	}
	if n == 0 || len(observed) < 2 {
		return 0, 1
	}
	for i, o := range observed {
		e := n * shares[i]
		d := float64(o) - e
		chi2 += d * d / e
	}
	return chi2, ChiSquareSurvival(chi2, float64(len(observed)-1))
}

// ChiSquareSurvival is P(X ≥ x) for X χ²-distributed with k degrees of freedom: the
// regularised upper incomplete gamma Q(k/2, x/2).
func ChiSquareSurvival(x, k float64) float64 {
	if x <= 0 {
		return 1
	}
	return upperGamma(k/2, x/2)
}

// upperGamma is Q(a, x), by its power series below a+1 and its continued fraction (modified
// Lentz) above, the usual split: each converges fast on its side.
func upperGamma(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 500; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < 500; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}
