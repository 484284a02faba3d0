// Package toymodel publishes small textclass models for tests: topics with a few words each,
// trained and published the way topics-train does, so tests of apply and the documents job
// exercise real artifacts.
package toymodel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/features/text"
)

// Words are the topics a toy model can learn, four words each.
var Words = map[string][]string{
	"games": {"strategy", "game", "players", "levels"},
	"net":   {"network", "tcp", "packets", "proxy"},
	"audio": {"sound", "music", "audio", "mixer"},
}

// Publish trains a complement Naive Bayes model on the given topics (keys of Words) and
// publishes it as name under root, created at at (its version, returned).
func Publish(t testing.TB, root, name string, at time.Time, topics ...string) string {
	t.Helper()
	var docs []textclass.Doc
	for _, l := range topics {
		w, ok := Words[l]
		if !ok {
			t.Fatalf("toymodel: no topic %q", l)
		}
		for k := 0; k < 12; k++ {
			docs = append(docs, textclass.Doc{ID: fmt.Sprint(l, k), Labels: []string{l}, Text: w[k%4] + " " + w[(k+1)%4]})
		}
	}
	cfg := textclass.Config{Algorithm: textclass.AlgoComplement, Features: text.Spec{}}
	in, err := textclass.InputsOf(docs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := textclass.Fit(in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, files, err := c.Artifact(name, cfg, textclass.Evaluate(c.Model, c.Examples(docs)), modelstore.TrainingData{Records: int64(len(docs))})
	if err != nil {
		t.Fatal(err)
	}
	m.CreatedAt = at
	v, err := modelstore.Publish(context.Background(), root, name, m, files)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
