package pubsub

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/pubsubio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn5x2[context.Context, *watermark, *sdf.LockRTracker, int, func(beam.EventTime, record.Record), sdf.ProcessContinuation, error](&readFn{})
	beam.RegisterType(reflect.TypeOf((*Restriction)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Restriction)(nil)).Elem(), encodeRestriction, decodeRestriction)
	register.Emitter2[beam.EventTime, record.Record]()
	register.DoFn2x0[*pb.PubsubMessage, func(beam.EventTime, record.Record)](&nativeFn{})
}

// ReadOption adjusts Read.
type ReadOption func(*readConfig)

type readConfig struct {
	fn       readFn
	dedupe   time.Duration
	native   *bool
	parallel int
}

// IDAttribute names a message attribute holding the publisher's own record id. It becomes the
// Record's ID, so a record published twice dedupes like a redelivery. Without it the ID is the
// Pub/Sub message id.
func IDAttribute(name string) ReadOption { return func(c *readConfig) { c.fn.IDAttr = name } }

// TimestampAttribute names a message attribute holding the event time (RFC 3339 or Unix
// milliseconds). It becomes the element timestamp and Record.EventTime; a message without a
// readable one keeps its publish time and gets the attribute "beamline_bad_timestamp".
func TimestampAttribute(name string) ReadOption {
	return func(c *readConfig) { c.fn.TimeAttr = name }
}

// Parallelism sets how many readers pull from the subscription concurrently (default 4).
func Parallelism(n int) ReadOption {
	if n <= 0 {
		panic(fmt.Sprintf("pubsub.Parallelism: n = %d must be positive", n))
	}
	return func(c *readConfig) { c.parallel = n }
}

// MaxLateness holds the watermark this far behind the oldest timestamp of each pull, so
// messages that arrive out of event-time order by up to d are on time (default 0).
func MaxLateness(d time.Duration) ReadOption {
	return func(c *readConfig) { c.fn.Lateness = int64(d) }
}

// StopWhenIdle ends the read once no message has arrived for d, which makes a streaming
// pipeline finish: windows close, sinks flush. For replays, tests and benchmarks.
func StopWhenIdle(d time.Duration) ReadOption {
	return func(c *readConfig) { c.fn.IdleStop = int64(d) }
}

// GiveUpAfter makes each reader fail with an error naming the endpoint once its pulls have
// failed without a break for d (default DefaultGiveUp): an unreachable service then ends the
// job with a clear error instead of retrying for ever. 0 retries for ever.
func GiveUpAfter(d time.Duration) ReadOption {
	if d < 0 {
		panic(fmt.Sprintf("pubsub.GiveUpAfter: d %s must not be negative", d))
	}
	return func(c *readConfig) { c.fn.GiveUp = int64(d) }
}

// DefaultGiveUp is how long a reader's pulls may keep failing before Read gives up.
const DefaultGiveUp = 2 * time.Minute

// Dedupe sends records whose ID (message id, or IDAttribute) was already seen within ttl of
// event time to dups, through clean.DedupeStream: exact across workers, at the price of a
// shuffle. Without it, the reader still drops redeliveries of messages it has already
// committed and acked (kept per worker, see Read).
func Dedupe(ttl time.Duration) ReadOption {
	if ttl <= 0 {
		panic(fmt.Sprintf("pubsub.Dedupe: ttl %s must be positive", ttl))
	}
	return func(c *readConfig) { c.dedupe = ttl }
}

// Native chooses Beam's runner-native Pub/Sub read (true: only Dataflow runs it) or
// Beamline's portable reader (false). By default it follows --runner.
func Native(on bool) ReadOption { return func(c *readConfig) { c.native = &on } }

// Read reads a subscription, pubsub://projects/P/subscriptions/S, as an unbounded
// PCollection of records: ID is the message id (or IDAttribute), Attributes the message's,
// Origin the address and Payload the data. The element timestamp is the publish time, or the
// TimestampAttribute.
//
// On Dataflow it expands to Beam's native pubsubio.Read. Elsewhere (prism, Flink, universal)
// it is a splittable DoFn: each reader pulls in batches through the Pub/Sub client, emits,
// and checkpoints itself; the watermark follows the oldest timestamp of each pull (less
// MaxLateness), and an idle reader moves it to now. Messages are acknowledged only in the
// checkpoint after the bundle's output is committed: the ack ids ride in the checkpoint's
// residual restriction, which the runner commits with the output, and the resumed reader
// acknowledges them before it pulls again (see Restriction for why not bundle finalization
// callbacks). At-least-once, and never an ack for a message not yet processed: a bundle that
// fails leaves no residual, so its messages come back after the ack deadline. Subscriptions
// should have an ack deadline of 30 s or more.
//
// A message redelivered after its bundle was committed is acked again and dropped. Pass Dedupe
// for exact deduplication across workers and restarts within a TTL.
//
// On prism, keep the steps between Read and the sink free of shuffles (GroupByKey, state) if a
// cancelled job must lose nothing: prism commits a bundle's output to memory, so elements
// waiting at a shuffle when the job is cancelled are gone though acked. Dataflow and Flink
// checkpoint them.
//
//	out:  PCollection<record.Record> (unbounded)
//	dups: PCollection<record.Failure> (with Dedupe; otherwise empty)
func Read(s beam.Scope, subscription string, opts ...ReadOption) (out, dups beam.PCollection) {
	sub, err := ParseSubscription(subscription)
	if err != nil {
		panic("pubsub.Read: " + err.Error())
	}
	s = s.Scope("pubsub.Read(" + sub.ID + ")")
	c := readConfig{parallel: 4, fn: readFn{
		Project: sub.Project, Subscription: sub.Full(), Address: sub.String(),
		MaxMessages: 1000, BundleMessages: 5000, BundleTime: int64(500 * time.Millisecond),
		Poll: int64(200 * time.Millisecond), GiveUp: int64(DefaultGiveUp),
	}}
	for _, o := range opts {
		o(&c)
	}
	native := runnerIsDataflow()
	if c.native != nil {
		native = *c.native
	}
	if native {
		msgs := pubsubio.Read(s, sub.Project, pubsubio.ReadOptions{
			Subscription: sub.ID, IDAttribute: c.fn.IDAttr, TimestampAttribute: c.fn.TimeAttr, WithAttributes: true,
		})
		out = beam.ParDo(s, &nativeFn{Address: sub.String(), IDAttr: c.fn.IDAttr, TimeAttr: c.fn.TimeAttr}, msgs)
	} else {
		readers := make([]int, c.parallel)
		for i := range readers {
			readers[i] = i
		}
		out = beam.ParDo(s, &c.fn, beam.CreateList(s, readers))
	}
	if c.dedupe > 0 {
		return clean.DedupeStream(s, out, "", c.dedupe)
	}
	return out, beam.CreateList(s, []record.Failure{})
}

// runnerIsDataflow reports whether --runner names Dataflow, which alone runs the native read.
func runnerIsDataflow() bool {
	f := flag.Lookup("runner")
	if f == nil {
		return false
	}
	switch f.Value.String() {
	case "dataflow", "DataflowRunner":
		return true
	}
	return false
}

// readFn is the portable reader: one element per reader, its restriction a count of pulls.
type readFn struct {
	Project        string `json:"project"`
	Subscription   string `json:"subscription"` // projects/P/subscriptions/S
	Address        string `json:"address"`
	IDAttr         string `json:"id_attr,omitempty"`
	TimeAttr       string `json:"time_attr,omitempty"`
	MaxMessages    int32  `json:"max_messages"`    // per Pull call
	BundleMessages int    `json:"bundle_messages"` // per bundle, before a checkpoint
	BundleTime     int64  `json:"bundle_time"`     // ns per bundle, before a checkpoint
	Poll           int64  `json:"poll"`            // ns to wait after an empty pull
	Lateness       int64  `json:"lateness"`        // ns the watermark stays behind
	IdleStop       int64  `json:"idle_stop"`       // ns without messages before stopping; 0 never
	GiveUp         int64  `json:"give_up"`         // ns of failing pulls before failing; 0 never

	client *pubsub.Client
	seen   *idSet
	ctr    struct{ read, acked, redelivered beam.Counter }

	mu       sync.Mutex
	lastSeen map[int]time.Time // per reader, for IdleStop
	failing  map[int]time.Time // per reader, since when its pulls fail
}

func (f *readFn) Setup(ctx context.Context) error {
	c, err := pubsub.NewClient(ctx, f.Project)
	if err != nil {
		return fmt.Errorf("pubsub.Read: client for %s: %w", f.Address, err)
	}
	f.client = c
	f.seen = committedIDs(f.Subscription)
	f.lastSeen = map[int]time.Time{}
	f.failing = map[int]time.Time{}
	name := func(outcome string) string {
		return record.CounterName(subID(f.Subscription), "pubsub.Read", outcome, "")
	}
	f.ctr.read = beam.NewCounter(record.MetricNamespace, name(record.OutcomeRead))
	f.ctr.acked = beam.NewCounter(record.MetricNamespace, name("acked"))
	f.ctr.redelivered = beam.NewCounter(record.MetricNamespace, name("redelivered"))
	return nil
}

func (f *readFn) Teardown() error {
	if f.client != nil {
		return f.client.Close()
	}
	return nil
}

func (f *readFn) CreateInitialRestriction(int) Restriction {
	return Restriction{Start: 0, End: math.MaxInt64}
}

func (f *readFn) SplitRestriction(_ int, r Restriction) []Restriction {
	return []Restriction{r}
}

func (f *readFn) RestrictionSize(int, Restriction) float64 { return 1 }

func (f *readFn) CreateTracker(r Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(newPullTracker(r))
}

// TruncateRestriction lets a drained pipeline end: the reader stops where it is.
// The acks it carries are kept: the truncated reader still acknowledges them.
func (f *readFn) TruncateRestriction(rt *sdf.LockRTracker, _ int) Restriction {
	r := rt.GetRestriction().(Restriction)
	return Restriction{Start: r.Start, End: r.Start, Acks: r.Acks, IDs: r.IDs}
}

func (f *readFn) InitialWatermarkEstimatorState(_ beam.EventTime, _ Restriction, _ int) int64 {
	return int64(mtime.MinTimestamp) // Beam's own minimum, in milliseconds
}

func (f *readFn) CreateWatermarkEstimator(ms int64) *watermark { return &watermark{ms: ms} }

func (f *readFn) WatermarkEstimatorState(w *watermark) int64 { return w.ms }

// ProcessElement first acknowledges what the previous bundle emitted (its residual carries
// the ack ids, so that bundle is committed), then pulls until this bundle has BundleMessages
// messages or BundleTime has passed, and checkpoints with its own ack ids in the residual.
func (f *readFn) ProcessElement(ctx context.Context, we *watermark, rt *sdf.LockRTracker, reader int, emit func(beam.EventTime, record.Record)) (sdf.ProcessContinuation, error) {
	start := time.Now()
	rest := rt.GetRestriction().(Restriction)
	f.ack(ctx, rest.Acks, rest.IDs)
	pos := rest.Start
	var acks, ids []string
	emitted, counted := 0, 0
	// Whatever way this call ends, the checkpoint takes this bundle's ack ids along.
	defer func() {
		rt.Mu.Lock()
		t := rt.Rt.(*pullTracker)
		t.pending, t.pendingIDs = acks, ids
		rt.Mu.Unlock()
	}()
	for emitted < f.BundleMessages && time.Since(start) < time.Duration(f.BundleTime) {
		if !rt.TryClaim(pos) {
			return sdf.StopProcessing(), nil
		}
		pos++
		pullCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := f.client.SubscriptionAdminClient.Pull(pullCtx, &pubsubpb.PullRequest{Subscription: f.Subscription, MaxMessages: f.MaxMessages})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return sdf.StopProcessing(), ctx.Err()
			}
			// The service is unreachable or restarting: keep the reader and try again later,
			// within bounds. Time without messages counts for IdleStop even while pulls fail.
			now := time.Now()
			f.mu.Lock()
			since, failing := f.failing[reader]
			if !failing {
				f.failing[reader], since = now, now
			}
			last, seen := f.lastSeen[reader]
			if !seen {
				f.lastSeen[reader], last = now, now
			}
			f.mu.Unlock()
			if len(acks) == 0 && f.IdleStop > 0 && now.Sub(last) >= time.Duration(f.IdleStop) {
				log.Warnf(ctx, "pubsub.Read %s: pull: %v; stopping: no message for %s (idle_stop)", f.Address, err, now.Sub(last).Round(time.Second))
				rt.TrySplit(0)
				return sdf.StopProcessing(), nil
			}
			if f.GiveUp > 0 && now.Sub(since) >= time.Duration(f.GiveUp) {
				return sdf.StopProcessing(), fmt.Errorf("pubsub.Read %s: pulls have failed for %s, giving up (check that %s is reachable): %w",
					f.Address, now.Sub(since).Round(time.Second), endpoint(), err)
			}
			log.Warnf(ctx, "pubsub.Read %s: pull: %v; retrying", f.Address, err)
			return sdf.ResumeProcessingIn(time.Second), nil
		}
		f.mu.Lock()
		delete(f.failing, reader)
		f.mu.Unlock()
		msgs := resp.GetReceivedMessages()
		if len(msgs) == 0 {
			break
		}
		oldest := int64(math.MaxInt64)
		for _, rm := range msgs {
			m := rm.GetMessage()
			acks = append(acks, rm.GetAckId())
			key := deliveryKey(m)
			if f.seen.has(key) {
				// Committed and acked before: the ack went missing or came late.
				f.ctr.redelivered.Inc(ctx, 1)
				continue
			}
			r, ts := toRecord(m, f.Address, f.IDAttr, f.TimeAttr)
			ids = append(ids, key)
			oldest = min(oldest, ts.UnixMilli())
			emit(beam.EventTime(ts.UnixMilli()), r)
			emitted++
		}
		if oldest != math.MaxInt64 {
			we.advance(oldest - time.Duration(f.Lateness).Milliseconds())
		}
		f.ctr.read.Inc(ctx, int64(emitted-counted))
		counted = emitted
	}
	now := time.Now()
	f.mu.Lock()
	last, ok := f.lastSeen[reader]
	if len(acks) > 0 || !ok {
		f.lastSeen[reader], last = now, now
	}
	f.mu.Unlock()
	if len(acks) > 0 {
		return sdf.ResumeProcessingIn(0), nil
	}
	if f.IdleStop > 0 && now.Sub(last) >= time.Duration(f.IdleStop) {
		// Nothing pulled, so nothing to ack: ending the restriction loses nothing.
		rt.TrySplit(0)
		return sdf.StopProcessing(), nil
	}
	// Idle: nothing is waiting, so event time up to now, less the allowed lateness, is complete.
	we.advance(now.Add(-time.Duration(f.Lateness)).UnixMilli())
	return sdf.ResumeProcessingIn(time.Duration(f.Poll)), nil
}

// endpoint names where the client sends requests, for errors.
func endpoint() string {
	if h := os.Getenv("PUBSUB_EMULATOR_HOST"); h != "" {
		return "PUBSUB_EMULATOR_HOST=" + h
	}
	return "pubsub.googleapis.com:443"
}

// ack acknowledges messages whose output is committed. A failed ack is logged, not returned:
// the messages are redelivered, and the committed-id set (and Dedupe) absorb the repeats.
func (f *readFn) ack(ctx context.Context, acks, ids []string) {
	if len(acks) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i := 0; i < len(acks); i += ackBatch {
		chunk := acks[i:min(i+ackBatch, len(acks))]
		if err := f.client.SubscriptionAdminClient.Acknowledge(actx, &pubsubpb.AcknowledgeRequest{Subscription: f.Subscription, AckIds: chunk}); err != nil {
			log.Warnf(ctx, "pubsub.Read %s: ack of %d messages failed, they will be redelivered: %v", f.Address, len(chunk), err)
			continue
		}
		f.ctr.acked.Inc(ctx, int64(len(chunk)))
	}
	f.seen.add(ids)
}

// deliveryKey identifies a message across its deliveries: the message id with its publish
// time. The id alone is not enough: a Pub/Sub emulator restarted (or a topic recreated) numbers
// its messages from 1 again, and the restart test caught new messages dropped as repeats.
func deliveryKey(m *pubsubpb.PubsubMessage) string {
	return m.GetMessageId() + "@" + strconv.FormatInt(m.GetPublishTime().AsTime().UnixNano(), 36)
}

// ackBatch keeps an Acknowledge request well under the 512 KB request limit.
const ackBatch = 1000

// toRecord turns a message into a Record and its element timestamp.
func toRecord(m *pubsubpb.PubsubMessage, addr, idAttr, timeAttr string) (record.Record, time.Time) {
	r := record.Record{ID: m.GetMessageId(), Origin: addr, Payload: m.GetData(), Attributes: m.GetAttributes()}
	ts := m.GetPublishTime().AsTime()
	applyAttrs(&r, &ts, idAttr, timeAttr)
	return r, ts
}

func applyAttrs(r *record.Record, ts *time.Time, idAttr, timeAttr string) {
	if idAttr != "" {
		if id := r.Attributes[idAttr]; id != "" {
			r.ID = id
		}
	}
	if timeAttr == "" {
		return
	}
	if t, ok := parseTimeAttr(r.Attributes[timeAttr]); ok {
		*ts, r.EventTime = t, t
		return
	}
	attrs := make(map[string]string, len(r.Attributes)+1)
	for k, v := range r.Attributes {
		attrs[k] = v
	}
	attrs["beamline_bad_timestamp"] = timeAttr
	r.Attributes = attrs
}

// parseTimeAttr reads an event-time attribute: RFC 3339, or Unix milliseconds as Beam's
// pubsubio and Dataflow write them.
func parseTimeAttr(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err == nil
}

func subID(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

// nativeFn turns the messages of Beam's native read into records.
type nativeFn struct {
	Address  string `json:"address"`
	IDAttr   string `json:"id_attr,omitempty"`
	TimeAttr string `json:"time_attr,omitempty"`
}

func (f *nativeFn) ProcessElement(m *pb.PubsubMessage, emit func(beam.EventTime, record.Record)) {
	r := record.Record{ID: m.GetMessageId(), Origin: f.Address, Payload: m.GetData(), Attributes: m.GetAttributes()}
	ts := m.GetPublishTime().AsTime()
	applyAttrs(&r, &ts, f.IDAttr, f.TimeAttr)
	emit(beam.EventTime(ts.UnixMilli()), r)
}

// idSet remembers the ids of messages committed and acked, so a late redelivery of one is
// dropped. It is per worker process and per subscription, bounded to the newest idSetSize ids.
type idSet struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

const idSetSize = 1 << 18

var (
	committedMu sync.Mutex
	committed   = map[string]*idSet{}
)

func committedIDs(sub string) *idSet {
	committedMu.Lock()
	defer committedMu.Unlock()
	s := committed[sub]
	if s == nil {
		s = &idSet{ids: make(map[string]struct{}), ring: make([]string, idSetSize)}
		committed[sub] = s
	}
	return s
}

func (s *idSet) has(id string) bool {
	s.mu.Lock()
	_, ok := s.ids[id]
	s.mu.Unlock()
	return ok
}

func (s *idSet) add(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if old := s.ring[s.next]; old != "" {
			delete(s.ids, old)
		}
		s.ring[s.next] = id
		s.ids[id] = struct{}{}
		s.next = (s.next + 1) % len(s.ring)
	}
}
