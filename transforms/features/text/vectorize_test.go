package text_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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

// pieces are what equivalence inputs are made of: ASCII words of every length around the
// 8- and 12-byte steps of the fast path, capitals, digits and number separators, apostrophes,
// stop words, non-ASCII letters, marks, digits and separators, Han, NUL and invalid UTF-8.
var pieces = []string{
	"a", "I", "go", "GNU", "emacs", "Editor", "library", "compiler", "LIBRARIES", "programmer",
	"configurable", "configuration", "internationalisation", "x86", "mp3", "2", "10", "2.0",
	"1,000", "v2.0", "don't", "GNOME's", "GNOME’s", "rock'n'roll", "'", "’", ".", ",", "-", "_",
	"/", " ", " ", " ", "  ", "\n", "\t", "the", "and", "The", "it's", "café", "École", "ΑΘΗΝΑ",
	"中文", "语", "e\u0301", "٣", "\u00a0", "—", "\x00", "\xff", "<num>", "ß", "İ", "K", "ǅ",
}

// randomText joins n random pieces, sometimes with no space between them.
func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(pieces[r.IntN(len(pieces))])
		if r.IntN(3) > 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// referenceCounts counts text's terms the plain way: Terms, then the vocabulary's map.
func referenceCounts(tok *text.Tokenizer, v *text.Vocabulary, in string) text.Vector {
	counts := map[int32]float32{}
	for _, term := range tok.Terms(in, nil) {
		if j, ok := v.Index(term); ok {
			counts[j]++
		}
	}
	var out text.Vector
	for j := range counts {
		out.Idx = append(out.Idx, j)
	}
	slices.Sort(out.Idx)
	for _, j := range out.Idx {
		out.Val = append(out.Val, counts[j])
	}
	return out
}

// equivalenceSpecs cover the fast path (unigrams, folded) and the general one.
var equivalenceSpecs = []text.Spec{
	{},
	{StopWords: "english"},
	{StopWords: "english", Numbers: "token", MinLen: 2},
	{Numbers: "drop", ExtraStop: []string{"2", "<num>", "Library", "configurable", "école"}},
	{Numbers: "token", ExtraStop: []string{"<num>", "10"}},
	{StopWords: "english", KeepCase: true},
	{StopWords: "english", NGrams: 2, Numbers: "token"},
}

// equivalenceVocab holds the terms of texts from r (and some that no text has), so that most
// tokens are known.
func equivalenceVocab(t testing.TB, r *rand.Rand, spec text.Spec) *text.Vocabulary {
	tok, err := text.NewTokenizer(text.Spec{NGrams: spec.NGrams, KeepCase: spec.KeepCase, Numbers: spec.Numbers})
	if err != nil {
		t.Fatal(err)
	}
	df := map[string]int{"<num>": 1, "the": 1, "a\x00b": 1, "": 1, "not in any text": 1}
	for range 200 {
		for _, term := range tok.Terms(randomText(r, 20), nil) {
			if r.IntN(5) > 0 {
				df[strings.Clone(term)]++
			}
		}
	}
	return text.BuildVocabulary(df, 200, text.Spec{})
}

// TestCountsMatchTerms checks the Vectorizer's fast path (packed lookups, stop words and
// vocabulary in one table, tallied counts) against Terms and the vocabulary's map.
func TestCountsMatchTerms(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, spec := range equivalenceSpecs {
		v := equivalenceVocab(t, r, spec)
		z, err := text.NewVectorizer(spec, v)
		if err != nil {
			t.Fatal(err)
		}
		tok := z.Tokenizer()
		for range 3000 {
			in := randomText(r, r.IntN(40))
			want := referenceCounts(tok, v, in)
			if diff := cmp.Diff(want, z.Counts(in), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("spec %+v: Counts(%q) (-Terms +Counts):\n%s", spec, in, diff)
			}
		}
	}
}

func FuzzCountsMatchTerms(f *testing.F) {
	for _, s := range []string{description, "don't 2.0 中文 ΑΘΗΝΑ", "'a' -b- 1,2,", "x\u0301y\xff",
		"Configurable LIBRARIES for GNOME’s rock'n'roll x86 10,000 the", "abcdefghijkl'mnop abcdefghijklm 12345678.9"} {
		f.Add(s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	type setup struct {
		z *text.Vectorizer
		v *text.Vocabulary
	}
	var setups []setup
	for _, spec := range equivalenceSpecs {
		v := equivalenceVocab(f, r, spec)
		for _, term := range text.MustTokenizer(spec).Terms(description, nil) {
			v.Terms = append(v.Terms, term)
		}
		v = text.BuildVocabulary(dfOf(v.Terms), 1, text.Spec{})
		z, err := text.NewVectorizer(spec, v)
		if err != nil {
			f.Fatal(err)
		}
		setups = append(setups, setup{z, v})
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, s := range setups {
			want := referenceCounts(s.z.Tokenizer(), s.v, in)
			if diff := cmp.Diff(want, s.z.Counts(in), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Counts(%q) (-Terms +Counts):\n%s", in, diff)
			}
		}
	})
}

func dfOf(terms []string) map[string]int {
	df := map[string]int{}
	for _, t := range terms {
		df[t] = 1
	}
	return df
}
