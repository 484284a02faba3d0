package textclass

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/beamline/beamline/transforms/features/text"
)

// Kinds of model, as stored in a modelstore manifest.
const (
	KindMultinomialNB = "textclass.multinomial_nb"
	KindComplementNB  = "textclass.complement_nb"
	KindLinear        = "textclass.linear"
)

// Model scores a feature vector against every label: a linear function per label, which is
// what Naive Bayes (log-probabilities) and the linear model both come down to. W is stored
// feature-major — the weights of feature j for all labels side by side — so scoring a sparse
// document touches one contiguous run of memory per non-zero feature.
type Model struct {
	Kind   string
	Labels []string
	Dim    int
	W      []float32 // Dim × len(Labels), feature-major
	Bias   []float32 // per label
}

// Scored is one label and its score.
type Scored struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Validate checks that the shapes agree.
func (m *Model) Validate() error {
	if len(m.Labels) == 0 {
		return errors.New("textclass: model has no labels")
	}
	if m.Dim <= 0 {
		return fmt.Errorf("textclass: model dimension %d", m.Dim)
	}
	if len(m.W) != m.Dim*len(m.Labels) || len(m.Bias) != len(m.Labels) {
		return fmt.Errorf("textclass: model shapes disagree: %d weights, %d biases for %d features × %d labels",
			len(m.W), len(m.Bias), m.Dim, len(m.Labels))
	}
	return nil
}

// Scores adds x's score for every label to dst (len(m.Labels)), starting from the biases.
// Features at or past m.Dim are skipped.
func (m *Model) Scores(x text.Vector, dst []float32) []float32 {
	n := len(m.Labels)
	dst = append(dst[:0], m.Bias...)
	idx, val := x.Idx, x.Val[:len(x.Idx)]
	if haveScoresKernel && n > 0 && len(dst) == n && m.scoresKernel(idx, val, dst) {
		return dst
	}
	return m.scoresGo(idx, val, dst)
}

// scoresKernel is Scores on the assembly kernel (scores_amd64.s), which groups the features
// as scoresGo does, eight, then four, then one, and keeps each label's order of additions,
// so the scores are the same bit for bit. The kernel reads n weights from the start of each
// feature's row without bounds checks, so every feature must be a whole row of W; if one is
// not (it is at or past Dim, which Scores skips), scoresKernel does nothing and reports
// false, and Scores takes the Go loop. On the Debian corpus's linear model (58 labels, 31
// features a document) Scores took 7.6k instructions a document in Go, 2.8k here, and a
// third of the time; gonum's blas32.Axpy, the nearest library kernel, one call per feature,
// took 9.5k and more time than the Go loop: it loads and stores every label's score once
// per feature, behind three layers of calls.
func (m *Model) scoresKernel(idx []int32, val []float32, dst []float32) bool {
	n := len(dst)
	lim := uint32(min(m.Dim, len(m.W)/n, math.MaxInt32))
	for _, j := range idx {
		if uint32(j) >= lim {
			return false
		}
	}
	switch {
	case len(idx) == 0:
	case useAVX2:
		scoresAVX(&dst[0], n, &m.W[0], &idx[0], &val[0], len(idx))
	default:
		scoresSSE(&dst[0], n, &m.W[0], &idx[0], &val[0], len(idx))
	}
	return true
}

// scoresGo is Scores in Go, for processors without the kernels (and the reference the
// kernels are tested against).
func (m *Model) scoresGo(idx []int32, val []float32, dst []float32) []float32 {
	n := len(m.Labels)
	// Eight, then four, features at a time: each label's score is loaded and stored once per
	// eight (four) products instead of once per product. The additions stay in the same order
	// as one feature at a time, ((s + v0·w0) + v1·w1) + …, so the scores are bit for bit the
	// same (TrainLinear relies on this too).
	i := 0
	for ; i+8 <= len(idx); i += 8 {
		j0, j1, j2, j3 := int(idx[i]), int(idx[i+1]), int(idx[i+2]), int(idx[i+3])
		j4, j5, j6, j7 := int(idx[i+4]), int(idx[i+5]), int(idx[i+6]), int(idx[i+7])
		if max(j0, j1, j2, j3, j4, j5, j6, j7) >= m.Dim {
			m.addRows(idx[i:i+8], val[i:i+8], dst)
			continue
		}
		v0, v1, v2, v3 := val[i], val[i+1], val[i+2], val[i+3]
		v4, v5, v6, v7 := val[i+4], val[i+5], val[i+6], val[i+7]
		d := dst[:n]
		r0 := m.W[j0*n : j0*n+n][:len(d)]
		r1 := m.W[j1*n : j1*n+n][:len(d)]
		r2 := m.W[j2*n : j2*n+n][:len(d)]
		r3 := m.W[j3*n : j3*n+n][:len(d)]
		r4 := m.W[j4*n : j4*n+n][:len(d)]
		r5 := m.W[j5*n : j5*n+n][:len(d)]
		r6 := m.W[j6*n : j6*n+n][:len(d)]
		r7 := m.W[j7*n : j7*n+n][:len(d)]
		for c := range d {
			d[c] = d[c] + v0*r0[c] + v1*r1[c] + v2*r2[c] + v3*r3[c] + v4*r4[c] + v5*r5[c] + v6*r6[c] + v7*r7[c]
		}
	}
	for ; i+4 <= len(idx); i += 4 {
		j0, j1, j2, j3 := int(idx[i]), int(idx[i+1]), int(idx[i+2]), int(idx[i+3])
		if max(j0, j1, j2, j3) >= m.Dim {
			m.addRows(idx[i:i+4], val[i:i+4], dst)
			continue
		}
		v0, v1, v2, v3 := val[i], val[i+1], val[i+2], val[i+3]
		d := dst[:n]
		r0 := m.W[j0*n : j0*n+n][:len(d)]
		r1 := m.W[j1*n : j1*n+n][:len(d)]
		r2 := m.W[j2*n : j2*n+n][:len(d)]
		r3 := m.W[j3*n : j3*n+n][:len(d)]
		for c := range d {
			d[c] = d[c] + v0*r0[c] + v1*r1[c] + v2*r2[c] + v3*r3[c]
		}
	}
	m.addRows(idx[i:], val[i:], dst)
	return dst
}

// addRows adds v[i] times feature idx[i]'s weights to dst, one feature at a time.
func (m *Model) addRows(idx []int32, val []float32, dst []float32) {
	n := len(m.Labels)
	for i, j := range idx {
		if int(j) >= m.Dim {
			continue
		}
		v := val[i]
		d := dst[:n]
		row := m.W[int(j)*n : int(j)*n+n][:len(d)]
		for c := range d {
			d[c] += v * row[c]
		}
	}
}

// TopK returns the k best labels for x, best first, with scores as probabilities: a softmax
// over all labels' scores, so they are comparable across models and documents.
func (m *Model) TopK(x text.Vector, k int) []Scored {
	s := m.Scores(x, make([]float32, 0, len(m.Labels)))
	return topK(m.Labels, s, k)
}

// TopKInto is TopK without allocating the score buffer: scratch is reused across calls.
func (m *Model) TopKInto(x text.Vector, k int, scratch *[]float32) []Scored {
	*scratch = m.Scores(x, *scratch)
	return topK(m.Labels, *scratch, k)
}

func topK(labels []string, s []float32, k int) []Scored {
	if k > len(s) {
		k = len(s)
	}
	if k <= 0 {
		return nil
	}
	// Partial selection: k is small (5) next to the labels. Ties keep the lower label first.
	var small [8]int
	best := small[:0]
	if k > len(small) {
		best = make([]int, 0, k)
	}
	best = best[:k]
	if !selectBest(s, best) {
		selectInsertion(s, best)
	}
	// Softmax normaliser, shifted by the maximum (the first of the best) for stability, over
	// chunks of 64 scores. Each chunk is shifted and widened first, then exponentiated:
	// widening a float32 writes only half of a register, so in the loop that adds up the
	// exponentials it would wait on the previous exponential, chaining them one after another.
	mx := s[best[0]]
	var z float64
	var x [64]float64
	if haveExpKernel && len(s) <= len(x) {
		// The kernel does two (four with AVX2) at a time, and sumExpNeg the ones left, one
		// by one, so that z adds them in order. If the kernel meets an argument for
		// math.Exp, it stops, and the loop below does it all again.
		var done int
		var ok bool
		if useAVX2 {
			done = len(s) &^ 3
			z, ok = expShiftedAVX2(&s[0], done, mx, &x[0], expConsts4())
		} else {
			done = len(s) &^ 1
			z, ok = expShiftedSSE(&s[0], done, mx, &x[0], expConsts())
		}
		if ok {
			for i := done; i < len(s); i++ {
				x[i] = float64(s[i] - mx)
				z += sumExpNeg(x[i : i+1])
			}
			return scored(labels, s, best, &x, mx, z)
		}
		z = 0
	}
	for start := 0; start < len(s); start += len(x) {
		chunk := s[start:min(start+len(x), len(s))]
		for i, v := range chunk {
			x[i] = float64(v - mx)
		}
		z += sumExpNeg(x[:len(chunk)]) // x now holds the exponentials
	}
	return scored(labels, s, best, &x, mx, z)
}

// scored is topK's result: the labels best, with their exponentials, from x (the last chunk
// of them) or again from s, divided by z.
func scored(labels []string, s []float32, best []int, x *[64]float64, mx float32, z float64) []Scored {
	out := make([]Scored, len(best))
	for i, c := range best {
		e := x[c%len(x)]
		if len(s) > len(x) { // x holds the last chunk only
			e = expNeg(float64(s[c] - mx))
		}
		out[i] = Scored{Label: labels[c], Score: e / z}
	}
	return out
}

// selectInsertion sets best to the indices of the len(best) highest scores of s, highest
// first, ties to the lower index. The best scores are kept beside their indices, so that the
// insertion compares values in registers rather than going back to s.
func selectInsertion(s []float32, best []int) {
	k := len(best)
	var small [8]float32
	bv := small[:0]
	if k > len(small) {
		bv = make([]float32, 0, k)
	}
	bv = bv[:k]
	for c := range k {
		v := s[c]
		i := c
		for ; i > 0 && v > bv[i-1]; i-- {
			best[i], bv[i] = best[i-1], bv[i-1]
		}
		best[i], bv[i] = c, v
	}
	last := bv[k-1] // the score to beat
	for c := k; c < len(s); c++ {
		v := s[c]
		if !(v > last) {
			continue
		}
		i := k - 1
		for ; i > 0 && v > bv[i-1]; i-- {
			best[i], bv[i] = best[i-1], bv[i-1]
		}
		best[i], bv[i] = c, v
		last = bv[k-1]
	}
}

// selectBest is selectInsertion for the usual 5 best: by the kernel when there is one and
// it takes the scores, else by select5. It reports false if neither did.
func selectBest(s []float32, best []int) bool {
	if len(best) != 5 {
		return false
	}
	if haveTop5Kernel && len(s) >= 5 && len(s) <= 64 {
		if useAVX2 && len(s) >= 8 {
			if top5AVX(&s[0], len(s), &best[0]) {
				return true
			}
		} else if top5SSE(&s[0], len(s), &best[0]) {
			return true
		}
	}
	return select5(s, best)
}

// select5 is selectInsertion for the usual 5 best, without branches that depend on the
// scores, for at most 2^32 scores, none NaN; it reports false, doing nothing, if a score is
// NaN. Each score and its index become one int64 key that orders as the selection does:
// the score mapped to an int32 of the same order (orderKey) above the complement of the
// index, so that of equal scores the lower index has the greater key, and no two keys are
// equal. Each key then passes down the five best keys through compare-exchanges, which
// compile to conditional moves: the mispredicted branches of an insertion, a dozen or so
// per document, were most of its time.
func select5(s []float32, best []int) bool {
	if len(best) != 5 || len(s) < 5 || uint64(len(s)) > 1<<32 {
		return false
	}
	b0, b1, b2, b3, b4 := int64(math.MinInt64), int64(math.MinInt64), int64(math.MinInt64), int64(math.MinInt64), int64(math.MinInt64)
	nan := false
	for c, v := range s {
		if v != v {
			nan = true
		}
		t := int64(orderKey(v))<<32 | int64(^uint32(c))
		b0, t = max(b0, t), min(b0, t)
		b1, t = max(b1, t), min(b1, t)
		b2, t = max(b2, t), min(b2, t)
		b3, t = max(b3, t), min(b3, t)
		b4 = max(b4, t)
	}
	if nan {
		return false
	}
	for j, b := range [5]int64{b0, b1, b2, b3, b4} {
		best[j] = int(^uint32(b))
	}
	return true
}

// orderKey maps a score that is not NaN to an int32 in the same order, with −0 and +0
// equal: the bits of a non-negative float as they are, those of a negative one with the
// magnitude bits flipped (more negative, smaller), then the negative ones moved up by one
// so that −0 (which became −1) meets +0.
func orderKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	k := b ^ (b >> 31 & math.MaxInt32)
	return k + int32(uint32(k)>>31)
}

// expNeg is math.Exp for the softmax's shifted scores, which are at most 0: within a few
// units in the last place of math.Exp (TestExpNeg holds it to 1e-15 relative) and several
// times faster. x = (k·64 + j)·ln2/64 + r with |r| ≤ ln2/128, so e^x = 2^k · 2^(j/64) · e^r:
// 2^(j/64) from a table, e^r from its Taylor polynomial to r⁵ (the next term is under 4e-17
// relative), 2^k put straight into the exponent bits. Arguments below −700 (where 2^k would
// leave the normal range), above 0.5, and NaN go to math.Exp.
func expNeg(x float64) float64 {
	a := [1]float64{x}
	sumExpNeg(a[:])
	return a[0]
}

// Constants of expNeg.
const (
	expInvStep = 64 / math.Ln2
	// ln2/64 split in two: expStepHi has 32 significant bits, so n·expStepHi is exact for
	// any n expNeg sees (|n| < 2^17).
	expStepHi = 0x1.62e42feep-7
	expStepLo = math.Ln2/64 - expStepHi
	expRound  = 0x1.8p52 // adding it rounds to an integer, held in the low bits
)

// sumExpNeg replaces each x of xs by expNeg(x) and returns their sum, added up in order.
func sumExpNeg(xs []float64) float64 {
	var z float64
	for i, x := range xs {
		if !(x >= -700 && x <= 0.5) {
			e := exp(x)
			xs[i] = e
			z += e
			continue
		}
		t := x*expInvStep + expRound
		n := int64(math.Float64bits(t))
		nf := t - expRound
		r := (x - nf*expStepHi) - nf*expStepLo
		p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120)))))
		scale := math.Float64frombits(uint64(1023+int64(int32(n))>>6) << 52)
		e := exp2Table[n&63] * p * scale
		xs[i] = e
		z += e
	}
	return z
}

// exp is math.Exp kept out of line: the rare arguments expNeg and sumExpNeg pass on.
//
//go:noinline
func exp(x float64) float64 { return math.Exp(x) }

// exp2Table[j] is 2^(j/64).
var exp2Table = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// The binary form of a model: a magic, the kind, labels, shapes, the float32 weights little
// endian and a CRC-32 of everything before it. It is written by hand because the weights are
// the bulk (hundreds of labels × tens of thousands of features) and gob or JSON would be
// several times larger and slower to load into a worker.
var magic = []byte("BLTC1\n")

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(magic)
	putString(&b, m.Kind)
	putUvarint(&b, uint64(len(m.Labels)))
	for _, l := range m.Labels {
		putString(&b, l)
	}
	putUvarint(&b, uint64(m.Dim))
	buf := make([]byte, 4)
	for _, f := range [][]float32{m.Bias, m.W} {
		for _, v := range f {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(v))
			b.Write(buf)
		}
	}
	binary.LittleEndian.PutUint32(buf, crc32.ChecksumIEEE(b.Bytes()))
	b.Write(buf)
	return b.Bytes(), nil
}

// ErrCorrupt is returned by UnmarshalBinary for bytes that are not a whole model.
var ErrCorrupt = errors.New("textclass: corrupt model")

// UnmarshalBinary decodes a model written by MarshalBinary.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(magic)+4 || !bytes.Equal(data[:len(magic)], magic) {
		return fmt.Errorf("%w: not a textclass model (bad header)", ErrCorrupt)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	r := body[len(magic):]
	var err error
	var kind string
	if kind, r, err = getString(r); err != nil {
		return err
	}
	n, r, err := getUvarint(r)
	if err != nil || n > uint64(len(r)) {
		return fmt.Errorf("%w: label count", ErrCorrupt)
	}
	labels := make([]string, n)
	for i := range labels {
		if labels[i], r, err = getString(r); err != nil {
			return err
		}
	}
	dim, r, err := getUvarint(r)
	if err != nil {
		return err
	}
	want := (n + dim*n) * 4
	if dim == 0 || uint64(len(r)) != want {
		return fmt.Errorf("%w: %d bytes of weights for %d features × %d labels", ErrCorrupt, len(r), dim, n)
	}
	f := make([]float32, n+dim*n)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(r[4*i:]))
	}
	*m = Model{Kind: kind, Labels: labels, Dim: int(dim), Bias: f[:n:n], W: f[n:]}
	return m.Validate()
}

func putUvarint(b *bytes.Buffer, v uint64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], v)])
}

func putString(b *bytes.Buffer, s string) {
	putUvarint(b, uint64(len(s)))
	b.WriteString(s)
}

func getUvarint(r []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(r)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	return v, r[n:], nil
}

func getString(r []byte) (string, []byte, error) {
	l, r, err := getUvarint(r)
	if err != nil || l > uint64(len(r)) {
		return "", nil, fmt.Errorf("%w: truncated string", ErrCorrupt)
	}
	return string(r[:l]), r[l:], nil
}
