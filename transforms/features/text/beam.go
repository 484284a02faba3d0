package text

import (
	"fmt"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
)

func init() {
	register.DoFn2x0[string, func(string, int)](&distinctTermsFn{})
	register.Emitter2[string, int]()
}

// DocumentFrequency counts, for each term, the documents that contain it: the input to
// BuildVocabulary. The pipeline's total document count comes from stats.Count or beam.Combine
// over the same texts.
//
//	in:  PCollection<string>           document texts
//	out: PCollection<KV<string,int>>   term → number of documents containing it
//
//	df := text.DocumentFrequency(s, descriptions, text.Spec{NGrams: 2, StopWords: "english"})
//
// It panics at construction if spec is invalid.
func DocumentFrequency(s beam.Scope, texts beam.PCollection, spec Spec) beam.PCollection {
	s = s.Scope(fmt.Sprintf("text.DocumentFrequency(ngrams=%d)", spec.ngrams()))
	if err := spec.Validate(); err != nil {
		panic(fmt.Sprintf("text.DocumentFrequency: spec: %v", err))
	}
	ones := beam.ParDo(s, &distinctTermsFn{Spec: spec}, texts)
	return stats.SumPerKey(s, ones)
}

// distinctTermsFn emits (term, 1) once for each distinct term of a document.
type distinctTermsFn struct {
	Spec Spec `json:"spec"`

	tok   *Tokenizer
	terms []string
}

func (f *distinctTermsFn) Setup() error {
	t, err := NewTokenizer(f.Spec)
	f.tok = t
	return err
}

func (f *distinctTermsFn) ProcessElement(doc string, emit func(string, int)) {
	f.terms = f.tok.Terms(doc, f.terms)
	slices.Sort(f.terms)
	for i, t := range f.terms {
		if i == 0 || t != f.terms[i-1] {
			emit(t, 1)
		}
	}
}
