package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.DoFn2x0[record.Record, func(string, Tally)](&countReadFn{})
	register.DoFn2x0[clean.Hit, func(string, Tally)](&hitStatsFn{})
	register.DoFn2x0[record.Failure, func(string, Tally)](&deadStatsFn{})
	register.Emitter2[string, Tally]()
	register.Function2x1[Tally, Tally, Tally](sumTally)
	register.Function2x1[string, Tally, Metric](toMetric)
	register.Combiner3[Accumulator, Metric, Summary](&summaryFn{})
	register.DoFn2x1[context.Context, Summary, error](&writeOutputsFn{})
	register.DoFn1x2[clean.Hit, []byte, error](&encodeHitFn{})
	register.DoFn1x2[record.Failure, []byte, error](&encodeFailureFn{})
	beam.RegisterType(reflect.TypeOf((*Tally)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Metric)(nil)).Elem())
	// The accumulator and the summary hold maps and nested lists: JSON is their coder.
	beam.RegisterType(reflect.TypeOf((*Accumulator)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Accumulator)(nil)).Elem(), encodeAccumulator, decodeAccumulator)
	beam.RegisterType(reflect.TypeOf((*Summary)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Summary)(nil)).Elem(), encodeSummary, decodeSummary)
}

// The coders are named functions, not instances of one generic: Beam identifies a coder
// function by its symbol name, which is the same for every instance of a generic.
func encodeAccumulator(a Accumulator) ([]byte, error) { return json.Marshal(a) }

func decodeAccumulator(b []byte) (Accumulator, error) {
	var a Accumulator
	err := json.Unmarshal(b, &a)
	return a, err
}

func encodeSummary(s Summary) ([]byte, error) { return json.Marshal(s) }

func decodeSummary(b []byte) (Summary, error) {
	var s Summary
	err := json.Unmarshal(b, &s)
	return s, err
}

// SourceName is the source name the job tags its lines with (dead letters and counters).
const SourceName = "access_log"

// Options of one run.
type Options struct {
	Input  string // a glob (local or gs://), or a pubsub:// subscription
	Output string // a directory or gs:// prefix, or a bq://project.dataset.table for the hits
	// ReportDir is where summary.json and report.html go (windows/ when streaming): Output
	// when Output is a directory, and required when it is a table.
	ReportDir string
	// DeadLetter is a directory, gs:// prefix or bq:// table for the dead letters: empty
	// means <Output>/dead, or <ReportDir>/dead when Output is a table.
	DeadLetter string
	// Staging is where a batch job with a table output stages the rows of its load job:
	// empty means <ReportDir>/staging (the load removes its files once loaded).
	Staging     string
	Format      string  // a clean.CompileLogFormat name or LogFormat string
	Top         int     // length of the top lists
	ErrorRate   float64 // 5xx share per minute above which a minute alarms
	MinRequests int64   // hits a minute needs before it can alarm
	WriteHits   bool    // write the parsed hits as NDJSON
}

// Build adds the batch job to s:
//
//	files.Read → tag.Records → clean.ParseAccessLog ─┬─ hits ──► hits/part-*.jsonl
//	                                                  ├─ keys ──┐
//	                 lines read, dead letters ── keys ─────────┴► CombinePerKey(sum) → Combine(summary) → summary.json, report.html
//	                                                  └─ dead ──► dead/part-*.jsonl
//
// Two shuffles make every aggregate: a per-key sum, whose partial sums each bundle computes
// before the shuffle (bundleSums, then the runner's combiner lifting), so a worker sends one
// tally per key it saw; then one global combine that receives each key once, with its final total, and keeps
// only bounded top lists of the unbounded dimensions (paths, referrers).
//
// With --output=bq://project.dataset.table the hits are appended to that table (HitRow) by
// one load job instead; hits it refuses join the dead letters and the summary moves them from
// written to dead (SinkRefused). summary.json and report.html then go to ReportDir, and the
// dead letters to DeadLetter, a directory or a bq:// table.
func Build(s beam.Scope, o Options) {
	src := tag.Source{Name: SourceName, Kind: "access_log", Format: "text", Glob: o.Input}
	recs := tag.Records(s, src, files.Read(s, o.Input))
	hits, dead := clean.ParseAccessLog(s, o.Format, recs)

	var refused beam.PCollection
	switch {
	case isTable(o.Output):
		refused = writeHitsTable(s, o, hits, false)
		dead = beam.Flatten(s, dead, refused)
	case o.WriteHits:
		files.WriteLines(s, files.Join(o.Output, "hits", "part"), ".jsonl", beam.ParDo(s, &encodeHitFn{}, hits))
	}
	if dl := o.deadLetter(); isTable(dl) {
		writeDeadTable(s, dl, dead)
	} else {
		files.WriteLines(s, files.Join(dl, "part"), ".jsonl", beam.ParDo(s, &encodeFailureFn{}, dead))
	}

	ss := s.Scope("logs.Aggregate")
	parts := []beam.PCollection{
		beam.ParDo(ss, &countReadFn{bundleSums{MaxKeys: defaultMaxKeys}}, recs),
		beam.ParDo(ss, &hitStatsFn{bundleSums: bundleSums{MaxKeys: defaultMaxKeys}}, hits),
		beam.ParDo(ss, &deadStatsFn{bundleSums{MaxKeys: defaultMaxKeys}}, dead)}
	if refused.IsValid() {
		parts = append(parts, beam.ParDo(ss, &refusedStatsFn{}, refused))
	}
	keys := beam.Flatten(ss, parts...)
	totals := beam.CombinePerKey(ss, sumTally, keys)
	// A zero tally makes an empty input still produce a summary (of zeros): a global combine
	// of nothing emits nothing.
	seed := beam.Create(ss, Metric{Key: kindRead})
	metrics := beam.Flatten(ss, beam.ParDo(ss, toMetric, totals), seed)
	summary := beam.Combine(ss, &summaryFn{Top: o.Top, ErrorRate: o.ErrorRate, MinRequests: o.MinRequests}, metrics)
	beam.ParDo0(s.Scope("logs.WriteSummary"), &writeOutputsFn{Output: o.reportDir(), Input: o.Input, Format: o.Format}, summary)
}

// reportDir is where summary.json and report.html go.
func (o Options) reportDir() string {
	if o.ReportDir != "" {
		return o.ReportDir
	}
	return o.Output
}

// deadLetter is where the dead letters go: a directory, gs:// prefix or bq:// table.
func (o Options) deadLetter() string {
	switch {
	case o.DeadLetter != "":
		return o.DeadLetter
	case isTable(o.Output):
		return files.Join(o.ReportDir, "dead")
	}
	return files.Join(o.Output, "dead")
}

// bundleSums pre-aggregates metric keys within a bundle and emits each key's partial sum
// once, when the bundle finishes (or when MaxKeys distinct keys are held). The SDK's own
// lifted combine does the same but evicts at random beyond 2,000 keys, and a day of a
// real site has more distinct paths and visitors than that: measured on 1M lines of the
// logstalgia sample, the lifted combine alone sent millions of partials to prism, which held
// them all (13 GB peak RSS). Here a bundle sends one tally per distinct key.
type bundleSums struct {
	MaxKeys int `json:"max_keys"`
	// sums holds pointers so that a key already held is found and added to with a lookup
	// by m[string(key)], which does not allocate.
	sums map[string]*Tally
	buf  []byte
}

// StartBundle takes the emitter only because Beam requires a DoFn's bundle methods to
// declare the outputs ProcessElement has.
func (b *bundleSums) StartBundle(_ func(string, Tally)) {
	if b.sums == nil {
		b.sums = make(map[string]*Tally, 1024)
	}
}

func (b *bundleSums) add(k []byte, t Tally, emit func(string, Tally)) {
	if c := b.sums[string(k)]; c != nil {
		c.Hits += t.Hits
		c.Bytes += t.Bytes
		c.Errors += t.Errors
		return
	}
	c := new(Tally) // not &t, which would move t to the heap on every call
	*c = t
	b.sums[string(k)] = c
	if b.MaxKeys > 0 && len(b.sums) >= b.MaxKeys {
		b.FinishBundle(emit)
	}
}

func (b *bundleSums) FinishBundle(emit func(string, Tally)) {
	for k, t := range b.sums {
		emit(k, *t)
	}
	clear(b.sums)
}

// defaultMaxKeys bounds a bundle's map: some 150 bytes a key, so about 15 MB.
const defaultMaxKeys = 100_000

var readKey = []byte(kindRead)

type countReadFn struct{ bundleSums }

func (f *countReadFn) ProcessElement(_ record.Record, emit func(string, Tally)) {
	f.add(readKey, Tally{Hits: 1}, emit)
}

type hitStatsFn struct {
	bundleSums
	uas *features.UserAgentCache
}

func (f *hitStatsFn) ProcessElement(h clean.Hit, emit func(string, Tally)) {
	if f.uas == nil {
		f.uas = features.NewUserAgentCache(0)
	}
	f.buf = hitKeys(&h, f.buf, f.uas, func(k []byte, t Tally) { f.add(k, t, emit) })
}

type deadStatsFn struct{ bundleSums }

func (f *deadStatsFn) ProcessElement(fl record.Failure, emit func(string, Tally)) {
	f.add([]byte(deadKey(&fl)), Tally{Hits: 1}, emit)
}

func sumTally(a, b Tally) Tally {
	return Tally{Hits: a.Hits + b.Hits, Bytes: a.Bytes + b.Bytes, Errors: a.Errors + b.Errors}
}

func toMetric(k string, t Tally) Metric { return Metric{Key: k, Tally: t} }

// summaryFn builds the Summary from every key's total.
type summaryFn struct {
	Top         int     `json:"top"`
	ErrorRate   float64 `json:"error_rate"`
	MinRequests int64   `json:"min_requests"`
}

func (f *summaryFn) CreateAccumulator() Accumulator { return newAccumulator() }

func (f *summaryFn) AddInput(a Accumulator, m Metric) Accumulator {
	a.add(m, f.Top)
	return a
}

func (f *summaryFn) MergeAccumulators(a, b Accumulator) Accumulator {
	a.merge(b, f.Top)
	return a
}

func (f *summaryFn) ExtractOutput(a Accumulator) Summary {
	return summarize(a, f.ErrorRate, f.MinRequests)
}

// writeOutputsFn writes summary.json and report.html, and fails the job when the lines read
// are not all accounted for as parsed or dead.
type writeOutputsFn struct {
	Output string `json:"output"`
	Input  string `json:"input"`
	Format string `json:"format"`
}

func (f *writeOutputsFn) ProcessElement(ctx context.Context, s Summary) error {
	s.Input, s.LogFormat = f.Input, f.Format
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := files.WriteFile(ctx, files.Join(f.Output, "summary.json"), append(b, '\n')); err != nil {
		return err
	}
	html, err := Report(s, time.Now().UTC())
	if err != nil {
		return err
	}
	if err := files.WriteFile(ctx, files.Join(f.Output, "report.html"), html); err != nil {
		return err
	}
	if !s.Balanced {
		refused := ""
		if s.SinkRefused > 0 {
			refused = fmt.Sprintf(" - refused by the table %d", s.SinkRefused)
		}
		return fmt.Errorf("logs: lines read %d != parsed %d + dead %d%s: lines were lost (see %s)",
			s.LinesRead, s.Parsed, s.Dead, refused, files.Join(f.Output, "summary.json"))
	}
	return nil
}

// hitRow is one parsed hit as written to hits/part-*.jsonl.
type hitRow struct {
	Time      string `json:"time,omitempty"`
	Host      string `json:"host"`
	User      string `json:"user,omitempty"`
	Method    string `json:"method,omitempty"`
	Path      string `json:"path,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	Request   string `json:"request"`
	Status    int    `json:"status"`
	Bytes     int64  `json:"bytes"`
	Referer   string `json:"referer,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	VHost     string `json:"vhost,omitempty"`
	DurationS string `json:"duration,omitempty"`
	Origin    string `json:"origin"`
	Line      int64  `json:"line"`
}

type encodeHitFn struct{ buf []byte }

func (f *encodeHitFn) ProcessElement(h clean.Hit) ([]byte, error) {
	r := hitRow{Host: h.Host, User: h.User, Method: h.Method, Path: h.Path, Protocol: h.Protocol,
		Request: h.Request, Status: h.Status, Bytes: h.Bytes, Referer: h.Referer, UserAgent: h.UserAgent,
		VHost: h.VHost, Origin: h.Origin, Line: h.Line}
	if !h.Time.IsZero() {
		r.Time = h.Time.Format(time.RFC3339)
	}
	if h.Duration > 0 {
		r.DurationS = h.Duration.String()
	}
	f.buf = r.appendJSON(f.buf[:0])
	return bytes.Clone(f.buf), nil
}

// appendJSON is hitRow's JSON as encoding/json writes it (field order, omitempty), by hand:
// on bench-logs' 1M hits, reflection was an eighth of the job's CPU.
func (r *hitRow) appendJSON(b []byte) []byte {
	b = append(b, '{')
	str := func(name, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), name...), '"', ':')
		b = jsonx.AppendString(b, v)
	}
	num := func(name string, v int64) {
		b = strconv.AppendInt(append(append(append(b, ',', '"'), name...), '"', ':'), v, 10)
	}
	str("time", r.Time, true)
	str("host", r.Host, false)
	str("user", r.User, true)
	str("method", r.Method, true)
	str("path", r.Path, true)
	str("protocol", r.Protocol, true)
	str("request", r.Request, false)
	num("status", int64(r.Status))
	num("bytes", r.Bytes)
	str("referer", r.Referer, true)
	str("user_agent", r.UserAgent, true)
	str("vhost", r.VHost, true)
	str("duration", r.DurationS, true)
	str("origin", r.Origin, false)
	num("line", r.Line)
	return append(b, '}')
}

type encodeFailureFn struct{}

func (encodeFailureFn) ProcessElement(f record.Failure) ([]byte, error) { return jsonx.Marshal(f) }
