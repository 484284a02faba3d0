package textclass_test

import (
	"fmt"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/features/text"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// corpus is a small three-topic corpus with a vocabulary of its own per topic and shared
// filler, enough for the models to separate the topics on held-out documents.
func corpus() []textclass.Doc {
	topics := map[string][]string{
		"games":  {"strategy", "game", "players", "levels", "arcade", "puzzle"},
		"python": {"python", "module", "library", "bindings", "interpreter", "package"},
		"net":    {"network", "tcp", "packets", "server", "proxy", "dns"},
	}
	var docs []textclass.Doc
	i := 0
	for _, label := range []string{"games", "net", "python"} {
		words := topics[label]
		for k := 0; k < 40; k++ {
			text := fmt.Sprintf("the %s and %s with a %s for the %s", words[k%6], words[(k+1)%6], words[(k+3)%6], words[(k*5+2)%6])
			docs = append(docs, textclass.Doc{ID: fmt.Sprintf("doc-%03d", i), Text: text, Labels: []string{label}})
			i++
		}
	}
	return docs
}

var spec = text.Spec{StopWords: "english", Sublinear: true}

// TestTrainOnPrismMatchesInMemoryFit: the model Train builds with Beam's combines is the
// one Fit builds from the same documents in memory, and it separates the topics.
func TestTrainOnPrismMatchesInMemoryFit(t *testing.T) {
	docs := corpus()
	for _, algo := range []string{textclass.AlgoNB, textclass.AlgoComplement, textclass.AlgoLinear, textclass.AlgoSVM} {
		t.Run(algo, func(t *testing.T) {
			cfg := textclass.Config{Algorithm: algo, Features: spec, Linear: textclass.LinearOptions{Seed: 3}}
			var train, test []textclass.Doc
			for _, d := range docs {
				if textclass.HeldOut(d.ID, 20) {
					test = append(test, d)
				} else {
					train = append(train, d)
				}
			}
			in, err := textclass.InputsOf(train, cfg)
			if err != nil {
				t.Fatal(err)
			}
			want, err := textclass.Fit(in, cfg)
			if err != nil {
				t.Fatal(err)
			}
			wantReport := textclass.Evaluate(want.Model, want.Examples(test))
			if wantReport.PAt1 < 0.9 {
				t.Errorf("in-memory %s: precision@1 %.2f on held-out documents, want ≥ 0.9", algo, wantReport.PAt1)
			}

			p, s := beam.NewPipelineWithRoot()
			trainCol, testCol := textclass.Split(s, beam.CreateList(s, docs), 20)
			trained := textclass.Train(s, trainCol, testCol, cfg)
			passert.Count(s, trained, "trained", 1)
			beam.ParDo0(s, &checkTrained{Want: wantReport}, trained)
			ptest.RunAndValidate(t, p)
		})
	}
}

type checkTrained struct {
	Want textclass.Report `json:"want"`
}

func (c *checkTrained) ProcessElement(tr textclass.Trained) error {
	if _, err := tr.Classifier(); err != nil {
		return fmt.Errorf("rebuilding the trained classifier: %w", err)
	}
	if diff := cmp.Diff(c.Want, tr.Report); diff != "" {
		return fmt.Errorf("report of the Beam-trained model differs from the in-memory one (-want +got):\n%s", diff)
	}
	return nil
}

func init() { register.DoFn1x1[textclass.Trained, error](&checkTrained{}) }
