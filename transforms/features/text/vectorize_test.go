package text_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/beamline/beamline/transforms/features/text"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fruit is a vocabulary over 3 documents: idf = ln(4/(1+df)) + 1 = 1.6931472, 1.2876821, 1.
var fruit = &text.Vocabulary{Terms: []string{"apple", "banana", "cherry"}, DF: []int32{1, 2, 3}, Docs: 3}

func TestCountsAndTFIDF(t *testing.T) {
	tests := []struct {
		name string
		spec text.Spec
		in   string
		want text.Vector
	}{
		{"counts", text.Spec{}, "Apple apple cherry durian", text.Vector{Idx: []int32{0, 2}, Val: []float32{2, 1}}},
		// apple: 2×1.6931472 = 3.3862944, cherry: 1×1; norm = sqrt(3.3862944² + 1) = 3.5308660.
		{"tfidf", text.Spec{}, "Apple apple cherry durian", text.Vector{Idx: []int32{0, 2}, Val: []float32{0.9590559, 0.2832169}}},
		// apple: (1+ln 2)×1.6931472 = 2.8667474, cherry: 1; norm = 3.0361746.
		{"sublinear tfidf", text.Spec{Sublinear: true}, "Apple apple cherry durian", text.Vector{Idx: []int32{0, 2}, Val: []float32{0.9442031, 0.3293639}}},
		{"no known term", text.Spec{}, "durian", text.Vector{}},
	}
	for _, tc := range tests {
		z, err := text.NewVectorizer(tc.spec, fruit)
		if err != nil {
			t.Fatalf("%s: NewVectorizer: %v", tc.name, err)
		}
		var got text.Vector
		if tc.name == "counts" {
			got = z.Counts(tc.in)
		} else {
			got = z.TFIDF(tc.in)
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-6), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s(%q) (-want +got):\n%s", tc.name, tc.in, diff)
		}
	}
}

func TestVectorizerBigrams(t *testing.T) {
	v := text.BuildVocabulary(map[string]int{"text editor": 1, "editor": 2, "gnu": 2}, 2, text.Spec{})
	z, err := text.NewVectorizer(text.Spec{NGrams: 2, StopWords: "english"}, v)
	if err != nil {
		t.Fatal(err)
	}
	// Terms: the(stop) gnu text editor → gnu, text, editor, "gnu text", "text editor".
	got := z.Counts("The GNU text editor")
	want := text.Vector{Idx: []int32{0, 1, 2}, Val: []float32{1, 1, 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if z.Dim() != 3 {
		t.Errorf("Dim() = %d, want 3", z.Dim())
	}
}

func TestHashing(t *testing.T) {
	spec := text.Spec{HashBits: 4, Sublinear: true}
	z, err := text.NewVectorizer(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if z.Dim() != 16 || z.IDF() != nil {
		t.Errorf("Dim() = %d, IDF() = %v; want 16, nil", z.Dim(), z.IDF())
	}
	// The hash is part of the model format: these buckets (checked against an independent
	// Python FNV-1a + fmix32) must never change.
	golden := map[string]int32{"linux": text.HashTerm("linux", 18), "emacs": text.HashTerm("emacs", 18)}
	pinned := map[string]int32{"linux": 4584, "emacs": 212687}
	if diff := cmp.Diff(pinned, golden); diff != "" {
		t.Errorf("HashTerm changed (-pinned +now):\n%s", diff)
	}
	c := z.Counts("gnu linux gnu emacs")
	want := map[int32]float32{}
	for _, w := range []string{"gnu", "linux", "gnu", "emacs"} {
		want[text.HashTerm(w, 4)]++
	}
	got := map[int32]float32{}
	for i, j := range c.Idx {
		got[j] = c.Val[i]
		if i > 0 && c.Idx[i-1] >= j {
			t.Errorf("Counts indices not increasing: %v", c.Idx)
		}
		if j < 0 || j >= 16 {
			t.Errorf("bucket %d outside [0, 16)", j)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hashed Counts (-want +got):\n%s", diff)
	}
	// idf is 1 with hashing: weights are (1+ln tf), L2-normalised.
	tf := z.TFIDF("gnu gnu linux")
	g, l := text.HashTerm("gnu", 4), text.HashTerm("linux", 4)
	if g != l {
		wg, wl := 1+math.Log(2), 1.0
		n := math.Hypot(wg, wl)
		wantTF := map[int32]float32{g: float32(wg / n), l: float32(wl / n)}
		gotTF := map[int32]float32{}
		for i, j := range tf.Idx {
			gotTF[j] = tf.Val[i]
		}
		if diff := cmp.Diff(wantTF, gotTF, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
			t.Errorf("hashed TFIDF (-want +got):\n%s", diff)
		}
	}
}

func TestNewVectorizerErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  text.Spec
		vocab *text.Vocabulary
	}{
		{"hashing with a vocabulary", text.Spec{HashBits: 10}, fruit},
		{"no hashing, no vocabulary", text.Spec{}, nil},
		{"invalid spec", text.Spec{Numbers: "x"}, fruit},
		{"duplicate terms", text.Spec{}, &text.Vocabulary{Terms: []string{"a", "a"}, DF: []int32{1, 1}, Docs: 1}},
		{"DF length mismatch", text.Spec{}, &text.Vocabulary{Terms: []string{"a", "b"}, DF: []int32{1}, Docs: 1}},
	}
	for _, tc := range tests {
		if _, err := text.NewVectorizer(tc.spec, tc.vocab); err == nil {
			t.Errorf("NewVectorizer(%s) = nil error, want one", tc.name)
		}
	}
}

func TestVectorizerConcurrent(t *testing.T) {
	z, err := text.NewVectorizer(text.Spec{NGrams: 2, Sublinear: true}, benchVocab())
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]string, 16)
	want := make([]text.Vector, len(docs))
	for i := range docs {
		docs[i] = fmt.Sprintf("%s %d extra words number %d", description, i, i%3)
		want[i] = z.TFIDF(docs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(docs))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				for i, d := range docs {
					if diff := cmp.Diff(want[i], z.TFIDF(d)); diff != "" {
						errs <- diff
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for d := range errs {
		t.Errorf("concurrent TFIDF differs from serial (-want +got):\n%s", d)
	}
}

func TestVectorAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race: sync.Pool drops items at random")
	}
	z, err := text.NewVectorizer(text.Spec{NGrams: 2, StopWords: "english"}, benchVocab())
	if err != nil {
		t.Fatal(err)
	}
	z.TFIDF(description)
	if a := testing.AllocsPerRun(100, func() { z.TFIDF(description) }); a > 2 {
		t.Errorf("TFIDF made %v allocations per call, want <= 2 (the result's slices)", a)
	}
}
