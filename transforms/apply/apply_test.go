package apply_test

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/beamline/beamline/internal/dev/toymodel"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/apply"
	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function1x1[apply.Prediction, string](stamp)
	register.Function1x1[record.Failure, string](reasonOf)
}

func publish(t *testing.T, root, name string, at time.Time, labels ...string) string {
	return toymodel.Publish(t, root, name, at, labels...)
}

func stamp(p apply.Prediction) string {
	return fmt.Sprintf("%s %s@%s %s %s", p.ID, p.Model, p.ModelVersion, p.Variant, p.Topics[0].Label)
}

func reasonOf(f record.Failure) string { return f.Stage + " " + f.Reason + " " + f.RecordID }

var t0 = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

func TestTopicsStampsTheModelAndDeadLettersUnknownText(t *testing.T) {
	root := t.TempDir()
	v := publish(t, root, "topics", t0, "games", "net")
	p, s := beam.NewPipelineWithRoot()
	docs := beam.CreateList(s, []textclass.Doc{
		{ID: "d1", Text: "a tcp proxy"},
		{ID: "d2", Text: "strategy game for players"},
		{ID: "d3", Text: "zzz qqq"},
	})
	ok, dead := apply.Topics(s, docs, apply.Single(root, "topics"))
	passert.Equals(s, beam.ParDo(s, stamp, ok), "d1 topics@"+v+"  net", "d2 topics@"+v+"  games")
	passert.Equals(s, beam.ParDo(s, reasonOf, dead), "apply.Topics no_known_terms d3")
	ptest.RunAndValidate(t, p)
}

func TestTopicsWithoutAModelSendsEverythingToDead(t *testing.T) {
	root := filepath.Join(t.TempDir(), "empty")
	p, s := beam.NewPipelineWithRoot()
	ok, dead := apply.Topics(s, beam.CreateList(s, []textclass.Doc{{ID: "d1", Text: "a tcp proxy"}}), apply.Single(root, "topics"))
	passert.Empty(s, ok)
	passert.Equals(s, beam.ParDo(s, reasonOf, dead), "apply.Topics no_model d1")
	ptest.RunAndValidate(t, p)
}

// TestABSplitIsStableByID: two models under a 50/50 split; each document goes to the arm its
// id hashes to (the same on every run), stamped with that arm's model, and a pinned version
// stays pinned though LATEST moves.
func TestABSplitIsStableByID(t *testing.T) {
	root := t.TempDir()
	va := publish(t, root, "topics", t0, "games", "net")
	publish(t, root, "topics", t0.Add(time.Hour), "games", "net") // LATEST moves past the pin
	vb := publish(t, root, "topics-b", t0, "games", "net", "audio")
	cfg := apply.Config{Root: root, K: 2, Variants: []apply.Variant{
		{Name: "A", Model: "topics", Version: va, Percent: 50},
		{Name: "B", Model: "topics-b", Percent: 50},
	}}
	var docs []textclass.Doc
	for i := 0; i < 40; i++ {
		docs = append(docs, textclass.Doc{ID: fmt.Sprintf("doc-%02d", i), Text: "tcp network proxy"})
	}
	// The rule, restated: FNV-1a 32 of the id modulo 100, below 50 → A.
	var want []any
	nA := 0
	for _, d := range docs {
		h := fnv.New32a()
		h.Write([]byte(d.ID))
		if h.Sum32()%100 < 50 {
			want = append(want, d.ID+" topics@"+va+" A net")
			nA++
		} else {
			want = append(want, d.ID+" topics-b@"+vb+" B net")
		}
	}
	if nA == 0 || nA == len(docs) {
		t.Fatalf("all %d documents hash to one arm: pick other ids", len(docs))
	}
	p, s := beam.NewPipelineWithRoot()
	ok, dead := apply.Topics(s, beam.CreateList(s, docs), cfg)
	passert.Empty(s, dead)
	passert.Equals(s, beam.ParDo(s, stamp, ok), want...)
	ptest.RunAndValidate(t, p)
}
