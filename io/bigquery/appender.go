package bigquery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Dead-letter reason codes of the sinks.
const (
	// ReasonInvalidRow: the row cannot be encoded for its column types (detected before sending).
	ReasonInvalidRow = "bq_invalid_row"
	// ReasonRowError: BigQuery refused the row.
	ReasonRowError = "bq_row_error"
	// ReasonRetriesExhausted: the row still failed with a transient error after every attempt.
	ReasonRetriesExhausted = "bq_retries_exhausted"
)

// AppendConfig tunes an Appender. Zero fields take the defaults.
type AppendConfig struct {
	// MaxRows and MaxBytes bound one AppendRows request (BigQuery refuses requests over 10 MB).
	MaxRows  int `json:"max_rows,omitempty"`
	MaxBytes int `json:"max_bytes,omitempty"`
	// MaxInflight is the number of requests sent before the oldest is awaited.
	MaxInflight int `json:"max_inflight,omitempty"`
	// MaxAttempts bounds the sends of a batch that fails with a transient error.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Backoff is the wait before the second attempt; it doubles up to MaxBackoff, with jitter.
	Backoff    time.Duration `json:"backoff,omitempty"`
	MaxBackoff time.Duration `json:"max_backoff,omitempty"`
	// Emulator treats an error carried in an AppendRows response as a refusal of the rows
	// (goccy/bigquery-emulator reports every refused row as INTERNAL, never as row errors).
	Emulator bool `json:"emulator,omitempty"`
}

// Defaults of AppendConfig.
const (
	DefaultMaxRows     = 2000
	DefaultMaxBytes    = 5 << 20
	DefaultMaxInflight = 4
	DefaultMaxAttempts = 6
	DefaultBackoff     = 200 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
)

func (c AppendConfig) withDefaults() AppendConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxRows, DefaultMaxRows)
	def(&c.MaxBytes, DefaultMaxBytes)
	def(&c.MaxInflight, DefaultMaxInflight)
	def(&c.MaxAttempts, DefaultMaxAttempts)
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	return c
}

// Rejected is a row the Appender could not write, with a dead-letter reason code.
type Rejected struct {
	Row     []byte // the row's protobuf encoding
	Reason  string
	Message string
}

// emulatorMu serialises the appends, stream openings and table changes of a process in
// emulator mode: goccy/bigquery-emulator keeps every table in one SQLite database and answers
// concurrent writes with "database table is locked" (or, when opening a stream, with a bare
// "failed to find stream"), so parallel writers only burn retries there.
var emulatorMu sync.Mutex

// ErrStream is wrapped when the write stream cannot be opened or is refused outright
// (table missing, permission denied): an infrastructure failure, not a row's fault.
var ErrStream = errors.New("bigquery: write stream failed")

// Appender writes protobuf-encoded rows to the default stream of one table: it batches them,
// keeps a few requests in flight, retries transient failures with exponential backoff, and
// separates the rows BigQuery refuses so the caller can dead-letter them. It never drops a
// row: each added row is written, returned as Rejected, or reported in an error.
//
// It is the pure core of Write, used as is by programs without Beam. Not safe for
// concurrent use.
type Appender struct {
	cfg     AppendConfig
	table   Table
	stream  *managedwriter.ManagedStream
	rows    [][]byte
	bytes   int
	flight  []*flight
	refused []Rejected
}

type flight struct {
	rows    [][]byte
	res     *managedwriter.AppendResult
	sendErr error
	attempt int
	resent  bool // sent again at once after an EOF on send
}

// NewAppender opens the default stream of t on client for rows described by desc (a
// normalised descriptor, as from adapt.NormalizeDescriptor).
// Opening is retried like an append when the error is transient.
func NewAppender(ctx context.Context, client *managedwriter.Client, t Table, desc *descriptorpb.DescriptorProto, cfg AppendConfig) (*Appender, error) {
	a := &Appender{cfg: cfg.withDefaults(), table: t}
	for attempt := 1; ; attempt++ {
		var err error
		a.stream, err = a.open(ctx, client, desc)
		if err == nil {
			return a, nil
		}
		if attempt >= a.cfg.MaxAttempts || !a.openRetryable(err) {
			return nil, fmt.Errorf("%w: opening the default stream of %s: %v", ErrStream, t, err)
		}
		if err := sleep(ctx, a.backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

func (a *Appender) open(ctx context.Context, client *managedwriter.Client, desc *descriptorpb.DescriptorProto) (*managedwriter.ManagedStream, error) {
	if a.cfg.Emulator {
		emulatorMu.Lock()
		defer emulatorMu.Unlock()
	}
	return client.NewManagedStream(ctx,
		managedwriter.WithDestinationTable(a.table.streamParent()),
		managedwriter.WithType(managedwriter.DefaultStream),
		managedwriter.WithSchemaDescriptor(desc))
}

// openRetryable: the transient codes; and on the emulator UNKNOWN, its answer for any failure
// to look a stream up, which includes a table locked by a concurrent write.
func (a *Appender) openRetryable(err error) bool {
	if a.cfg.Emulator && status.Code(err) == codes.Unknown {
		return true
	}
	return classify(err, false, false) == retry
}

// Add queues one encoded row, sending a request when the batch is full.
func (a *Appender) Add(ctx context.Context, row []byte) error {
	if len(a.rows) > 0 && (len(a.rows) >= a.cfg.MaxRows || a.bytes+len(row) > a.cfg.MaxBytes) {
		if err := a.send(ctx); err != nil {
			return err
		}
	}
	a.rows = append(a.rows, row)
	a.bytes += len(row) + 3 // tag and length prefix in the request
	return nil
}

// Flush sends what is queued, waits for every request in flight, and returns the rows that
// could not be written since the last Flush. An error means an infrastructure failure: the
// rows of this flush may be partly written and should be retried as a whole (at least once).
func (a *Appender) Flush(ctx context.Context) ([]Rejected, error) {
	if len(a.rows) > 0 {
		if err := a.send(ctx); err != nil {
			return nil, err
		}
	}
	for len(a.flight) > 0 {
		if err := a.settleOldest(ctx); err != nil {
			return nil, err
		}
	}
	out := a.refused
	a.refused = nil
	return out, nil
}

// Close closes the stream. Call Flush first.
func (a *Appender) Close() error { return a.stream.Close() }

func (a *Appender) send(ctx context.Context) error {
	rows := a.rows
	a.rows, a.bytes = nil, 0
	if a.cfg.Emulator {
		emulatorMu.Lock()
		defer emulatorMu.Unlock()
		return a.settle(ctx, a.start(ctx, rows, 1))
	}
	for len(a.flight) >= a.cfg.MaxInflight {
		if err := a.settleOldest(ctx); err != nil {
			return err
		}
	}
	a.flight = append(a.flight, a.start(ctx, rows, 1))
	return nil
}

func (a *Appender) start(ctx context.Context, rows [][]byte, attempt int) *flight {
	f := &flight{rows: rows, attempt: attempt}
	f.res, f.sendErr = a.stream.AppendRows(ctx, rows)
	return f
}

func (a *Appender) settleOldest(ctx context.Context) error {
	f := a.flight[0]
	a.flight = a.flight[1:]
	return a.settle(ctx, f)
}

// settle waits for f and deals with its outcome, resending synchronously when needed.
func (a *Appender) settle(ctx context.Context, f *flight) error {
	for {
		err := f.sendErr
		inBand := false
		var rowErrs map[int]string
		if err == nil {
			full, rerr := f.res.FullResponse(ctx)
			err = rerr
			if full != nil && full.GetError() != nil {
				inBand = true
			}
			for _, re := range full.GetRowErrors() {
				if rowErrs == nil {
					rowErrs = map[int]string{}
				}
				rowErrs[int(re.GetIndex())] = re.GetMessage()
			}
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case len(rowErrs) > 0:
			// BigQuery refuses the whole request when a row is bad and names the rows.
			var rest [][]byte
			for i, r := range f.rows {
				if msg, bad := rowErrs[i]; bad {
					a.refused = append(a.refused, Rejected{Row: r, Reason: ReasonRowError, Message: msg})
				} else {
					rest = append(rest, r)
				}
			}
			if len(rest) == 0 {
				return nil
			}
			f = a.start(ctx, rest, f.attempt)
		case classify(err, inBand, a.cfg.Emulator) == refuse:
			// A refusal without row errors: halve the batch until the refused rows stand alone.
			if len(f.rows) == 1 {
				if a.cfg.Emulator && !inBand && !f.resent {
					// A bare UNKNOWN can also be the emulator ending the stream for another
					// request's bad row: only a second refusal of this row alone convicts it.
					f = a.start(ctx, f.rows, f.attempt)
					f.resent = true
					continue
				}
				a.refused = append(a.refused, Rejected{Row: f.rows[0], Reason: ReasonRowError, Message: message(err)})
				return nil
			}
			mid := len(f.rows) / 2
			left := a.start(ctx, f.rows[:mid], f.attempt)
			if err := a.settle(ctx, left); err != nil {
				return err
			}
			f = a.start(ctx, f.rows[mid:], f.attempt)
		case errors.Is(f.sendErr, io.EOF) && !f.resent:
			// managedwriter learns that a stream died only when a send on it fails with EOF,
			// and reconnects on the next send: that costs no attempt and no wait.
			attempt := f.attempt
			f = a.start(ctx, f.rows, attempt)
			f.resent = true
		case classify(err, inBand, a.cfg.Emulator) == retry:
			if f.attempt >= a.cfg.MaxAttempts {
				msg := fmt.Sprintf("after %d attempts: %s", f.attempt, message(err))
				for _, r := range f.rows {
					a.refused = append(a.refused, Rejected{Row: r, Reason: ReasonRetriesExhausted, Message: msg})
				}
				return nil
			}
			if err := sleep(ctx, a.backoff(f.attempt)); err != nil {
				return err
			}
			f = a.start(ctx, f.rows, f.attempt+1)
		default:
			return fmt.Errorf("%w: appending to %s: %v", ErrStream, a.table, err)
		}
	}
}

func (a *Appender) backoff(attempt int) time.Duration {
	d := a.cfg.Backoff << (attempt - 1)
	if d <= 0 || d > a.cfg.MaxBackoff {
		d = a.cfg.MaxBackoff
	}
	return d/2 + rand.N(d/2+1) // jitter, so shards that failed together do not retry together
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type class int

const (
	fatal  class = iota // infrastructure: fail the bundle
	retry               // transient: send again after a backoff
	refuse              // the rows themselves were refused
)

// classify sorts an append error. Transient: UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL,
// ABORTED, DEADLINE_EXCEEDED and a stream the server closed. Refused: INVALID_ARGUMENT and
// OUT_OF_RANGE (BigQuery's answer to bad rows and to a request over 10 MB).
//
// goccy/bigquery-emulator needs two exceptions. It reports a row it cannot store as INTERNAL
// in the response and then ends the stream with UNKNOWN, so in emulator mode either is a
// refusal. And it keeps tables
// in SQLite, whose "database table is locked" under concurrent appends arrives as INTERNAL in
// band or as UNKNOWN on the stream: that is transient.
func classify(err error, inBand, emulator bool) class {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return retry // the server closed the stream; managedwriter reconnects on the next send
	}
	code := status.Code(err)
	if emulator && (code == codes.Internal || code == codes.Unknown) && strings.Contains(err.Error(), "is locked") {
		return retry
	}
	if emulator && ((code == codes.Internal && inBand) || code == codes.Unknown) {
		return refuse // the handler's error ends the stream too, and may arrive first as UNKNOWN
	}
	switch code {
	case codes.InvalidArgument, codes.OutOfRange:
		return refuse
	case codes.Internal:
		return retry
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded:
		return retry
	}
	return fatal
}

func message(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Code().String() + ": " + s.Message()
	}
	return err.Error()
}
