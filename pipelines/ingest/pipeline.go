package main

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.DoFn2x2[context.Context, record.Record, []byte, error](&encodeRecordFn{})
	register.DoFn1x2[record.Failure, []byte, error](&encodeFailureFn{})
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
}

// StageWrite is the stage that counts records written to the clean output.
const StageWrite = "ingest.Write"

// Build adds the ingest job to s: per source, read → tag → parse → validate → normalise →
// event time → dedupe → NDJSON, and every source's failures to one dead-letter NDJSON.
func Build(s beam.Scope, o Options) {
	var deads []beam.PCollection
	for _, c := range o.Sources {
		ss := s.Scope("source=" + c.Name)
		var readOpts []files.ReadOption
		if c.Format == "csv" && c.CSV.Header {
			readOpts = append(readOpts, files.WithHeader())
		}
		recs := tag.Records(ss, c.Source, files.Read(ss, c.Glob, readOpts...))
		ok, dead := Clean(ss, c, recs, o.SpillDir)
		deads = append(deads, dead...)
		lines := beam.ParDo(ss, &encodeRecordFn{}, ok)
		files.WriteLines(ss, join(o.Output, "clean", c.Name, "part"), ".jsonl", lines, files.MaxRecordsPerFile(o.ShardRecords))
	}
	dl := o.DeadLetter
	if dl == "" {
		dl = join(o.Output, "dead")
	}
	all := beam.Flatten(s, deads...)
	files.WriteLines(s, join(dl, "part"), ".jsonl", beam.ParDo(s, &encodeFailureFn{}, all), files.MaxRecordsPerFile(o.ShardRecords))
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

func join(parts ...string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		if len(out) > 0 && out[len(out)-1] != '/' {
			out += "/"
		}
		out += p
	}
	return out
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

type encodeFailureFn struct{}

func (encodeFailureFn) ProcessElement(f record.Failure) ([]byte, error) {
	return jsonx.Marshal(f)
}
