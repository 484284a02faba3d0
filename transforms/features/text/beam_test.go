package text_test

import (
	"fmt"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/transforms/features/text"
)

func init() { register.Function2x1(formatDF) }

func formatDF(term string, n int) string { return fmt.Sprintf("%s=%d", term, n) }

func TestDocumentFrequencyOnPrism(t *testing.T) {
	p, s, texts := ptest.CreateList([]string{
		"The cat sat on the mat",
		"The cat ran; the CAT ran",
		"A dog ran",
		"",
	})
	df := text.DocumentFrequency(s, texts, text.Spec{StopWords: "english", NGrams: 2})
	passert.Equals(s, beam.ParDo(s, formatDF, df),
		"cat=2", "sat=1", "mat=1", "ran=2", "dog=1",
		"cat sat=1", "sat mat=1", "cat ran=1", "ran cat=1", "dog ran=1")
	ptest.RunAndValidate(t, p)
}

func TestDocumentFrequencyPanicsOnBadSpec(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("DocumentFrequency with Numbers: \"x\" did not panic")
		}
	}()
	_, s, texts := ptest.CreateList([]string{"a"})
	text.DocumentFrequency(s, texts, text.Spec{Numbers: "x"})
}
