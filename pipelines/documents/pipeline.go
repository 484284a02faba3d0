package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/apply"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.DoFn2x2[context.Context, apply.Prediction, []byte, error](&encodeFn{})
	register.DoFn2x1[context.Context, apply.Prediction, Row](&rowFn{})
	register.Function1x1[apply.Prediction, pubsub.Message](message)
	register.Function1x2[record.Failure, []byte, error](encodeFailure)
}

// Source tags the documents.
var Source = tag.Source{Name: "documents", Kind: "document", Format: "json"}

// StageWrite counts predictions handed to the output.
const StageWrite = "documents.Write"

// Options of one run, checked.
type Options struct {
	Input, Output, DeadLetter, Staging string
	Apply                              apply.Config
	MaxText                            int
	Window, IdleStop                   time.Duration
}

func streaming(o Options) bool { return pubsub.IsAddress(o.Input) }

// Build adds the job to s: read → tag → decode → apply.Topics → output, every failure to the
// dead letter.
func Build(s beam.Scope, o Options) {
	var raw beam.PCollection
	var deads []beam.PCollection
	if streaming(o) {
		var ropts []pubsub.ReadOption
		if o.IdleStop > 0 {
			ropts = append(ropts, pubsub.StopWhenIdle(o.IdleStop))
		}
		msgs, dups := pubsub.Read(s, o.Input, ropts...)
		raw, deads = msgs, append(deads, dups)
	} else {
		raw = files.Read(s, o.Input)
	}
	docs, bad := clean.Decode[textclass.Doc](s, tag.Records(s, Source, raw), textclass.DocRules(o.MaxText, false), clean.NormaliseSpec{})
	preds, unclassified := apply.Topics(s, docs, o.Apply)
	deads = append(deads, bad, unclassified)

	switch {
	case strings.HasPrefix(o.Output, bigquery.Scheme):
		rows := beam.ParDo(s, &rowFn{}, preds)
		var refused beam.PCollection
		if streaming(o) {
			refused = bigquery.Write(s, o.Output, rows, bigquery.WithPartitioning("predicted_at"), bigquery.WithClustering("model_version"))
		} else {
			refused = bigquery.Load(s, o.Output, rows, o.Staging, bigquery.WithPartitioning("predicted_at"), bigquery.WithClustering("model_version"))
		}
		deads = append(deads, record.Refused(s, Source.Name, StageWrite, refused))
	case pubsub.IsAddress(o.Output):
		// pubsub.Write counts each confirmed publish, and each failure, under the source.
		deads = append(deads, pubsub.Write(s, o.Output, beam.ParDo(s, message, preds)))
	case streaming(o):
		lines := beam.ParDo(s, &encodeFn{}, files.LateWindows(s, o.Window, 24*time.Hour, preds))
		files.WriteWindowed(s, files.Join(o.Output, "predictions", "dt={date}", "hour={hour}")+"/", lines, files.Suffix(".jsonl"))
	default:
		files.WriteLines(s, files.Join(o.Output, "predictions", "part"), ".jsonl", beam.ParDo(s, &encodeFn{}, preds))
	}

	all := beam.Flatten(s, deads...)
	if streaming(o) {
		files.WriteWindowed(s, files.Join(o.DeadLetter, "dt={date}")+"/", beam.ParDo(s, encodeFailure, files.LateWindows(s, o.Window, 24*time.Hour, all)), files.Suffix(".jsonl"))
	} else {
		files.WriteLines(s, files.Join(o.DeadLetter, "part"), ".jsonl", beam.ParDo(s, encodeFailure, all))
	}
}

// encodeFn writes a prediction as one JSON line and counts it written.
type encodeFn struct{ ctr record.Counters }

func (f *encodeFn) ProcessElement(ctx context.Context, p apply.Prediction) ([]byte, error) {
	b, err := jsonx.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the prediction of %s: %w", p.ID, err)
	}
	f.ctr.Inc(ctx, Source.Name, StageWrite, record.OutcomeWritten, "")
	return b, nil
}

func message(p apply.Prediction) pubsub.Message {
	b, _ := jsonx.Marshal(p)
	attrs := map[string]string{"model": p.Model, "model_version": p.ModelVersion}
	if p.Variant != "" {
		attrs["variant"] = p.Variant
	}
	return pubsub.Message{Data: b, Attributes: attrs, ID: p.ID, Source: Source.Name}
}

// Row is a prediction as a BigQuery row: topics as a repeated record, and the time it was
// made for the day partition.
type Row struct {
	ID           string     `bigquery:"id"`
	Topics       []TopicRow `bigquery:"topics"`
	Model        string     `bigquery:"model"`
	ModelVersion string     `bigquery:"model_version"`
	Variant      string     `bigquery:"variant"`
	PredictedAt  time.Time  `bigquery:"predicted_at"`
}

// TopicRow is one topic of a Row.
type TopicRow struct {
	Label string  `bigquery:"label"`
	Score float64 `bigquery:"score"`
}

// rowFn makes the BigQuery row and counts it written; record.Refused takes refusals back out.
type rowFn struct{ ctr record.Counters }

func (f *rowFn) ProcessElement(ctx context.Context, p apply.Prediction) Row {
	r := Row{ID: p.ID, Model: p.Model, ModelVersion: p.ModelVersion, Variant: p.Variant, PredictedAt: time.Now().UTC()}
	for _, t := range p.Topics {
		r.Topics = append(r.Topics, TopicRow{Label: t.Label, Score: t.Score})
	}
	f.ctr.Inc(ctx, Source.Name, StageWrite, record.OutcomeWritten, "")
	return r
}

func encodeFailure(f record.Failure) ([]byte, error) { return jsonx.Marshal(f) }
