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
	// Four features at a time: each label's score is loaded and stored once per four
	// products instead of once per product. The additions stay in the same order as one
	// feature at a time, ((s + v0·w0) + v1·w1) + …, so the scores are bit for bit the same
	// (TrainLinear relies on this too).
	i := 0
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
	for c := range k {
		best = append(best, c)
		for i := c; i > 0 && s[best[i]] > s[best[i-1]]; i-- {
			best[i], best[i-1] = best[i-1], best[i]
		}
	}
	last := s[best[k-1]] // the score to beat, kept in a register
	for c := k; c < len(s); c++ {
		if !(s[c] > last) {
			continue
		}
		best[k-1] = c
		for i := k - 1; i > 0 && s[best[i]] > s[best[i-1]]; i-- {
			best[i], best[i-1] = best[i-1], best[i]
		}
		last = s[best[k-1]]
	}
	// Softmax normaliser, shifted by the maximum (the first of best) for stability.
	mx := s[best[0]]
	var z float64
	for _, v := range s {
		z += math.Exp(float64(v - mx))
	}
	out := make([]Scored, len(best))
	for i, c := range best {
		out[i] = Scored{Label: labels[c], Score: math.Exp(float64(s[c]-mx)) / z}
	}
	return out
}

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
