package textclass

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features/text"
)

func init() {
	clean.RegisterSchema[Doc]()
	register.DoFn3x0[Doc, func(Doc), func(Doc)](&splitFn{})
	register.DoFn2x1[Doc, func(string, termCounts), error](&labelTermsFn{})
	register.Combiner3[*termAcc, termCounts, TermStats](&termStatsFn{})
	register.DoFn8x1[context.Context, []byte, func(*string, *int) bool, int, func(*TermStats) bool, func(*Doc) bool, func(*Doc) bool, func(Trained), error](&fitFn{})
	register.Function2x1[string, TermStats, TermStats](withLabel)
	register.Function1x1[Doc, string](docText)
	register.Function1x1[Doc, int](one)
	register.Emitter1[Doc]()
	register.Emitter2[string, termCounts]()
	register.Emitter1[Trained]()
	register.Iter2[string, int]()
	register.Iter1[TermStats]()
	register.Iter1[Doc]()
}

// Split sends each document to train or to test by HeldOut(id, percent).
//
//	docs, train, test: PCollection<Doc>
func Split(s beam.Scope, docs beam.PCollection, percent int) (train, test beam.PCollection) {
	if percent < 0 || percent >= 100 {
		panic(fmt.Sprintf("textclass.Split: held-out percent %d must be in [0, 100)", percent))
	}
	s = s.Scope(fmt.Sprintf("textclass.Split(%d%%)", percent))
	return beam.ParDo2(s, &splitFn{Percent: percent}, docs)
}

type splitFn struct {
	Percent int `json:"percent"`
}

func (f *splitFn) ProcessElement(d Doc, train, test func(Doc)) {
	if HeldOut(d.ID, f.Percent) {
		test(d)
	} else {
		train(d)
	}
}

// Trained is the output of Train: the classifier's parts and its evaluation, ready for
// Classifier.Artifact (once the caller rebuilds the Classifier with NewClassifier).
type Trained struct {
	Model  []byte    `json:"model"` // Model.MarshalBinary
	Spec   text.Spec `json:"spec"`
	Vocab  []byte    `json:"vocab"` // text.Vocabulary as JSON
	Input  string    `json:"input"`
	Report Report    `json:"report"`
	Docs   int       `json:"docs"` // training documents
}

// Classifier rebuilds the trained classifier.
func (t Trained) Classifier() (*Classifier, error) {
	var m Model
	if err := m.UnmarshalBinary(t.Model); err != nil {
		return nil, err
	}
	var v text.Vocabulary
	if err := json.Unmarshal(t.Vocab, &v); err != nil {
		return nil, fmt.Errorf("textclass: vocabulary: %w", err)
	}
	return NewClassifier(&m, t.Spec, &v, t.Input)
}

// Train fits a classifier on train and evaluates it on test. The statistics scale out: the
// document frequencies and every label's term counts are sums, built with CombinePerKey in
// one pass over the training documents, so a Naive Bayes model trains on any number of
// workers. Fitting (vocabulary, chi² selection, the model) and the evaluation then run once,
// on one worker, from those sums — and, for AlgoLinear and AlgoSVM, from the training documents, which
// must then fit that worker.
//
//	train, test: PCollection<Doc>
//	out:         PCollection<Trained> (one element)
//
// Usage:
//
//	train, test := textclass.Split(s, docs, 20)
//	trained := textclass.Train(s, train, test, textclass.Config{Algorithm: textclass.AlgoComplement,
//		Features: text.Spec{StopWords: "english", Sublinear: true, MinDF: 2}})
func Train(s beam.Scope, train, test beam.PCollection, cfg Config) beam.PCollection {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("textclass.Train: %v", err))
	}
	s = s.Scope(fmt.Sprintf("textclass.Train(%s)", cfg.Algorithm))
	df := text.DocumentFrequency(s, beam.ParDo(s, docText, train), cfg.Features)
	n := stats.Sum(s, beam.ParDo(s, one, train))
	labels := beam.CombinePerKey(s, &termStatsFn{}, beam.ParDo(s, &labelTermsFn{Spec: cfg.Features}, train))
	perLabel := beam.ParDo(s, withLabel, labels)
	docs := beam.CreateList(s, []Doc{}) // Naive Bayes needs no document on the fitting worker
	if cfg.linear() {
		docs = train
	}
	return beam.ParDo(s, &fitFn{Config: cfg}, beam.Impulse(s),
		beam.SideInput{Input: df}, beam.SideInput{Input: n}, beam.SideInput{Input: perLabel},
		beam.SideInput{Input: docs}, beam.SideInput{Input: test})
}

func docText(d Doc) string { return d.Text }

func withLabel(label string, ts TermStats) TermStats {
	ts.Label = label
	return ts
}

func one(Doc) int { return 1 }

// termCounts are one document's term counts, sent once per label of the document.
type termCounts struct {
	Terms  []string `json:"terms"`
	Counts []int32  `json:"counts"`
}

type labelTermsFn struct {
	Spec text.Spec `json:"spec"`
	tok  *text.Tokenizer
	buf  []string
}

func (f *labelTermsFn) Setup() error {
	t, err := text.NewTokenizer(f.Spec)
	f.tok = t
	return err
}

func (f *labelTermsFn) ProcessElement(d Doc, emit func(string, termCounts)) error {
	if len(d.Labels) == 0 {
		return nil
	}
	var tc termCounts
	tc, f.buf = countTerms(f.tok, d.Text, f.buf)
	for _, l := range d.Labels {
		emit(l, tc)
	}
	return nil
}

// countTerms is a document's distinct terms, sorted, with how often each occurs; buf is
// scratch, returned for reuse.
func countTerms(tok *text.Tokenizer, doc string, buf []string) (termCounts, []string) {
	buf = tok.Terms(doc, buf[:0])
	sort.Strings(buf)
	var tc termCounts
	for i, t := range buf {
		if i > 0 && t == buf[i-1] {
			tc.Counts[len(tc.Counts)-1]++
			continue
		}
		tc.Terms, tc.Counts = append(tc.Terms, t), append(tc.Counts, 1)
	}
	return tc, buf
}

// termAcc accumulates one label's term counts.
type termAcc struct {
	Docs   float64            `json:"docs"`
	Counts map[string]float64 `json:"counts"`
}

type termStatsFn struct{}

func (termStatsFn) CreateAccumulator() *termAcc { return &termAcc{Counts: map[string]float64{}} }

func (termStatsFn) AddInput(a *termAcc, tc termCounts) *termAcc {
	a.Docs++
	for i, t := range tc.Terms {
		a.Counts[t] += float64(tc.Counts[i])
	}
	return a
}

func (termStatsFn) MergeAccumulators(a, b *termAcc) *termAcc {
	if len(b.Counts) > len(a.Counts) {
		a, b = b, a
	}
	a.Docs += b.Docs
	for t, n := range b.Counts {
		a.Counts[t] += n
	}
	return a
}

func (termStatsFn) ExtractOutput(a *termAcc) TermStats {
	ts := TermStats{Docs: a.Docs, Terms: make([]string, 0, len(a.Counts))}
	for t := range a.Counts {
		ts.Terms = append(ts.Terms, t)
	}
	sort.Strings(ts.Terms)
	ts.Counts = make([]float64, len(ts.Terms))
	for i, t := range ts.Terms {
		ts.Counts[i] = a.Counts[t]
	}
	return ts
}

type fitFn struct {
	Config Config `json:"config"`
}

func (f *fitFn) ProcessElement(ctx context.Context, _ []byte, df func(*string, *int) bool, n int,
	labels func(*TermStats) bool, train, test func(*Doc) bool, emit func(Trained)) error {
	in := Inputs{DF: map[string]int{}, Docs: n}
	var term string
	var count int
	for df(&term, &count) {
		in.DF[term] = count
	}
	var ts TermStats
	for labels(&ts) {
		in.Labels = append(in.Labels, ts)
	}
	var d Doc
	for train(&d) {
		in.Train = append(in.Train, d)
	}
	c, err := Fit(in, f.Config)
	if err != nil {
		return fmt.Errorf("textclass.Train: %w", err)
	}
	var held []Doc
	for test(&d) {
		held = append(held, d)
	}
	bin, err := c.Model.MarshalBinary()
	if err != nil {
		return err
	}
	vocab, err := json.Marshal(c.Vocab)
	if err != nil {
		return err
	}
	emit(Trained{Model: bin, Spec: c.Spec, Vocab: vocab, Input: c.Input, Report: Evaluate(c.Model, c.Examples(held)), Docs: n})
	return nil
}
