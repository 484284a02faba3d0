package text_test

import (
	"encoding/json"
	"testing"

	"github.com/beamline/beamline/transforms/features/text"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestBuildVocabulary(t *testing.T) {
	df := map[string]int{"a": 5, "b": 1, "c": 3, "d": 3, "e": 10, "f": 9}
	tests := []struct {
		name  string
		spec  text.Spec
		terms []string
		dfs   []int32
	}{
		{"no pruning: by df, ties by term", text.Spec{}, []string{"e", "f", "a", "c", "d", "b"}, []int32{10, 9, 5, 3, 3, 1}},
		{"min df", text.Spec{MinDF: 3}, []string{"e", "f", "a", "c", "d"}, []int32{10, 9, 5, 3, 3}},
		{"max df is a fraction, inclusive", text.Spec{MaxDF: 0.9}, []string{"f", "a", "c", "d", "b"}, []int32{9, 5, 3, 3, 1}},
		{"max features by df, ties by term", text.Spec{MaxFeatures: 4}, []string{"e", "f", "a", "c"}, []int32{10, 9, 5, 3}},
		{"all three", text.Spec{MinDF: 2, MaxDF: 0.9, MaxFeatures: 2}, []string{"f", "a"}, []int32{9, 5}},
		{"nothing survives", text.Spec{MinDF: 11}, nil, nil},
	}
	for _, tc := range tests {
		v := text.BuildVocabulary(df, 10, tc.spec)
		if diff := cmp.Diff(tc.terms, v.Terms, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: BuildVocabulary terms (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.dfs, v.DF, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: BuildVocabulary DF (-want +got):\n%s", tc.name, diff)
		}
		if v.Docs != 10 {
			t.Errorf("%s: Docs = %d, want 10", tc.name, v.Docs)
		}
	}
}

func TestVocabularyIndexJSONKeep(t *testing.T) {
	v := text.BuildVocabulary(map[string]int{"gnu": 4, "emacs": 2, "editor": 3, "x11": 1}, 5, text.Spec{})
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back text.Vocabulary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for i, term := range []string{"gnu", "editor", "emacs", "x11"} {
		if j, ok := back.Index(term); !ok || j != int32(i) {
			t.Errorf("Index(%q) after a JSON round trip = %d, %v; want %d, true", term, j, ok, i)
		}
	}
	if j, ok := back.Index("vim"); ok {
		t.Errorf("Index(%q) = %d, true; want false", "vim", j)
	}
	k := v.Keep([]int32{3, 0, 3})
	want := &text.Vocabulary{Terms: []string{"gnu", "x11"}, DF: []int32{4, 1}, Docs: 5}
	if diff := cmp.Diff(want, k, cmpopts.IgnoreUnexported(text.Vocabulary{})); diff != "" {
		t.Errorf("Keep([3 0 3]) (-want +got):\n%s", diff)
	}
	if j, ok := k.Index("x11"); !ok || j != 1 {
		t.Errorf("kept Index(x11) = %d, %v; want 1, true", j, ok)
	}
}

func TestVocabularyIDF(t *testing.T) {
	v := &text.Vocabulary{Terms: []string{"a", "b", "c"}, DF: []int32{1, 2, 3}, Docs: 3}
	// ln((1+3)/(1+df)) + 1
	want := []float32{1.6931472, 1.2876821, 1}
	if diff := cmp.Diff(want, v.IDF(), cmpopts.EquateApprox(0, 1e-6)); diff != "" {
		t.Errorf("IDF (-want +got):\n%s", diff)
	}
}
