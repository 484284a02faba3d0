package text_test

import (
	"math"
	"testing"

	"github.com/beamline/beamline/transforms/features/text"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func vec(vals ...float32) text.Vector {
	var v text.Vector
	for j, x := range vals {
		if x != 0 {
			v.Idx, v.Val = append(v.Idx, int32(j)), append(v.Val, x)
		}
	}
	return v
}

func TestChi2(t *testing.T) {
	tests := []struct {
		name    string
		docs    []text.Vector
		labels  [][]int32
		nLabels int
		dim     int
		want    []float64
	}{
		{
			// total = [3 4], P(class) = [.5 .5], expected = [1.5 2] for both classes,
			// observed = [3 1] and [0 3]:
			// f0: 1.5²/1.5 + 1.5²/1.5 = 3; f1: 1²/2 + 1²/2 = 1.
			name:    "single label",
			docs:    []text.Vector{vec(1, 0), vec(2, 1), vec(0, 1), vec(0, 2)},
			labels:  [][]int32{{0}, {0}, {1}, {1}},
			nLabels: 2, dim: 2,
			want: []float64{3, 1},
		},
		{
			// 5 documents; the last has labels 0 and 1, the second lists 0 twice (counted once);
			// label 2 has no documents and feature 2 is never non-zero (both add 0).
			// total = [4 5 0], P = [.6 .6 0], expected = [2.4 3 0] for classes 0 and 1,
			// observed: class 0 = [4 2 0], class 1 = [1 4 0].
			// f0: 1.6²/2.4 + 1.4²/2.4 = 1.8833333; f1: 1/3 + 1/3 = 0.6666667.
			name:    "multi label",
			docs:    []text.Vector{vec(1, 0), vec(2, 1), vec(0, 1), vec(0, 2), vec(1, 1)},
			labels:  [][]int32{{0}, {0, 0}, {1}, {1}, {0, 1}},
			nLabels: 3, dim: 3,
			want: []float64{1.8833333333, 0.6666666667, 0},
		},
		{name: "no documents", nLabels: 2, dim: 2, want: []float64{0, 0}},
	}
	for _, tc := range tests {
		got := text.Chi2(tc.docs, tc.labels, tc.nLabels, tc.dim)
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Errorf("%s: Chi2 (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestChi2PanicsOnBadInput(t *testing.T) {
	for name, f := range map[string]func(){
		"label out of range":   func() { text.Chi2([]text.Vector{vec(1)}, [][]int32{{2}}, 2, 1) },
		"feature out of range": func() { text.Chi2([]text.Vector{vec(0, 1)}, [][]int32{{0}}, 1, 1) },
		"label count mismatch": func() { text.Chi2([]text.Vector{vec(1)}, nil, 1, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Chi2 with %s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestSelectTop(t *testing.T) {
	scores := []float64{1, 5, math.NaN(), 5, 3}
	tests := []struct {
		k    int
		want []int32
	}{
		{3, []int32{1, 3, 4}},
		{2, []int32{1, 3}},
		{1, []int32{1}},
		{5, []int32{0, 1, 2, 3, 4}},
		{10, []int32{0, 1, 2, 3, 4}},
		{0, []int32{}},
		{-1, []int32{}},
	}
	for _, tc := range tests {
		if got := text.SelectTop(scores, tc.k); !cmp.Equal(tc.want, got) {
			t.Errorf("SelectTop(%v, %d) = %v, want %v", scores, tc.k, got, tc.want)
		}
	}
}

func TestMutualInfo(t *testing.T) {
	// Feature 0 is present exactly in label 0's documents: MI = H(label) = ln 2.
	// Feature 1 is present in one document of each label: independent, MI = 0.
	// Feature 2 is present everywhere: MI = 0. Feature 3 never: MI = 0.
	docs := []text.Vector{vec(1, 2, 1), vec(3, 0, 1), vec(0, 1, 1), vec(0, 0, 1)}
	labels := [][]int32{{0}, {0}, {1}, {1}}
	want := []float64{math.Ln2, 0, 0, 0}
	if diff := cmp.Diff(want, text.MutualInfo(docs, labels, 2, 4), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("MutualInfo (-want +got):\n%s", diff)
	}

	// A document with labels {0, 1} counts as one sample of each, and a repeated label once.
	multi := text.MutualInfo([]text.Vector{vec(1, 0), vec(0, 1), vec(1, 1)}, [][]int32{{0}, {1}, {0, 1, 1}}, 2, 2)
	split := text.MutualInfo([]text.Vector{vec(1, 0), vec(0, 1), vec(1, 1), vec(1, 1)}, [][]int32{{0}, {1}, {0}, {1}}, 2, 2)
	if diff := cmp.Diff(split, multi, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("multi-label MutualInfo differs from the split documents (-split +multi):\n%s", diff)
	}
	// Hand-computed for the split documents: feature 0 is present in samples (0,a),(2,a),(3,b)
	// and absent in (1,b): p(x=1,a)=1/2, p(x=1,b)=1/4, p(x=0,b)=1/4, p(x=1)=3/4, p(a)=p(b)=1/2.
	// MI = 1/2·ln(4/3) + 1/4·ln(2/3) + 1/4·ln 2.
	if got, want := multi[0], 0.5*math.Log(4.0/3)+0.25*math.Log(2.0/3)+0.25*math.Ln2; math.Abs(got-want) > 1e-12 {
		t.Errorf("MutualInfo feature 0 = %v, want %v", got, want)
	}
}
