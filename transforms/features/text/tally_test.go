package text_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/beamline/beamline/transforms/features/text"
)

// TestCountsLargeVocabulary checks the tallied counts, whose distinct features come out of a
// two-level bitmap in order, against Terms and the vocabulary's map with a vocabulary of many
// bitmap words and summary words, and a term repeated past 255 times (the sorting fallback).
func TestCountsLargeVocabulary(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	word := func(i int) string { // distinct lower-case words, 1 to 5 letters, not stop words
		var b []byte
		for {
			b = append(b, byte('a'+i%26))
			if i /= 26; i == 0 {
				break
			}
		}
		return "q" + string(b)
	}
	const words = 150_000
	df := map[string]int{}
	for i := range words {
		df[word(i)] = 1 + i%7
	}
	v := text.BuildVocabulary(df, 10, text.Spec{})
	for _, spec := range []text.Spec{{StopWords: "english"}, {NGrams: 2}} {
		z, err := text.NewVectorizer(spec, v)
		if err != nil {
			t.Fatal(err)
		}
		for n := range 300 {
			var b strings.Builder
			for range r.IntN(200) {
				b.WriteString(word(r.IntN(words + 1000))) // some unknown
				b.WriteString(" the ")
			}
			if n%10 == 0 {
				b.WriteString(strings.Repeat("qb ", 200+r.IntN(100)))
			}
			in := b.String()
			want := referenceCounts(z.Tokenizer(), v, in)
			if diff := cmp.Diff(want, z.Counts(in), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("spec %+v: Counts of text %d (-Terms +Counts):\n%s", spec, n, diff)
			}
		}
	}
}
