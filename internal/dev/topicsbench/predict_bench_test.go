package topicsbench

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/features/text"
)

// corpusFile is the NDJSON corpus the prediction benchmark reads (bench/topics writes it).
const corpusFile = "../../out/topics/debian.ndjson"

var linearOnce struct {
	sync.Once
	c    *textclass.Classifier
	test []textclass.Doc
	err  error
}

// trainedLinear trains the linear model on the corpus's training split, once per process,
// and returns it with the held-out documents; it skips b when the corpus is absent.
func trainedLinear(tb testing.TB) (*textclass.Classifier, []textclass.Doc) {
	if _, err := os.Stat(corpusFile); err != nil {
		tb.Skipf("no corpus at %s (bench/topics writes it): %v", corpusFile, err)
	}
	linearOnce.Do(func() {
		docs, err := Load(corpusFile)
		if err != nil {
			linearOnce.err = err
			return
		}
		train, test := Split(docs, 20)
		cfg := Model("linear")
		in, err := textclass.InputsOf(train, cfg)
		if err != nil {
			linearOnce.err = err
			return
		}
		linearOnce.c, linearOnce.err = textclass.Fit(in, cfg)
		linearOnce.test = test
	})
	if linearOnce.err != nil {
		tb.Fatal(linearOnce.err)
	}
	return linearOnce.c, linearOnce.test
}

// BenchmarkPredict times the linear model's prediction on the held-out documents of the
// Debian corpus, one document per op: the whole of Classifier.TopK (what Run reports as
// docs/s), and its parts.
func BenchmarkPredict(b *testing.B) {
	c, test := trainedLinear(b)
	vec, err := text.NewVectorizer(c.Spec, c.Vocab)
	if err != nil {
		b.Fatal(err)
	}
	vecs := make([]text.Vector, len(test))
	for i, d := range test {
		vecs[i] = vec.TFIDF(d.Text)
	}
	b.Run("TopK", func(b *testing.B) {
		var scratch []float32
		i := 0
		for b.Loop() {
			c.TopK(test[i].Text, 5, &scratch)
			if i++; i == len(test) {
				i = 0
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("Vectorize", func(b *testing.B) {
		var v text.Vector
		i := 0
		for b.Loop() {
			v = vec.TFIDFInto(test[i].Text, v)
			if i++; i == len(test) {
				i = 0
			}
		}
	})
	b.Run("Scores", func(b *testing.B) {
		var s []float32
		i := 0
		for b.Loop() {
			s = c.Model.Scores(vecs[i], s)
			if i++; i == len(test) {
				i = 0
			}
		}
	})
	b.Run("ScoresTopK", func(b *testing.B) {
		var s []float32
		i := 0
		for b.Loop() {
			if vecs[i].Len() > 0 {
				c.Model.TopKInto(vecs[i], 5, &s)
			}
			if i++; i == len(test) {
				i = 0
			}
		}
	})
}

// TestDumpPredictions writes every held-out document's top 5 to $DUMP_PREDICTIONS, for
// comparing two versions of the prediction path by hand.
func TestDumpPredictions(t *testing.T) {
	out := os.Getenv("DUMP_PREDICTIONS")
	if out == "" {
		t.Skip("set DUMP_PREDICTIONS to a file name")
	}
	c, test := trainedLinear(t)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var scratch []float32
	for _, d := range test {
		fmt.Fprintf(f, "%s", d.ID)
		for _, s := range c.TopK(d.Text, 5, &scratch) {
			fmt.Fprintf(f, " %s %.17g", s.Label, s.Score)
		}
		fmt.Fprintln(f)
	}
}
