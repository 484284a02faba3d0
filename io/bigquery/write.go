package bigquery

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/internal/fusion"
	"github.com/beamline/beamline/transforms/record"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(string), error](&ensureFn{})
	register.DoFn3x0[beam.X, func(int, []byte), func(record.Failure)](&encodeFn{})
	register.DoFn4x1[context.Context, int, []byte, func(record.Failure), error](&writeFn{})
	register.Emitter1[string]()
	register.Emitter2[int, []byte]()
	register.Emitter1[record.Failure]()
}

// Stage names in record.Failure.
const (
	StageWrite = "bigquery.Write"
	StageLoad  = "bigquery.Load"
)

// DefaultShards is the number of keys Write spreads rows over.
const DefaultShards = 4

// WriteOption adjusts Write, WriteFailures and Load.
type WriteOption func(*writeConfig)

type writeConfig struct {
	conn     Conn
	table    TableOptions
	noCreate bool
	shards   int
	append   AppendConfig
}

// WithConn sets where BigQuery is (default: Google, or the emulator named by
// BIGQUERY_EMULATOR_HOST).
func WithConn(c Conn) WriteOption { return func(w *writeConfig) { w.conn = c } }

// WithPartitioning partitions a created table by day on a TIMESTAMP or DATE column.
func WithPartitioning(column string) WriteOption {
	return func(w *writeConfig) { w.table.PartitionField = column }
}

// WithClustering clusters a created table by up to four columns.
func WithClustering(columns ...string) WriteOption {
	return func(w *writeConfig) { w.table.Clustering = columns }
}

// WithTableOptions sets every option of a created table at once.
func WithTableOptions(o TableOptions) WriteOption { return func(w *writeConfig) { w.table = o } }

// WithoutCreate writes to an existing table as it is: no creation and no new columns.
func WithoutCreate() WriteOption { return func(w *writeConfig) { w.noCreate = true } }

// WithShards sets how many keys the rows are spread over, which bounds the writers working in
// parallel (default DefaultShards).
func WithShards(n int) WriteOption {
	if n <= 0 {
		panic(fmt.Sprintf("bigquery.WithShards: argument n must be positive, got %d", n))
	}
	return func(w *writeConfig) { w.shards = n }
}

// WithBatching bounds one append request by rows and bytes (defaults DefaultMaxRows and
// DefaultMaxBytes; BigQuery refuses requests over 10 MB).
func WithBatching(rows, bytes int) WriteOption {
	if rows <= 0 || bytes <= 0 || bytes > 10<<20 {
		panic(fmt.Sprintf("bigquery.WithBatching: arguments rows (%d) and bytes (%d) must be positive and bytes at most 10 MiB", rows, bytes))
	}
	return func(w *writeConfig) { w.append.MaxRows, w.append.MaxBytes = rows, bytes }
}

// WithRetries sets the attempts for a batch failing with a transient error and the first
// backoff, which doubles per attempt (defaults DefaultMaxAttempts, DefaultBackoff).
func WithRetries(attempts int, backoff time.Duration) WriteOption {
	if attempts <= 0 || backoff <= 0 {
		panic(fmt.Sprintf("bigquery.WithRetries: arguments attempts (%d) and backoff (%v) must be positive", attempts, backoff))
	}
	return func(w *writeConfig) { w.append.MaxAttempts, w.append.Backoff = attempts, backoff }
}

func newWriteConfig(opts []WriteOption) writeConfig {
	w := writeConfig{shards: DefaultShards}
	for _, o := range opts {
		o(&w)
	}
	w.conn = w.conn.Resolve()
	w.append.Emulator = w.conn.Emulator
	return w
}

// rowPlan returns the plan of the element type of rows, panicking with a sentence naming the
// argument when the type cannot be a row.
func rowPlan(fn string, rows beam.PCollection) *plan {
	if !rows.IsValid() {
		panic(fmt.Sprintf("%s: argument rows is not a valid PCollection", fn))
	}
	t := rows.Type().Type()
	if t.Kind() == reflect.Interface {
		panic(fmt.Sprintf("%s: argument rows has element type %v; it needs a struct type", fn, t))
	}
	p, err := planOf(rowType(t))
	if err != nil {
		panic(fmt.Sprintf("%s: argument rows (PCollection<%v>) cannot be written: %v", fn, t, err))
	}
	return p
}

// Write streams rows into table through the Storage Write API (default stream), creating the
// table if needed and adding the columns it lacks (see EnsureTable).
//
// Rows are encoded to protobuf where they are, spread over WithShards keys and reshuffled,
// so that many workers append in parallel; each appends in batches (WithBatching), keeps a
// few requests in flight and retries transient errors (WithRetries). Rows that cannot be
// encoded, rows BigQuery refuses and rows still failing after the last retry go to dead as
// record.Failure with stage "bigquery.Write", reason bq_invalid_row, bq_row_error or
// bq_retries_exhausted, the server's message and the row as JSON. No row is dropped. Delivery
// is at least once: a bundle the runner retries may append its rows again.
//
//	rows: PCollection<T> for a struct type T (see InferSchema), or PCollection<record.Record>
//	      written as RecordRow
//	dead: PCollection<record.Failure>
//
// Example:
//
//	dead := bigquery.Write(s, "bq://my-project.shop.orders", orders,
//		bigquery.WithPartitioning("created_at"), bigquery.WithClustering("country"))
//	bigquery.WriteFailures(s, "bq://my-project.shop.errors", dead)
func Write(s beam.Scope, table string, rows beam.PCollection, opts ...WriteOption) (dead beam.PCollection) {
	t := mustParseTable("bigquery.Write", table)
	p := rowPlan("bigquery.Write", rows)
	cfg := newWriteConfig(opts)
	enc := encoding{emulator: cfg.conn.Emulator}
	dp, _, err := p.descriptor(enc)
	if err != nil {
		panic(fmt.Sprintf("bigquery.Write: argument rows: %v", err))
	}
	desc, err := proto.Marshal(dp)
	if err != nil {
		panic(fmt.Sprintf("bigquery.Write: argument rows: encoding the descriptor: %v", err))
	}
	if err := checkOptions(p.schema, cfg.table); err != nil {
		panic(fmt.Sprintf("bigquery.Write: table options: %v", err))
	}
	s = s.Scope(fmt.Sprintf("bigquery.Write(%s)", t))
	ready := ensure(s, t, p, cfg)
	keyed, invalid := beam.ParDo2(s, &encodeFn{Shards: cfg.shards, Emulator: enc.emulator}, rows)
	shuffled := beam.Reshuffle(s, keyed)
	// The rows wait for the table in a step of their own (see internal/fusion: with the side
	// input on writeFn, prism's scheduler spun for as long as rows were being written).
	refused := beam.ParDo(s, &writeFn{Conn: cfg.conn, Table: t, Descriptor: desc, Append: cfg.append},
		fusion.After(s, ready, shuffled))
	return beam.Flatten(s, invalid, refused)
}

// WriteFailures streams dead-letter rows into table with the schema of record.Failure
// (payload_bytes as BYTES), creating it on first use partitioned by day on time and clustered
// by stage and reason. Failures BigQuery refuses come back in dead: write them to files as
// the last resort.
//
//	failures: PCollection<record.Failure>
//	dead:     PCollection<record.Failure>
func WriteFailures(s beam.Scope, table string, failures beam.PCollection, opts ...WriteOption) (dead beam.PCollection) {
	if failures.IsValid() && failures.Type().Type() != reflect.TypeFor[record.Failure]() {
		panic(fmt.Sprintf("bigquery.WriteFailures: argument failures must be a PCollection<record.Failure>, got PCollection<%v>", failures.Type().Type()))
	}
	def := []WriteOption{WithTableOptions(TableOptions{PartitionField: "time", Clustering: []string{"stage", "reason"},
		Description: "Beamline dead letters: records a stage could not handle, with the original payload"})}
	return Write(s, table, failures, append(def, opts...)...)
}

// ensure returns a singleton PCollection<string> that exists once the table is ready.
func ensure(s beam.Scope, t Table, p *plan, cfg writeConfig) beam.PCollection {
	schema, err := p.schema.ToJSONFields()
	if err != nil {
		panic(fmt.Sprintf("bigquery: encoding the schema of %v: %v", p.typ, err))
	}
	return beam.ParDo(s, &ensureFn{Conn: cfg.conn, Table: t, Schema: string(schema), Options: cfg.table, Skip: cfg.noCreate}, beam.Impulse(s))
}

// ensureFn runs EnsureTable once per pipeline, before any row is sent.
type ensureFn struct {
	Conn    Conn         `json:"conn"`
	Table   Table        `json:"table"`
	Schema  string       `json:"schema"`
	Options TableOptions `json:"options"`
	Skip    bool         `json:"skip"`
}

func (f *ensureFn) ProcessElement(ctx context.Context, _ []byte, emit func(string)) error {
	if !f.Skip {
		schema, err := bigquery.SchemaFromJSON([]byte(f.Schema))
		if err != nil {
			return err
		}
		c, err := f.Conn.NewClient(ctx, f.Table)
		if err != nil {
			return err
		}
		defer c.Close()
		if f.Conn.Emulator {
			emulatorMu.Lock()
			defer emulatorMu.Unlock()
		}
		if _, err := EnsureTable(ctx, c, f.Table, schema, f.Options); err != nil {
			return err
		}
	}
	emit(f.Table.String())
	return nil
}

// encodeFn encodes each row to protobuf and keys it by shard, round robin.
type encodeFn struct {
	Shards   int  `json:"shards"`
	Emulator bool `json:"emulator"`

	next int
}

func (f *encodeFn) Setup() { f.next = rand.N(f.Shards) }

func (f *encodeFn) ProcessElement(x beam.X, emit func(int, []byte), dead func(record.Failure)) {
	v, p, err := rowValue(x)
	var b []byte
	if err == nil {
		b, err = p.appendProto(make([]byte, 0, 256), v, encoding{emulator: f.Emulator})
	}
	if err != nil {
		dead(elementFailure(StageWrite, x, err))
		return
	}
	emit(f.next, b)
	if f.next++; f.next >= f.Shards {
		f.next = 0
	}
}

// elementFailure is the Failure of an element that could not be encoded: a record keeps its
// original payload; any other row is carried as its JSON.
func elementFailure(stage string, x any, err error) record.Failure {
	switch r := x.(type) {
	case record.Record:
		return record.Fail(stage, &r, ReasonInvalidRow, err.Error())
	case *record.Record:
		return record.Fail(stage, r, ReasonInvalidRow, err.Error())
	}
	payload, jerr := json.Marshal(x)
	if jerr != nil {
		payload = []byte(fmt.Sprintf("%+v", x))
	}
	return failure(stage, ReasonInvalidRow, err.Error(), payload, "", "")
}

func failure(stage, reason, msg string, payload []byte, source, id string) record.Failure {
	f := record.Failure{Time: time.Now().UTC(), Stage: stage, Source: source, RecordID: id,
		Reason: reason, Message: msg, PayloadBytes: payload}
	if utf8.Valid(payload) {
		f.PayloadString = string(payload)
	}
	return f
}

// writeFn appends the encoded rows of a bundle and emits the refused ones at its end, once
// every request of the bundle is settled.
type writeFn struct {
	Conn       Conn         `json:"conn"`
	Table      Table        `json:"table"`
	Descriptor []byte       `json:"descriptor"`
	Append     AppendConfig `json:"append"`

	client *managedwriter.Client
	desc   *descriptorpb.DescriptorProto
	md     protoreflect.MessageDescriptor
	app    *Appender
}

func (f *writeFn) Setup(ctx context.Context) error {
	f.desc = &descriptorpb.DescriptorProto{}
	if err := proto.Unmarshal(f.Descriptor, f.desc); err != nil {
		return fmt.Errorf("bigquery.Write: decoding the row descriptor: %w", err)
	}
	md, err := messageDescriptor(f.desc)
	if err != nil {
		return err
	}
	f.md = md
	f.client, err = f.Conn.NewWriteClient(ctx, f.Table)
	return err
}

func (f *writeFn) ProcessElement(ctx context.Context, _ int, row []byte, dead func(record.Failure)) error {
	if f.app == nil {
		app, err := NewAppender(ctx, f.client, f.Table, f.desc, f.Append)
		if err != nil {
			return err
		}
		f.app = app
	}
	return f.app.Add(ctx, row)
}

func (f *writeFn) FinishBundle(ctx context.Context, dead func(record.Failure)) error {
	if f.app == nil {
		return nil
	}
	refused, err := f.app.Flush(ctx)
	if err != nil {
		// The appender may be unusable; the runner retries the bundle with a fresh one.
		f.app.Close()
		f.app = nil
		return err
	}
	for _, r := range refused {
		dead(f.refusedFailure(r))
	}
	return nil
}

func (f *writeFn) Teardown() error {
	if f.app != nil {
		f.app.Close()
	}
	if f.client != nil {
		return f.client.Close()
	}
	return nil
}

// refusedFailure renders a refused row as JSON for people and replays, with the source and
// id of a RecordRow when the row has those columns.
func (f *writeFn) refusedFailure(r Rejected) record.Failure {
	payload, source, id := protoRowJSON(f.md, r.Row)
	return failure(StageWrite, r.Reason, r.Message, payload, source, id)
}

func messageDescriptor(dp *descriptorpb.DescriptorProto) (protoreflect.MessageDescriptor, error) {
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:        proto.String("beamline_row.proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{dp},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("bigquery: building the row descriptor: %w", err)
	}
	return fd.Messages().Get(0), nil
}

// protoRowJSON decodes an encoded row to JSON with column names (TIMESTAMP as microseconds
// since the epoch, 64-bit integers as strings, as protojson writes them). Only refused rows
// take this path. Undecodable bytes are returned as they are.
func protoRowJSON(md protoreflect.MessageDescriptor, row []byte) (payload []byte, source, id string) {
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(row, m); err != nil {
		return row, "", ""
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return row, "", ""
	}
	str := func(name string) string {
		if fd := md.Fields().ByName(protoreflect.Name(name)); fd != nil && fd.Kind() == protoreflect.StringKind {
			return m.Get(fd).String()
		}
		return ""
	}
	return b, str("source"), str("id")
}
