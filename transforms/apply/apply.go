// Package apply runs trained models over a pipeline's elements: each worker loads a model
// once from the model store, picks up a newly published version while running, stamps the
// model's name and version (and the A/B variant) on every prediction, and sends what the
// model cannot score to the dead letter.
//
// New versions are found by polling the store's LATEST pointer from the DoFn, at most once
// per Refresh interval of processing time, when an element arrives. The other way — a
// periodic.Impulse side input re-read on every firing — needs a runner to re-trigger side
// inputs in a streaming job: prism's support is partial and a bounded (batch) pipeline never
// fires it again, while a poll is plain worker code that behaves the same on prism, Flink and
// Dataflow, batch and streaming. A version that fails to open (corrupt, incompatible) or to
// decode is refused; the worker keeps predicting with the model it has and counts the refusal.
package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn4x1[context.Context, textclass.Doc, func(Prediction), func(record.Failure), error](&topicsFn{})
	register.Emitter1[Prediction]()
	register.Emitter1[record.Failure]()
}

// Stage is the dead-letter stage of Topics.
const Stage = "apply.Topics"

// Reasons a document goes to the dead letter.
const (
	ReasonNoKnownTerms = "no_known_terms" // none of its words is in the model's vocabulary
	ReasonNoModel      = "no_model"       // no version of the model could be loaded
)

// Prediction is one document's top-k topics and the model that made them.
type Prediction struct {
	ID           string             `json:"id"`
	Topics       []textclass.Scored `json:"topics"`
	Model        string             `json:"model"`
	ModelVersion string             `json:"model_version"`
	Variant      string             `json:"variant,omitempty"`
}

// Variant is one arm of an A/B split: a model name and, optionally, a pinned version (empty
// follows LATEST). Percent of documents, by a stable hash of their id, go to it.
type Variant struct {
	Name    string `json:"name"`              // variant label stamped on predictions, e.g. "A"
	Model   string `json:"model"`             // model name in the store
	Version string `json:"version,omitempty"` // pinned version; empty follows LATEST
	Percent int    `json:"percent"`
}

// Config is what Topics applies.
type Config struct {
	Root     string        `json:"root"`   // model store root: directory or gs:// prefix
	Source   string        `json:"source"` // source name on counters and dead letters; "" means documents
	K        int           `json:"k"`      // topics per document; 0 means 5
	Refresh  time.Duration `json:"refresh"`
	Variants []Variant     `json:"variants"` // one variant (Percent ignored) or an A/B split summing to 100
}

// Single is the Config for one model following LATEST.
func Single(root, model string) Config {
	return Config{Root: root, Variants: []Variant{{Model: model, Percent: 100}}}
}

// Validate names what is wrong and the fix.
func (c Config) Validate() error {
	if c.Root == "" {
		return fmt.Errorf("apply: the model store root is empty")
	}
	if c.K < 0 || c.Refresh < 0 {
		return fmt.Errorf("apply: k %d and refresh %s must not be negative", c.K, c.Refresh)
	}
	if len(c.Variants) == 0 {
		return fmt.Errorf("apply: no model: give one variant, or an A/B split")
	}
	sum := 0
	for _, v := range c.Variants {
		if v.Model == "" {
			return fmt.Errorf("apply: variant %q has no model name", v.Name)
		}
		if v.Percent < 0 {
			return fmt.Errorf("apply: variant %q has percent %d", v.Name, v.Percent)
		}
		sum += v.Percent
	}
	if len(c.Variants) > 1 && sum != 100 {
		return fmt.Errorf("apply: the variants' percents sum to %d, want 100", sum)
	}
	return nil
}

// Topics predicts the top-k topics of each document with the newest textclass model (or the
// A/B variant its id hashes to). Documents none of whose terms the model knows, and every
// document while no version of the model can be loaded, go to dead with the stage, the reason
// and the document as payload.
//
//	docs: PCollection<textclass.Doc>
//	ok:   PCollection<Prediction>
//	dead: PCollection<record.Failure>
//
// Usage:
//
//	preds, dead := apply.Topics(s, docs, apply.Single("gs://b/models", "topics"))
func Topics(s beam.Scope, docs beam.PCollection, c Config) (ok, dead beam.PCollection) {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	if c.K == 0 {
		c.K = 5
	}
	if c.Refresh == 0 {
		c.Refresh = time.Minute
	}
	if c.Source == "" {
		c.Source = "documents"
	}
	s = s.Scope(fmt.Sprintf("apply.Topics(%s, k=%d)", c.Variants[0].Model, c.K))
	return beam.ParDo2(s, &topicsFn{Config: c}, docs)
}

// models are the per-process (per-worker) loaded models, shared by every DoFn instance that
// applies the same store, name and version: a worker holds each model once, however many
// bundles run on it at a time.
var models = struct {
	sync.Mutex
	m map[string]*loaded
}{m: map[string]*loaded{}}

// loaded is one model followed by a worker: through a Refresher when it follows LATEST, or
// opened once at a pinned version.
type loaded struct {
	ref     *modelstore.Refresher[*textclass.Classifier]
	pinned  string
	mu      sync.Mutex
	fixed   *textclass.Classifier // the pinned version, once loaded
	checked time.Time
	lastErr error
}

func shared(root string, v Variant) *loaded {
	key := root + "\x00" + v.Model + "\x00" + v.Version
	models.Lock()
	defer models.Unlock()
	l := models.m[key]
	if l == nil {
		l = &loaded{ref: modelstore.NewRefresher(root, v.Model, textclass.FromArtifact), pinned: v.Version}
		models.m[key] = l
	}
	return l
}

// current returns the model to use, checking the store first when refresh has passed; nil
// with the last error when no version could be loaded yet.
func (l *loaded) current(ctx context.Context, refresh time.Duration, root, name string) (*textclass.Classifier, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fixed != nil {
		return l.fixed, nil
	}
	if time.Since(l.checked) >= refresh {
		l.checked = time.Now()
		if l.pinned != "" {
			l.fixed, l.lastErr = openPinned(ctx, root, name, l.pinned)
			return l.fixed, l.lastErr
		}
		changed, err := l.ref.Check(ctx)
		switch {
		case err != nil:
			if l.lastErr == nil || err.Error() != l.lastErr.Error() {
				slog.Warn("apply: keeping the current model; the newest version was refused", "model", name, "error", err)
			}
		case changed:
			_, v, _ := l.ref.Current()
			slog.Info("apply: now using a new model version", "model", name, "version", v)
		}
		l.lastErr = err
	}
	c, _, ok := l.ref.Current()
	if !ok {
		return nil, l.lastErr
	}
	return c, nil
}

func openPinned(ctx context.Context, root, name, version string) (*textclass.Classifier, error) {
	a, err := modelstore.Open(ctx, root, name, version)
	if err != nil {
		return nil, err
	}
	return textclass.FromArtifact(a)
}

type topicsFn struct {
	Config  Config `json:"config"`
	arms    []*loaded
	scratch []float32
	ctr     record.Counters
}

func (f *topicsFn) Setup() {
	for _, v := range f.Config.Variants {
		f.arms = append(f.arms, shared(f.Config.Root, v))
	}
}

// arm picks the variant of a document by a stable hash of its id.
func (f *topicsFn) arm(id string) int {
	if len(f.arms) == 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	p := int(h.Sum32() % 100)
	for i, v := range f.Config.Variants {
		if p < v.Percent {
			return i
		}
		p -= v.Percent
	}
	return len(f.arms) - 1
}

func (f *topicsFn) ProcessElement(ctx context.Context, d textclass.Doc, ok func(Prediction), dead func(record.Failure)) error {
	i := f.arm(d.ID)
	v := f.Config.Variants[i]
	c, err := f.arms[i].current(ctx, f.Config.Refresh, f.Config.Root, v.Model)
	if c == nil {
		f.fail(ctx, d, ReasonNoModel, fmt.Sprintf("no version of model %q could be loaded from %s: %v", v.Model, f.Config.Root, err), dead)
		return nil
	}
	top := c.TopK(d.Text, f.Config.K, &f.scratch)
	if len(top) == 0 {
		f.fail(ctx, d, ReasonNoKnownTerms, fmt.Sprintf("none of the document's words is in model %s version %s", c.Name, c.Version), dead)
		return nil
	}
	f.ctr.Inc(ctx, f.Config.Source, Stage, record.OutcomeWritten, "")
	ok(Prediction{ID: d.ID, Topics: top, Model: c.Name, ModelVersion: c.Version, Variant: v.Name})
	return nil
}

func (f *topicsFn) fail(ctx context.Context, d textclass.Doc, reason, msg string, dead func(record.Failure)) {
	payload, _ := json.Marshal(d)
	r := record.Record{ID: d.ID, Source: f.Config.Source, Payload: payload}
	f.ctr.Inc(ctx, r.Source, Stage, record.OutcomeDead, reason)
	dead(record.Fail(Stage, &r, reason, msg))
}
