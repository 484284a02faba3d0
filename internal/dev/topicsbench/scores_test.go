package topicsbench

import (
	"math"
	"testing"

	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/features/text"
)

// TestScoresMatchScalarLoopOnCorpus holds Model.Scores (on the assembly kernel where there
// is one) to the plainest loop, one feature at a time, bit for bit, on every held-out
// document of the Debian corpus; and Classifier.TopK to those scores: the same five labels,
// with the softmax of the scalar scores to 1e-15.
func TestScoresMatchScalarLoopOnCorpus(t *testing.T) {
	c, test := trainedLinear(t)
	m := c.Model
	vec, err := text.NewVectorizer(c.Spec, c.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	n := len(m.Labels)
	var got []float32
	var scratch []float32
	for _, d := range test {
		x := vec.TFIDF(d.Text)
		want := append([]float32(nil), m.Bias...)
		for i, j := range x.Idx {
			row := m.W[int(j)*n : int(j)*n+n]
			for l := range want {
				want[l] += x.Val[i] * row[l]
			}
		}
		got = m.Scores(x, got)
		for l := range want {
			if math.Float32bits(got[l]) != math.Float32bits(want[l]) {
				t.Fatalf("%s: label %s scores %v, the scalar loop %v", d.ID, m.Labels[l], got[l], want[l])
			}
		}
		top := c.TopK(d.Text, 5, &scratch)
		if x.Len() == 0 {
			if top != nil {
				t.Fatalf("%s: no known term, TopK gave %v", d.ID, top)
			}
			continue
		}
		mx := want[0]
		for _, s := range want {
			mx = max(mx, s)
		}
		z := 0.0
		for _, s := range want {
			z += math.Exp(float64(s - mx))
		}
		for i, s := range top {
			if i > 0 && (want[labelIndex(m.Labels, s.Label)] > want[labelIndex(m.Labels, top[i-1].Label)]) {
				t.Fatalf("%s: TopK %v is out of order", d.ID, top)
			}
			p := math.Exp(float64(want[labelIndex(m.Labels, s.Label)]-mx)) / z
			if math.Abs(s.Score-p) > 1e-15*p {
				t.Fatalf("%s: TopK gives %s %v, the scalar scores' softmax %v", d.ID, s.Label, s.Score, p)
			}
		}
		for l, s := range want { // nothing left out scores above the fifth
			if s > want[labelIndex(m.Labels, top[len(top)-1].Label)] && !hasLabel(top, m.Labels[l]) {
				t.Fatalf("%s: TopK %v leaves out %s (%v)", d.ID, top, m.Labels[l], s)
			}
		}
	}
}

func labelIndex(labels []string, l string) int {
	for i, x := range labels {
		if x == l {
			return i
		}
	}
	return -1
}

func hasLabel(top []textclass.Scored, l string) bool {
	for _, s := range top {
		if s.Label == l {
			return true
		}
	}
	return false
}
