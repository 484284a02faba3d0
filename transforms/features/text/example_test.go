package text_test

import (
	"fmt"

	"github.com/beamline/beamline/transforms/features/text"
)

func Example() {
	spec := text.Spec{NGrams: 2, StopWords: "english", Numbers: "token"}
	tok, _ := text.NewTokenizer(spec)
	fmt.Println(tok.Terms("The GNU text-editor, version 29.1", nil))

	// Document frequencies would come from DocumentFrequency over the training texts.
	df := map[string]int{"gnu": 3, "editor": 2, "text editor": 1, "kernel": 1}
	vocab := text.BuildVocabulary(df, 4, spec)
	vec, _ := text.NewVectorizer(spec, vocab)
	fmt.Println(vocab.Terms)
	fmt.Println(vec.Counts("A text editor for GNU"))
	v := vec.TFIDF("A text editor for GNU")
	for i, j := range v.Idx {
		fmt.Printf("%s %.3f\n", vocab.Terms[j], v.Val[i])
	}
	// Output:
	// [gnu text editor version <num> gnu text text editor editor version version <num>]
	// [gnu editor kernel text editor]
	// {[0 1 3] [1 1 1]}
	// gnu 0.448
	// editor 0.553
	// text editor 0.702
}
