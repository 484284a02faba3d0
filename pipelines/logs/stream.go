package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.DoFn2x0[record.Record, func(string, Tally)](&streamReadFn{})
	register.DoFn2x0[clean.Hit, func(string, Tally)](&streamHitFn{})
	register.DoFn2x0[record.Failure, func(string, Tally)](&streamDeadFn{})
	register.DoFn3x1[context.Context, beam.Window, Summary, error](&writeWindowFn{})
	register.Function1x3(hitKV)
	register.Function1x3(failureKV)
}

// BuildStream adds the streaming job to s: lines as Pub/Sub messages, in one-minute windows
// of arrival (publish) time, so that each window's lines read, parsed and dead are the same
// lines and balance. Each window writes windows/<start>/summary.json and report.html when the
// watermark passes its end; hits and dead letters go to window-aware files
// hits/source=access_log/dt=<date>/hour=<hour>/ and dead/source=access_log/dt=…/hour=…/. A hit keeps its own time for
// the per-day, per-hour and per-minute aggregates inside the window's summary. With a bq://
// output the hits stream into that table through the Storage Write API, the windows go
// under ReportDir, and the dead letters to DeadLetter (window-aware files, or a table).
//
// Unlike the batch job, keys are emitted per element: a bundle-level map would lose the
// windows of what it emits at FinishBundle, and the SDK's lifted combine, which keeps them,
// suffices for a minute of traffic.
func BuildStream(s beam.Scope, o Options, idleStop time.Duration) {
	var opts []pubsub.ReadOption
	if idleStop > 0 {
		opts = append(opts, pubsub.StopWhenIdle(idleStop))
	}
	raw, _ := pubsub.Read(s, o.Input, opts...)
	src := tag.Source{Name: SourceName, Kind: "access_log", Format: "text", Subscription: o.Input}
	recs := beam.WindowInto(s, window.NewFixedWindows(time.Minute), tag.Records(s, src, raw))
	hits, dead := clean.ParseAccessLog(s, o.Format, recs)

	var refused beam.PCollection
	switch {
	case isTable(o.Output):
		// A hit that cannot be encoded is refused in its window; one the server refuses
		// comes out when the writer's bundle finishes, in the global window, and so is
		// counted (and written, as a dead letter) apart from the per-minute summaries.
		refused = writeHitsTable(s, o, hits, true)
		dead = beam.Flatten(s, dead, refused)
	case o.WriteHits:
		files.WriteWindowed(s, files.Join(o.Output, "hits", "source={key}", "dt={date}", "hour={hour}")+"/", beam.ParDo(s, hitKV, hits), files.Suffix(".jsonl"))
	}
	if dl := o.deadLetter(); isTable(dl) {
		writeDeadTable(s, dl, dead)
	} else {
		files.WriteWindowed(s, files.Join(dl, "source={key}", "dt={date}", "hour={hour}")+"/", beam.ParDo(s, failureKV, dead), files.Suffix(".jsonl"))
	}

	ss := s.Scope("logs.AggregateWindows")
	parts := []beam.PCollection{
		beam.ParDo(ss, &streamReadFn{}, recs),
		beam.ParDo(ss, &streamHitFn{}, hits),
		beam.ParDo(ss, &streamDeadFn{}, dead)}
	if refused.IsValid() {
		parts = append(parts, beam.ParDo(ss, &refusedStatsFn{}, refused))
	}
	keys := beam.Flatten(ss, parts...)
	totals := beam.CombinePerKey(ss, sumTally, keys)
	summary := beam.Combine(ss, &summaryFn{Top: o.Top, ErrorRate: o.ErrorRate, MinRequests: o.MinRequests}, beam.ParDo(ss, toMetric, totals))
	beam.ParDo0(s.Scope("logs.WriteWindowSummary"), &writeWindowFn{Output: o.reportDir(), Input: o.Input, Format: o.Format}, summary)
}

type streamReadFn struct{}

func (streamReadFn) ProcessElement(_ record.Record, emit func(string, Tally)) {
	emit(kindRead, Tally{Hits: 1})
}

type streamHitFn struct {
	buf []byte
	uas *features.UserAgentCache
}

func (f *streamHitFn) ProcessElement(h clean.Hit, emit func(string, Tally)) {
	if f.uas == nil {
		f.uas = features.NewUserAgentCache(0)
	}
	f.buf = hitKeys(&h, f.buf, f.uas, func(k []byte, t Tally) { emit(string(k), t) })
}

type streamDeadFn struct{}

func (streamDeadFn) ProcessElement(fl record.Failure, emit func(string, Tally)) {
	emit(deadKey(&fl), Tally{Hits: 1})
}

func hitKV(h clean.Hit) (string, []byte, error) {
	b, err := (&encodeHitFn{}).ProcessElement(h)
	return SourceName, b, err
}

func failureKV(f record.Failure) (string, []byte, error) {
	b, err := json.Marshal(f)
	return SourceName, b, err
}

// writeWindowFn writes one window's summary.json and report.html under windows/<start>/.
type writeWindowFn struct {
	Output string `json:"output"`
	Input  string `json:"input"`
	Format string `json:"format"`
}

func (f *writeWindowFn) ProcessElement(ctx context.Context, w beam.Window, s Summary) error {
	name := "global"
	if iw, ok := w.(window.IntervalWindow); ok {
		name = iw.Start.ToTime().UTC().Format("2006-01-02T15-04Z")
	}
	return (&writeOutputsFn{Output: files.Join(f.Output, "windows", name), Input: f.Input, Format: f.Format}).ProcessElement(ctx, s)
}

// checkStream refuses what the streaming job cannot do.
func (o Options) checkStream() error {
	if _, err := pubsub.ParseSubscription(o.Input); err != nil {
		return fmt.Errorf("--input: %w (e.g. --input=pubsub://projects/P/subscriptions/S)", err)
	}
	return nil
}
