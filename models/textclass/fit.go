package textclass

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features/text"
)

// Doc is a labelled document: the NDJSON line the training job reads,
// {"id":"…","text":"…","labels":["…",…]}.
type Doc struct {
	ID     string   `json:"id"`
	Text   string   `json:"text"`
	Labels []string `json:"labels"`
}

// DocRules are what a document must pass to be trained on or classified (clean.Decode[Doc]):
// an id, and a text with something in it of at most maxText characters; labelled documents
// also need their labels. Labels on a document to classify are ignored.
func DocRules(maxText int, labelled bool) []clean.Rule {
	rules := []clean.Rule{
		{Field: "id", Required: true, Type: "string", Regex: `.*\S.*`},
		{Field: "text", Required: true, Type: "string", Regex: `(?s).*\S.*`, MaxLen: maxText},
	}
	if labelled {
		rules = append(rules, clean.Rule{Field: "labels", Required: true, Type: "array"})
	}
	return rules
}

// Algorithms Fit knows.
const (
	AlgoNB         = "nb"     // multinomial Naive Bayes on term counts
	AlgoComplement = "cnb"    // complement Naive Bayes on term counts
	AlgoLinear     = "linear" // softmax regression on TF-IDF, one worker: the best recall@k
	AlgoSVM        = "svm"    // multi-class hinge (Crammer–Singer) on TF-IDF, one worker: the best precision@1
)

// Config is what a training run is asked for.
type Config struct {
	Algorithm string        `json:"algorithm"`        // AlgoNB, AlgoComplement, AlgoLinear or AlgoSVM
	Features  text.Spec     `json:"features"`         // tokenizer and vocabulary pruning
	Select    int           `json:"select,omitempty"` // keep the N features of best chi²; 0 keeps all
	Alpha     float64       `json:"alpha,omitempty"`  // NB smoothing; 0 means 1
	Linear    LinearOptions `json:"linear,omitempty"`
}

// Validate names the field at fault and the fix.
func (c Config) Validate() error {
	switch c.Algorithm {
	case AlgoNB, AlgoComplement, AlgoLinear, AlgoSVM:
	default:
		return fmt.Errorf("textclass: algorithm %q is not one of nb, cnb, linear, svm", c.Algorithm)
	}
	if c.Select < 0 || c.Alpha < 0 {
		return fmt.Errorf("textclass: select %d and alpha %g must not be negative", c.Select, c.Alpha)
	}
	if c.Features.HashBits > 0 && c.Select > 0 {
		return fmt.Errorf("textclass: feature selection (select=%d) needs a vocabulary; set hash_bits to 0", c.Select)
	}
	if c.Features.HashBits > 0 {
		return fmt.Errorf("textclass: training with hashed features is not supported; set hash_bits to 0 (a vocabulary)")
	}
	return c.Features.Validate()
}

// input is the kind of vector a model reads.
func (c Config) input() string {
	if c.linear() {
		return InputTFIDF
	}
	return InputCounts
}

// linear reports whether the algorithm trains on one worker from the documents.
func (c Config) linear() bool {
	return c.Algorithm == AlgoLinear || c.Algorithm == AlgoSVM
}

// Vector kinds a model reads.
const (
	InputCounts = "counts"
	InputTFIDF  = "tfidf"
)

// TermStats are one label's Naive Bayes statistics keyed by term, before a vocabulary exists:
// so they can be summed by CombinePerKey in the same pass that counts document frequencies.
type TermStats struct {
	Label  string    `json:"label"`
	Docs   float64   `json:"docs"`
	Terms  []string  `json:"terms"`
	Counts []float64 `json:"counts"`
}

// Inputs is what Fit needs, gathered from the training data.
type Inputs struct {
	DF     map[string]int // term → training documents containing it
	Docs   int            // training documents
	Labels []TermStats    // per label
	Train  []Doc          // the training documents themselves: AlgoLinear and AlgoSVM only
}

// Classifier is a trained model with the features it reads: what apply loads and what a
// published version holds.
type Classifier struct {
	Model   *Model
	Spec    text.Spec
	Vocab   *text.Vocabulary
	Input   string // InputCounts or InputTFIDF
	Name    string // the model's name in the store, when loaded from one
	Version string // its version, when loaded from one
	vec     *text.Vectorizer
}

// NewClassifier checks the parts fit together and builds the vectorizer.
func NewClassifier(m *Model, spec text.Spec, vocab *text.Vocabulary, input string) (*Classifier, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if input != InputCounts && input != InputTFIDF {
		return nil, fmt.Errorf("textclass: input %q is not counts or tfidf", input)
	}
	vec, err := text.NewVectorizer(spec, vocab)
	if err != nil {
		return nil, err
	}
	if vec.Dim() != m.Dim {
		return nil, fmt.Errorf("textclass: the features have %d dimensions, the model %d", vec.Dim(), m.Dim)
	}
	return &Classifier{Model: m, Spec: spec, Vocab: vocab, Input: input, vec: vec}, nil
}

// Vector turns a document into the vector the model reads.
func (c *Classifier) Vector(doc string) text.Vector {
	if c.Input == InputTFIDF {
		return c.vec.TFIDF(doc)
	}
	return c.vec.Counts(doc)
}

// vectors pools the document vectors Classifier.TopK scores and drops.
var vectors = sync.Pool{New: func() any { return new(text.Vector) }}

// TopK is the k most likely labels of doc, best first. A document none of whose terms the
// model knows gets nil: the caller sends it to the dead letter rather than guess the prior.
func (c *Classifier) TopK(doc string, k int, scratch *[]float32) []Scored {
	// The vector is only needed until it is scored: reuse one from a pool.
	x := vectors.Get().(*text.Vector)
	defer vectors.Put(x)
	if c.Input == InputTFIDF {
		*x = c.vec.TFIDFInto(doc, *x)
	} else {
		*x = c.vec.CountsInto(doc, *x)
	}
	if x.Len() == 0 {
		return nil
	}
	return c.Model.TopKInto(*x, k, scratch)
}

// Examples turns documents into examples for the classifier's model; labels the model does
// not know are dropped from a document (a label new since training cannot be scored).
func (c *Classifier) Examples(docs []Doc) []Example { return examples(docs, c.Model.Labels, c.Vector) }

// examples turns documents into examples over labels with vector, dropping the labels not
// among labels.
func examples(docs []Doc, labels []string, vector func(string) text.Vector) []Example {
	idx := make(map[string]int32, len(labels))
	for i, l := range labels {
		idx[l] = int32(i)
	}
	out := make([]Example, 0, len(docs))
	for _, d := range docs {
		e := Example{ID: d.ID, X: vector(d.Text)}
		for _, l := range d.Labels {
			if i, ok := idx[l]; ok {
				e.Labels = append(e.Labels, i)
			}
		}
		out = append(out, e)
	}
	return out
}

// Fit builds the classifier cfg asks for from in: the vocabulary from the document
// frequencies, then chi² selection over the Naive Bayes statistics, then the model.
func Fit(in Inputs, cfg Config) (*Classifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if in.Docs == 0 || len(in.Labels) == 0 {
		return nil, fmt.Errorf("textclass.Fit: no training documents with labels")
	}
	vocab := text.BuildVocabulary(in.DF, in.Docs, cfg.Features)
	if vocab.Len() == 0 {
		// Advise the bound that pruned: with min_df at 1 or less only max_df can have.
		fix := "lower min_df"
		if cfg.Features.MinDF <= 1 {
			fix = "raise max_df (every term is in more than that share of the documents; e.g. max_df 1 keeps all)"
		}
		return nil, fmt.Errorf("textclass.Fit: the vocabulary is empty after pruning (min_df %d, max_df %g); %s",
			cfg.Features.MinDF, cfg.Features.MaxDF, fix)
	}
	sort.Slice(in.Labels, func(i, j int) bool { return in.Labels[i].Label < in.Labels[j].Label })
	stats := indexStats(in.Labels, vocab)
	if cfg.Select > 0 && cfg.Select < vocab.Len() {
		keep := text.SelectTop(Chi2(stats, vocab.Len()), cfg.Select)
		vocab = vocab.Keep(keep)
		stats = indexStats(in.Labels, vocab)
	}
	labels := make([]string, len(stats))
	for i, s := range stats {
		labels[i] = s.Label
	}
	var m *Model
	var err error
	switch cfg.Algorithm {
	case AlgoNB, AlgoComplement:
		m, err = NaiveBayes(stats, vocab.Len(), NBOptions{Complement: cfg.Algorithm == AlgoComplement, Alpha: cfg.Alpha})
	case AlgoLinear, AlgoSVM:
		vec, err := text.NewVectorizer(cfg.Features, vocab)
		if err != nil {
			return nil, err
		}
		// The documents come in whatever order the runner gives; sorted by id, the same
		// data and seed give the same model on every runner.
		docs := append([]Doc(nil), in.Train...)
		sort.Slice(docs, func(i, j int) bool { return docs[i].ID < docs[j].ID })
		lo := cfg.Linear
		lo.Hinge = cfg.Algorithm == AlgoSVM
		m, err = TrainLinear(examples(docs, labels, vec.TFIDF), vocab.Len(), labels, lo)
		if err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	return NewClassifier(m, cfg.Features, vocab, cfg.input())
}

// indexStats maps term-keyed statistics onto the vocabulary's indices, dropping other terms.
func indexStats(ts []TermStats, vocab *text.Vocabulary) []LabelStats {
	out := make([]LabelStats, len(ts))
	for i, t := range ts {
		s := LabelStats{Label: t.Label, Docs: t.Docs}
		type iv struct {
			i int32
			v float64
		}
		var kept []iv
		for k, term := range t.Terms {
			if j, ok := vocab.Index(term); ok {
				kept = append(kept, iv{j, t.Counts[k]})
			}
		}
		sort.Slice(kept, func(a, b int) bool { return kept[a].i < kept[b].i })
		for _, e := range kept {
			s.Idx, s.Val = append(s.Idx, e.i), append(s.Val, e.v)
		}
		out[i] = s
	}
	return out
}

// Chi2 scores each of dim features by scikit-learn's chi² statistic computed from the Naive
// Bayes statistics: observed = a label's summed counts of the feature, expected = the
// label's share of documents × the feature's total, summed over labels. For single-label data
// this is exactly chi2(X, y) on the count matrix; with several labels per document a feature's
// total counts such a document once per label.
func Chi2(stats []LabelStats, dim int) []float64 {
	total := make([]float64, dim)
	docs := 0.0
	for _, s := range stats {
		docs += s.Docs
		for i, j := range s.Idx {
			total[j] += s.Val[i]
		}
	}
	score := make([]float64, dim)
	if docs == 0 {
		return score
	}
	for _, s := range stats {
		p := s.Docs / docs
		// Features the label never shows contribute (0 − E)²/E = E.
		for j := range score {
			score[j] += p * total[j]
		}
		for i, j := range s.Idx {
			e := p * total[j]
			if e > 0 {
				d := s.Val[i] - e
				score[j] += d*d/e - e
			}
		}
	}
	for j := range score {
		if math.IsNaN(score[j]) {
			score[j] = 0
		}
	}
	return score
}

// Files of a published textclass version.
const (
	FileModel      = "model.bin"
	FileVocabulary = "vocabulary.json"
	FileReport     = "report.json"
	FileReportHTML = "report.html"
)

// features is the manifest's feature description.
type features struct {
	Spec  text.Spec `json:"spec"`
	Input string    `json:"input"`
	Dim   int       `json:"dim"`
}

// Artifact lays the classifier and its evaluation out for modelstore.Publish.
func (c *Classifier) Artifact(name string, cfg Config, r Report, data modelstore.TrainingData) (modelstore.Manifest, map[string][]byte, error) {
	bin, err := c.Model.MarshalBinary()
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	vocab, err := json.Marshal(c.Vocab)
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	rj, err := r.JSON()
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	rh, err := r.HTML(fmt.Sprintf("%s — %s", name, c.Model.Kind))
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	feat, _ := json.Marshal(features{Spec: c.Spec, Input: c.Input, Dim: c.Model.Dim})
	params, _ := json.Marshal(cfg)
	m := modelstore.Manifest{
		Name: name, Kind: c.Model.Kind, Labels: c.Model.Labels, Features: feat, Params: params, Data: data,
		Metrics: map[string]float64{
			"precision_at_1": r.PAt1, "recall_at_5": r.RecallAt[5], "hit_at_1": r.HitAt[1], "hit_at_3": r.HitAt[3],
			"hit_at_5": r.HitAt[5], "macro_f1": r.Macro.F1, "micro_f1": r.Micro.F1, "eval_docs": float64(r.Docs),
		},
	}
	return m, map[string][]byte{FileModel: bin, FileVocabulary: vocab, FileReport: rj, FileReportHTML: rh}, nil
}

// Kinds is every model kind this package reads.
var Kinds = []string{KindMultinomialNB, KindComplementNB, KindLinear}

// FromArtifact rebuilds the classifier of a published version; an artifact of another kind,
// or whose parts disagree, is refused.
func FromArtifact(a *modelstore.Artifact) (*Classifier, error) {
	known := false
	for _, k := range Kinds {
		known = known || a.Manifest.Kind == k
	}
	if !known {
		return nil, fmt.Errorf("%w: kind %q is not a textclass model", modelstore.ErrIncompatible, a.Manifest.Kind)
	}
	var f features
	if err := json.Unmarshal(a.Manifest.Features, &f); err != nil {
		return nil, fmt.Errorf("%w: features: %v", modelstore.ErrCorrupt, err)
	}
	var m Model
	if err := m.UnmarshalBinary(a.Files[FileModel]); err != nil {
		return nil, err
	}
	var vocab text.Vocabulary
	if err := json.Unmarshal(a.Files[FileVocabulary], &vocab); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", modelstore.ErrCorrupt, FileVocabulary, err)
	}
	c, err := NewClassifier(&m, f.Spec, &vocab, f.Input)
	if err != nil {
		return nil, err
	}
	c.Name, c.Version = a.Manifest.Name, a.Manifest.Version
	return c, nil
}

// InputsOf gathers what Fit needs for cfg from documents in memory: the single-machine twin
// of what Train computes with Beam (the bench and tests use it). The linear model keeps the
// documents and, unless it selects features, needs no per-label term counts.
func InputsOf(docs []Doc, cfg Config) (Inputs, error) {
	linear := cfg.linear()
	termsPerLabel := !linear || cfg.Select > 0
	tok, err := text.NewTokenizer(cfg.Features)
	if err != nil {
		return Inputs{}, err
	}
	// The same per-document counts and per-label accumulator as Train's combine.
	in := Inputs{DF: map[string]int{}, Docs: len(docs)}
	acc := map[string]*termAcc{}
	var buf []string
	for _, d := range docs {
		var tc termCounts
		tc, buf = countTerms(tok, d.Text, buf)
		for _, t := range tc.Terms {
			in.DF[t]++
		}
		for _, l := range d.Labels {
			a := acc[l]
			if a == nil {
				a = termStatsFn{}.CreateAccumulator()
				acc[l] = a
			}
			if termsPerLabel {
				termStatsFn{}.AddInput(a, tc)
			} else {
				a.Docs++
			}
		}
	}
	for l, a := range acc {
		ts := termStatsFn{}.ExtractOutput(a)
		ts.Label = l
		in.Labels = append(in.Labels, ts)
	}
	if linear {
		in.Train = docs
	}
	return in, nil
}
