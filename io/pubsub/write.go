package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn4x1[context.Context, beam.EventTime, Message, func(beam.EventTime, record.Failure), error](&writeFn{})
	register.Emitter2[beam.EventTime, record.Failure]()
	register.Function1x1[[]byte, Message](dataMessage)
}

// Message is one message to publish. ID and Source are not sent: they name the record in
// the dead letter if publishing fails.
type Message struct {
	Data        []byte
	Attributes  map[string]string
	OrderingKey string
	ID          string
	Source      string
}

func dataMessage(b []byte) Message { return Message{Data: b} }

// WriteOption adjusts Write.
type WriteOption func(*writeFn)

// Ordering publishes with message ordering: messages of one ordering key are delivered in the
// order they were published. The subscription must have ordering enabled to honour it.
func Ordering() WriteOption { return func(f *writeFn) { f.Ordered = true } }

// Retries sets how many times a message is published again after a retryable error
// (Unavailable, ResourceExhausted, DeadlineExceeded, Aborted, Internal) before it goes to
// dead letter (default 5), with exponential backoff from 100 ms.
func Retries(n int) WriteOption {
	if n < 0 {
		panic(fmt.Sprintf("pubsub.Retries: n = %d must not be negative", n))
	}
	return func(f *writeFn) { f.Retries = n }
}

// BatchSize sets how many messages a bundle hands to the client before waiting for their
// results (default 1000). The client itself batches requests within it.
func BatchSize(n int) WriteOption {
	if n <= 0 {
		panic(fmt.Sprintf("pubsub.BatchSize: n = %d must be positive", n))
	}
	return func(f *writeFn) { f.Batch = n }
}

// StageWrite is the stage Write counts under: <source>/pubsub.Write/written|dead[/reason],
// where source is the message's record source, or the topic for plain messages.
const StageWrite = "pubsub.Write"

// MaxMessageBytes is Pub/Sub's limit on one message's data and attributes together.
const MaxMessageBytes = 10 << 20

// Write publishes to a topic, pubsub://projects/P/topics/T. Messages are batched by the
// client; every bundle waits for all its results before it completes, so once a bundle is
// committed its messages are published (and a reader upstream acks only then). Retryable
// errors are retried with backoff; a message the service rejects, that is too large, or that
// still fails after Retries goes to dead with stage "pubsub.Write" and reason pubsub_rejected,
// too_large or pubsub_retries_exhausted. Input of []byte is published as data only.
//
// Dead letters are in the global window with their message's timestamp, because results are
// only known when a bundle ends.
//
//	in:   PCollection<pubsub.Message> or PCollection<[]byte>
//	dead: PCollection<record.Failure>
func Write(s beam.Scope, topic string, in beam.PCollection, opts ...WriteOption) (dead beam.PCollection) {
	t, err := ParseTopic(topic)
	if err != nil {
		panic("pubsub.Write: " + err.Error())
	}
	s = s.Scope("pubsub.Write(" + t.ID + ")")
	f := &writeFn{Project: t.Project, Topic: t.ID, Address: t.String(), Retries: 5, Batch: 1000}
	for _, o := range opts {
		o(f)
	}
	if in.Type().Type() == reflectBytes {
		in = beam.ParDo(s, dataMessage, in)
	}
	dead = beam.ParDo(s, f, in)
	return beam.WindowInto(s, window.NewGlobalWindows(), dead)
}

type writeFn struct {
	Project string `json:"project"`
	Topic   string `json:"topic"`
	Address string `json:"address"`
	Ordered bool   `json:"ordered,omitempty"`
	Retries int    `json:"retries"`
	Batch   int    `json:"batch"`

	client  *pubsub.Client
	pub     *pubsub.Publisher
	pending []pending
	ctr     record.Counters
}

type pending struct {
	msg Message
	ts  beam.EventTime
	res *pubsub.PublishResult
}

func (f *writeFn) Setup(ctx context.Context) error {
	c, err := pubsub.NewClient(ctx, f.Project)
	if err != nil {
		return fmt.Errorf("pubsub.Write: client for %s: %w", f.Address, err)
	}
	f.client = c
	f.pub = c.Publisher(f.Topic)
	f.pub.EnableMessageOrdering = f.Ordered
	return nil
}

func (f *writeFn) Teardown() error {
	if f.pub != nil {
		f.pub.Stop()
	}
	if f.client != nil {
		return f.client.Close()
	}
	return nil
}

func (f *writeFn) ProcessElement(ctx context.Context, ts beam.EventTime, m Message, dead func(beam.EventTime, record.Failure)) error {
	if n := messageSize(&m); n > MaxMessageBytes {
		f.fail(ctx, ts, m, "too_large", fmt.Sprintf("message of %d bytes is over Pub/Sub's limit of %d", n, MaxMessageBytes), dead)
		return nil
	}
	f.pending = append(f.pending, pending{msg: m, ts: ts, res: f.publish(ctx, m)})
	if len(f.pending) >= f.Batch {
		return f.flush(ctx, dead)
	}
	return nil
}

func (f *writeFn) FinishBundle(ctx context.Context, dead func(beam.EventTime, record.Failure)) error {
	return f.flush(ctx, dead)
}

func (f *writeFn) publish(ctx context.Context, m Message) *pubsub.PublishResult {
	return f.pub.Publish(ctx, &pubsub.Message{Data: m.Data, Attributes: m.Attributes, OrderingKey: m.OrderingKey})
}

// flush waits for every pending result, publishing again those that failed with a retryable
// error, with backoff, until Retries is spent; the rest go to dead.
func (f *writeFn) flush(ctx context.Context, dead func(beam.EventTime, record.Failure)) error {
	backoff := 100 * time.Millisecond
	for attempt := 0; len(f.pending) > 0; attempt++ {
		var again []pending
		for _, p := range f.pending {
			_, err := p.res.Get(ctx)
			switch {
			case err == nil:
				f.ctr.Inc(ctx, f.source(p.msg), StageWrite, record.OutcomeWritten, "")
			case ctx.Err() != nil:
				// The bundle is being cancelled: fail it so it is retried, never drop.
				return ctx.Err()
			case retryable(err) && attempt < f.Retries:
				again = append(again, p)
			case retryable(err):
				f.fail(ctx, p.ts, p.msg, "pubsub_retries_exhausted", fmt.Sprintf("publishing to %s failed %d times, last: %v", f.Address, attempt+1, err), dead)
			default:
				f.fail(ctx, p.ts, p.msg, "pubsub_rejected", fmt.Sprintf("%s rejected the message: %v", f.Address, err), dead)
			}
		}
		if len(again) == 0 {
			f.pending = f.pending[:0]
			return nil
		}
		log.Warnf(ctx, "pubsub.Write %s: %d messages failed with a retryable error; retrying in %s", f.Address, len(again), backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 10*time.Second)
		for i := range again {
			if again[i].msg.OrderingKey != "" {
				// A failed publish pauses its ordering key until resumed.
				f.pub.ResumePublish(again[i].msg.OrderingKey)
			}
			again[i].res = f.publish(ctx, again[i].msg)
		}
		f.pending = again
	}
	return nil
}

// source names a message in counters: its record's source, else the topic.
func (f *writeFn) source(m Message) string {
	if m.Source != "" {
		return m.Source
	}
	return f.Topic
}

func (f *writeFn) fail(ctx context.Context, ts beam.EventTime, m Message, reason, msg string, dead func(beam.EventTime, record.Failure)) {
	f.ctr.Inc(ctx, f.source(m), StageWrite, record.OutcomeDead, reason)
	fl := record.Failure{
		Time: time.Now().UTC(), Stage: StageWrite, Source: m.Source, RecordID: m.ID,
		Reason: reason, Message: msg, Origin: f.Address, PayloadBytes: m.Data, Attributes: m.Attributes,
	}
	if utf8.Valid(m.Data) {
		fl.PayloadString = string(m.Data)
	}
	dead(ts, fl)
}

func messageSize(m *Message) int {
	n := len(m.Data) + len(m.OrderingKey)
	for k, v := range m.Attributes {
		n += len(k) + len(v)
	}
	return n
}

// retryable reports whether publishing again may succeed.
func retryable(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return errors.Is(err, context.DeadlineExceeded)
	}
	switch se.GRPCStatus().Code() {
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Aborted, codes.Internal, codes.Unknown:
		return true
	}
	return false
}
