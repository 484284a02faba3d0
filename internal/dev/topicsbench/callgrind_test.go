package topicsbench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/features/text"
)

// TestPredictCallgrind runs Classifier.TopK over the held-out documents PREDICT_PASSES times
// (default 1), for counting instructions, which are repeatable where timings on a shared
// machine are not: the instructions of one pass per document are the difference between a
// run of 3 passes and a run of 1, divided by 2 × the documents (12757), as in
//
//	for p in 1 3; do GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 PREDICT_CACHE=/tmp/pc \
//	  PREDICT_PASSES=$p valgrind --tool=callgrind --separate-recs=1 \
//	  --callgrind-out-file=cg.$p ./topicsbench.test -test.run=TestPredictCallgrind; done
//
// (valgrind 3.19 fails on Go's preemption signals without asyncpreemptoff, and on
// --toggle-collect in this binary; GOGC=off keeps the collector's work out of the counts).
// Training under valgrind would take most of an hour, so the trained classifier and the
// held-out documents are cached in the directory $PREDICT_CACHE: a run without valgrind
// fills it.
func TestPredictCallgrind(t *testing.T) {
	dir := os.Getenv("PREDICT_CACHE")
	if dir == "" {
		t.Skip("set PREDICT_CACHE to a directory for the trained model")
	}
	c, test := cachedLinear(t, dir)
	passes := 1
	if p := os.Getenv("PREDICT_PASSES"); p != "" {
		var err error
		if passes, err = strconv.Atoi(p); err != nil {
			t.Fatal(err)
		}
	}
	texts := make([]string, len(test))
	for i, d := range test {
		texts[i] = d.Text
	}
	n := predictPasses(c, texts, passes)
	t.Logf("%d documents × %d passes, %d labels predicted", len(texts), passes, n)
}

// predictPasses is the measured loop, kept out of line so callgrind can toggle on it.
//
//go:noinline
func predictPasses(c *textclass.Classifier, texts []string, passes int) int {
	var scratch []float32
	n := 0
	for range passes {
		for _, d := range texts {
			n += len(c.TopK(d, 5, &scratch))
		}
	}
	return n
}

// cachedLinear is trainedLinear through the cache directory dir.
func cachedLinear(t *testing.T, dir string) (*textclass.Classifier, []textclass.Doc) {
	mf, vf, tf := filepath.Join(dir, "model.bin"), filepath.Join(dir, "vocab.json"), filepath.Join(dir, "test.ndjson")
	if _, err := os.Stat(tf); err != nil {
		c, test := trainedLinear(t)
		bin, err := c.Model.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		vocab, err := json.Marshal(c.Vocab)
		if err != nil {
			t.Fatal(err)
		}
		var docs []byte
		for _, d := range test {
			line, _ := json.Marshal(d)
			docs = append(append(docs, line...), '\n')
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{mf: bin, vf: vocab, tf: docs} {
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return c, test
	}
	bin, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	var m textclass.Model
	if err := m.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	vb, err := os.ReadFile(vf)
	if err != nil {
		t.Fatal(err)
	}
	var vocab text.Vocabulary
	if err := json.Unmarshal(vb, &vocab); err != nil {
		t.Fatal(err)
	}
	c, err := textclass.NewClassifier(&m, Model("linear").Features, &vocab, textclass.InputTFIDF)
	if err != nil {
		t.Fatal(err)
	}
	test, err := Load(tf) // the held-out documents as trainedLinear split them
	if err != nil {
		t.Fatal(err)
	}
	return c, test
}
