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
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.DoFn2x2[context.Context, record.Record, []byte, error](&encodeRecordFn{})
	register.DoFn1x2[record.Failure, []byte, error](&encodeFailureFn{})
	register.DoFn2x3[context.Context, record.Record, string, []byte, error](&encodeRecordKVFn{})
	register.DoFn2x1[context.Context, record.Record, record.Record](&countWrittenFn{})
	register.Function1x1(failRefusedFn)
	register.Function1x3(encodeFailureKV)
}

// Options of one ingest run.
type Options struct {
	Sources []SourceConfig
	// Output is a directory or gs:// prefix: clean records go to <Output>/clean/<source>/.
	Output string
	// DeadLetter is where failures go; empty means <Output>/dead.
	DeadLetter string
	// ShardRecords bounds the records per output file.
	ShardRecords int
	// SpillDir, when set, is where Dedupe keeps the records waiting for the duplicates found
	// (see clean.SpillTo); the caller removes it after the run.
	SpillDir string

	// Streaming (subscription sources) only.
	// Window is the event-time window of the output files.
	Window time.Duration
	// Lateness is how long after its window closes a late record still gets a file.
	Lateness time.Duration
	// IdleStop ends the job once no message has arrived for it; 0 runs until cancelled.
	IdleStop time.Duration
	// DedupeTTL is how long a dedupe_key is remembered.
	DedupeTTL time.Duration
	// Staging is where a batch job stages files for a BigQuery load job.
	Staging string
}

// check refuses a job that mixes file and subscription sources: one is bounded, deduped across
// the whole input and written in shards, the other unbounded and written per window.
func (o Options) check() error {
	var globs, subs []string
	for _, c := range o.Sources {
		if c.Subscription != "" {
			subs = append(subs, c.Name)
		} else {
			globs = append(globs, c.Name)
		}
	}
	if len(globs) > 0 && len(subs) > 0 {
		return fmt.Errorf("--sources mixes file sources %v and subscription sources %v: run them as two jobs", globs, subs)
	}
	return nil
}

// summaryPath is where summary.json goes: beside the clean output, or beside the dead letters
// when the output is a topic.
// Empty means neither is a file path: the summary is only printed.
func (o Options) summaryPath() string {
	switch {
	case !isTopic(o.Output) && !isTable(o.Output):
		return files.Join(o.Output, "summary.json")
	case o.DeadLetter != "" && !isTable(o.DeadLetter):
		return files.Join(o.DeadLetter, "summary.json")
	}
	return ""
}

// streaming reports whether the job reads subscriptions.
func (o Options) streaming() bool {
	for _, c := range o.Sources {
		if c.Subscription != "" {
			return true
		}
	}
	return false
}

// StageWrite is the stage that counts records written to the clean output.
const StageWrite = "ingest.Write"

// Build adds the ingest job to s: per source, read → tag → parse → validate → normalise →
// event time → dedupe → sink, and every source's failures to one dead letter.
//
// File sources (glob) make a batch job: dedupe across the whole input, NDJSON shards under
// <output>/clean/<source>/. Subscription sources make a streaming job: Pub/Sub is read
// through io/pubsub, records are deduped by message id (and by dedupe_key within
// DedupeTTL when set), and a directory output gets window-aware files
// <output>/clean/source=<source>/dt=<date>/hour=<hour>/part-<window>-<pane>-….jsonl. An output
// pubsub://projects/P/topics/T publishes the clean records instead.
func Build(s beam.Scope, o Options) {
	var deads []beam.PCollection
	for _, c := range o.Sources {
		ss := s.Scope("source=" + c.Name)
		var ok beam.PCollection
		var dead []beam.PCollection
		if c.Subscription != "" {
			ok, dead = readStream(ss, c, o)
		} else {
			var readOpts []files.ReadOption
			if c.Format == "csv" {
				// Records are framed where they are read: quote-aware, so a quoted field
				// may span lines and each record is counted once.
				readOpts = append(readOpts, files.WithCSV(c.parseSpec().Delimiter))
			}
			if c.Format == "csv" && c.CSV.Header {
				readOpts = append(readOpts, files.WithHeader())
			}
			recs := tag.Records(ss, c.Source, files.Read(ss, c.Glob, readOpts...))
			ok, dead = Clean(ss, c, recs, o.SpillDir)
		}
		deads = append(deads, dead...)
		deads = append(deads, writeClean(ss, c, ok, o)...)
	}
	writeDead(s, o, beam.Flatten(s, deads...))
}

// readStream is the streaming front of a source: subscription → tag → clean, deduped by
// message id in the reader and, with a dedupe_key, by that field within DedupeTTL.
func readStream(s beam.Scope, c SourceConfig, o Options) (beam.PCollection, []beam.PCollection) {
	opts := []pubsub.ReadOption{}
	if o.IdleStop > 0 {
		opts = append(opts, pubsub.StopWhenIdle(o.IdleStop))
	}
	recs, dups := pubsub.Read(s, c.Subscription, opts...)
	spec := c.spec()
	if !isTable(o.Output) && !isTopic(o.Output) {
		// A record too late for the windows of the file output goes to the dead letter.
		spec.Lateness = &o.Lateness
	}
	ok, dead := clean.Apply(s, tag.Records(s, c.Source, recs), spec)
	out := []beam.PCollection{dead, dups}
	if c.DedupeKey != "" {
		var keyDups beam.PCollection
		ok, keyDups = clean.DedupeStream(s, ok, c.DedupeKey, o.DedupeTTL)
		out = append(out, keyDups)
	}
	return ok, out
}

// Clean applies the clean steps c asks for — in one fused DoFn — then dedupes, and returns
// the clean records and the PCollections of record.Failure the steps produced.
func Clean(s beam.Scope, c SourceConfig, recs beam.PCollection, spillDir string) (beam.PCollection, []beam.PCollection) {
	ok, dead := clean.Apply(s, recs, c.spec())
	var opts []clean.DedupeOption
	if spillDir != "" {
		opts = append(opts, clean.SpillTo(spillDir))
	}
	ok, dups := clean.Dedupe(s, ok, c.DedupeKey, opts...)
	return ok, []beam.PCollection{dead, dups}
}

// isTopic reports whether an output address is a Pub/Sub topic.
func isTopic(addr string) bool { return pubsub.IsAddress(addr) }

// isTable reports whether an output address is a BigQuery table.
func isTable(addr string) bool { return strings.HasPrefix(addr, bigquery.Scheme) }

// writeClean sends a source's clean records to the output and returns the sink's failures.
func writeClean(s beam.Scope, c SourceConfig, ok beam.PCollection, o Options) []beam.PCollection {
	switch {
	case isTable(o.Output):
		// Records land as bigquery.RecordRow (metadata + data as JSON), streaming through
		// the Storage Write API or, in batch, by a load job from staged files.
		counted := beam.ParDo(s, &countWrittenFn{}, ok)
		var refused beam.PCollection
		if c.Subscription != "" {
			refused = bigquery.Write(s, o.Output, counted, bigquery.WithPartitioning("event_time"), bigquery.WithClustering("source"))
		} else {
			refused = bigquery.Load(s, o.Output, counted, files.Join(o.Staging, c.Name), bigquery.WithPartitioning("event_time"), bigquery.WithClustering("source"))
		}
		return []beam.PCollection{record.Refused(s, "", StageWrite, refused)}
	case isTopic(o.Output):
		// pubsub.Write counts each confirmed publish (and each failure) under the source.
		return []beam.PCollection{pubsub.Write(s, o.Output, pubsub.Records(s, ok))}
	case c.Subscription != "":
		kv := beam.ParDo(s, &encodeRecordKVFn{}, files.LateWindows(s, o.Window, o.Lateness, ok))
		files.WriteWindowed(s, files.Join(o.Output, "clean", "source={key}", "dt={date}", "hour={hour}")+"/", kv, files.Suffix(".jsonl"))
		return nil
	default:
		lines := beam.ParDo(s, &encodeRecordFn{}, ok)
		files.WriteLines(s, files.Join(o.Output, "clean", c.Name, "part"), ".jsonl", lines, files.MaxRecordsPerFile(o.ShardRecords))
		return nil
	}
}

// writeDead writes every failure: sharded NDJSON in batch, window-aware files per source
// when streaming.
func writeDead(s beam.Scope, o Options, all beam.PCollection) {
	dl := o.DeadLetter
	if dl == "" {
		dl = files.Join(o.Output, "dead")
	}
	if isTable(dl) {
		// A failure BigQuery refuses too has nowhere better to go than the job's log: fail
		// the bundle so the runner retries rather than drop it.
		refused := bigquery.WriteFailures(s, dl, all)
		beam.ParDo0(s, failRefusedFn, refused)
		return
	}
	if o.streaming() {
		kv := beam.ParDo(s, encodeFailureKV, files.LateWindows(s, o.Window, o.Lateness, all))
		files.WriteWindowed(s, files.Join(dl, "source={key}", "dt={date}", "hour={hour}")+"/", kv, files.Suffix(".jsonl"))
		return
	}
	files.WriteLines(s, files.Join(dl, "part"), ".jsonl", beam.ParDo(s, &encodeFailureFn{}, all), files.MaxRecordsPerFile(o.ShardRecords))
}

// encodeRecordFn writes a clean record as one JSON line: its metadata and parsed data,
// without the raw payload (the source files keep that).
type encodeRecordFn struct{ written record.Counters }

func (f *encodeRecordFn) ProcessElement(ctx context.Context, r record.Record) ([]byte, error) {
	r.Payload = nil
	b, err := r.AppendJSON(make([]byte, 0, 512))
	if err != nil {
		return nil, fmt.Errorf("encoding record %s: %w", r.ID, err)
	}
	f.written.Inc(ctx, r.Source, StageWrite, record.OutcomeWritten, "")
	return b, nil
}

// countWrittenFn counts records handed to a sink that reports refusals (record.Refused).
type countWrittenFn struct{ written record.Counters }

func (f *countWrittenFn) ProcessElement(ctx context.Context, r record.Record) record.Record {
	f.written.Inc(ctx, r.Source, StageWrite, record.OutcomeWritten, "")
	return r
}

func failRefusedFn(fl record.Failure) error {
	return fmt.Errorf("the dead-letter table refused a failure of %s (%s: %s); the bundle fails so it is retried", fl.Source, fl.Reason, fl.Message)
}

// encodeRecordKVFn is encodeRecordFn keyed by source, for the per-source file layout.
type encodeRecordKVFn struct{ encodeRecordFn }

func (f *encodeRecordKVFn) ProcessElement(ctx context.Context, r record.Record) (string, []byte, error) {
	b, err := f.encodeRecordFn.ProcessElement(ctx, r)
	return r.Source, b, err
}

func encodeFailureKV(f record.Failure) (string, []byte, error) {
	b, err := jsonx.Marshal(f)
	return f.Source, b, err
}

type encodeFailureFn struct{}

func (encodeFailureFn) ProcessElement(f record.Failure) ([]byte, error) {
	return jsonx.Marshal(f)
}
