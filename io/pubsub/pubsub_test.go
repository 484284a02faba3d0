package pubsub_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"google.golang.org/protobuf/proto"

	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.Function2x1(describe)
}

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	testenv.StopShared()
	os.Exit(code)
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		addr, kind string
		want       pubsub.Name
		err        bool
	}{
		{addr: "pubsub://projects/p1/subscriptions/orders-sub", kind: "subscriptions", want: pubsub.Name{Project: "p1", Kind: "subscriptions", ID: "orders-sub"}},
		{addr: "pubsub://projects/p1/topics/orders", kind: "topics", want: pubsub.Name{Project: "p1", Kind: "topics", ID: "orders"}},
		{addr: "pubsub://projects/p1/topics/orders", kind: "subscriptions", err: true},
		{addr: "projects/p1/topics/orders", kind: "topics", err: true},
		{addr: "pubsub://projects//topics/orders", kind: "topics", err: true},
		{addr: "pubsub://projects/p1/topics/ab", kind: "topics", err: true},
		{addr: "pubsub://projects/p1/topics/goog-x", kind: "topics", err: true},
		{addr: "pubsub://projects/p1/topics/orders/extra", kind: "topics", err: true},
	}
	for _, tt := range tests {
		parse := pubsub.ParseTopic
		if tt.kind == "subscriptions" {
			parse = pubsub.ParseSubscription
		}
		got, err := parse(tt.addr)
		if (err != nil) != tt.err {
			t.Errorf("parse(%q) error = %v, want error %v", tt.addr, err, tt.err)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parse(%q) = %+v, want %+v", tt.addr, got, tt.want)
		}
		if err == nil && got.String() != tt.addr {
			t.Errorf("parse(%q).String() = %q", tt.addr, got.String())
		}
	}
}

// publish sends n JSON orders with ids from first, an id attribute and an event-time
// attribute, and waits for all of them.
func publish(t testing.TB, c *gpubsub.Client, topic string, first, n int, base time.Time) {
	t.Helper()
	msgs := make([]*gpubsub.Message, 0, n)
	for i := first; i < first+n; i++ {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		data := fmt.Sprintf(`{"order_id":"o-%06d","amount":"%d.50","currency":"EUR"}`, i, i%500)
		msgs = append(msgs, &gpubsub.Message{Data: []byte(data), Attributes: map[string]string{
			"order_id": fmt.Sprintf("o-%06d", i), "ts": ts.Format(time.RFC3339Nano),
		}})
	}
	testenv.Publish(t, c, topic, msgs)
}

// recordIDs are the record_id attributes of msgs.
func recordIDs(msgs []*pubsubpb.PubsubMessage) []string {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.GetAttributes()[pubsub.AttrRecordID]
	}
	return ids
}

// drain pulls and acks everything on sub until it has been quiet for quiet, and returns the
// record_id attribute of each message received, repeats included.
func drain(t testing.TB, c *gpubsub.Client, sub string, quiet time.Duration) []string {
	t.Helper()
	msgs, _ := testenv.Collect(t, c, sub).Stop(quiet)
	return recordIDs(msgs)
}

var orders = tag.Source{Name: "orders", Kind: "order", Format: "json"}

// relay is the streaming pipeline under test: subscription → tag → clean → topic, with the
// clean failures returned.
func relay(s beam.Scope, sub, topic string, opts ...pubsub.ReadOption) {
	recs, _ := pubsub.Read(s, sub, append([]pubsub.ReadOption{pubsub.IDAttribute("order_id"), pubsub.TimestampAttribute("ts")}, opts...)...)
	ok, _ := clean.Apply(s, tag.Records(s, orders, recs), clean.Spec{
		Parse: &clean.ParseSpec{Format: "json"},
		Rules: []clean.Rule{{Field: "order_id", Required: true}},
	})
	pubsub.Write(s, topic, pubsub.Records(s, ok))
}

func counter(res beam.PipelineResult, name string) int64 {
	var n int64
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace == record.MetricNamespace && c.Key.Name == name {
			n += c.Committed
		}
	}
	return n
}

func TestRelayExactlyOnceAndAcked(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "relay-in", "relay-in-sub", 10)
	outTopic, outSub := emu.TopicWithSubscription(t, c, "relay-out", "relay-out-sub", 60)
	const n = 3000
	publish(t, c, inTopic, 0, n, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))

	p, s := beam.NewPipelineWithRoot()
	relay(s, "pubsub://"+inSub, "pubsub://"+outTopic, pubsub.StopWhenIdle(3*time.Second), pubsub.Parallelism(2))
	res, err := prism.Execute(context.Background(), p)
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	ids := drain(t, c, outSub, 3*time.Second)
	checkAllOnce(t, ids, 0, n)
	if got := counter(res, "relay-in-sub/pubsub.Read/read"); got != n {
		t.Errorf("read = %d, want %d", got, n)
	}
	if got := counter(res, "relay-in-sub/pubsub.Read/acked"); got != n {
		t.Errorf("acked = %d, want %d: every message is acked once its bundle is committed", got, n)
	}
	if got := counter(res, "orders/pubsub.Write/written"); got != n {
		t.Errorf("written = %d, want %d", got, n)
	}
	// Every message was acked: once the ack deadline has passed, an unacked one would be
	// delivered again.
	time.Sleep(11 * time.Second)
	if left := drain(t, c, inSub, time.Second); len(left) != 0 {
		t.Errorf("%d messages were left unacked on the input", len(left))
	}
}

// checkAllOnce asserts ids hold o-first … o-(first+n-1), each exactly once.
func checkAllOnce(t *testing.T, ids []string, first, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	var missing, twice []string
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("o-%06d", i)
		switch seen[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			twice = append(twice, id)
		}
		delete(seen, id)
	}
	if len(missing) > 0 || len(twice) > 0 || len(seen) > 0 {
		t.Errorf("got %d messages: %d missing (e.g. %v), %d more than once (e.g. %v), %d unexpected",
			len(ids), len(missing), head(missing), len(twice), head(twice), len(seen))
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

func TestReadTimestampsAndAttributes(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "attrs-in", "attrs-in-sub", 60)
	ctx := context.Background()
	pub := c.Publisher(inTopic)
	for _, m := range []*gpubsub.Message{
		{Data: []byte(`{"a":1}`), Attributes: map[string]string{"order_id": "x1", "ts": "2026-11-22T10:00:00Z"}},
		{Data: []byte(`{"a":2}`), Attributes: map[string]string{"order_id": "x2", "ts": "1795341600000"}},
		{Data: []byte(`{"a":3}`), Attributes: map[string]string{"order_id": "x3", "ts": "yesterday"}},
	} {
		if _, err := pub.Publish(ctx, m).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pub.Stop()

	p, s := beam.NewPipelineWithRoot()
	recs, _ := pubsub.Read(s, "pubsub://"+inSub, pubsub.IDAttribute("order_id"), pubsub.TimestampAttribute("ts"), pubsub.StopWhenIdle(2*time.Second), pubsub.Parallelism(1))
	got := beam.ParDo(s, describe, recs)
	passert.Equals(s, got,
		`x1 2026-11-22T10:00:00Z 2026-11-22T10:00:00Z {"a":1} bad=`,
		`x2 2026-11-22T10:00:00Z 2026-11-22T10:00:00Z {"a":2} bad=`,
		`x3 publish 0001-01-01T00:00:00Z {"a":3} bad=ts`,
	)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}

// describe renders what Read made of a message: id, element timestamp (or "publish" when it
// is the publish time, which the test cannot know), EventTime, data and the bad-time flag.
func describe(ts beam.EventTime, r record.Record) string {
	et := ts.ToTime().UTC().Format(time.RFC3339)
	if r.EventTime.IsZero() {
		et = "publish"
	}
	return fmt.Sprintf("%s %s %s %s bad=%s", r.ID, et, r.EventTime.UTC().Format(time.RFC3339), r.Payload, r.Attributes["beamline_bad_timestamp"])
}

// TestRestartAfterCancel cancels a running relay part way through and starts it again: every
// message arrives at least once, because a message is acked only after its bundle — which
// includes the publish — committed, and the cancelled job's unacked messages come back after
// the ack deadline.
func TestRestartAfterCancel(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	ctx := context.Background()
	// The shortest ack deadline Pub/Sub allows, so the cancelled job's messages return soon.
	inTopic, inSub := emu.TopicWithSubscription(t, c, "restart-in", "restart-in-sub", 10)
	outTopic, outSub := emu.TopicWithSubscription(t, c, "restart-out", "restart-out-sub", 60)
	const n = 20000
	publish(t, c, inTopic, 0, n, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))

	// Collect the output concurrently, to cancel the first run once part has arrived.
	col := testenv.Collect(t, c, outSub)
	count := col.Count
	runCtx, cancel := context.WithCancel(ctx)
	p1, s1 := beam.NewPipelineWithRoot()
	relay(s1, "pubsub://"+inSub, "pubsub://"+outTopic, pubsub.Parallelism(2))
	first := make(chan error, 1)
	go func() { _, err := prism.Execute(runCtx, p1); first <- err }()
	deadline := time.Now().Add(2 * time.Minute)
	for count() < n/10 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	atCancel := count()
	cancelled := time.Now()
	cancel()
	<-first
	t.Logf("cancelled at %d delivered; the run ended %s later with %d delivered", atCancel, time.Since(cancelled), count())
	atCancel = count()
	if atCancel >= n {
		t.Fatalf("the first run delivered all %d messages before it was cancelled; the test needs more", n)
	}

	p2, s2 := beam.NewPipelineWithRoot()
	relay(s2, "pubsub://"+inSub, "pubsub://"+outTopic, pubsub.Parallelism(2), pubsub.StopWhenIdle(15*time.Second))
	if _, err := prism.Execute(ctx, p2); err != nil {
		t.Fatalf("second run: %v", err)
	}
	msgs, _ := col.Stop(3 * time.Second)
	ids := recordIDs(msgs)
	t.Logf("first run delivered %d of %d before it was cancelled; %d messages in all after the restart", atCancel, n, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	var missing []string
	for i := 0; i < n; i++ {
		if id := fmt.Sprintf("o-%06d", i); !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d messages were lost across the restart, e.g. %v", len(missing), n, head(missing))
	}
}

// TestEmulatorRestart kills the Pub/Sub service under a running relay and starts it again.
// The emulator keeps nothing across a restart (no topics, no messages, whatever --data-dir
// says), so what can hold — and is checked — is that the relay rides out the outage without
// failing, loses nothing it had taken before the kill, and carries on with what is published
// after the restart.
func TestEmulatorRestart(t *testing.T) {
	emu, err := testenv.StartPubSub("beamline-restart")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Stop()
	emu.Env(t)
	c := emu.Client(t)
	setup := func() (string, string, string) {
		in, inSub := emu.TopicWithSubscription(t, c, "outage-in", "outage-in-sub", 60)
		out, outSub := emu.TopicWithSubscription(t, c, "outage-out", "outage-out-sub", 60)
		_ = in
		return inSub, out, outSub
	}
	inSub, outTopic, outSub := setup()
	inTopic := "projects/beamline-restart/topics/outage-in"
	const n = 3000
	publish(t, c, inTopic, 0, n, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	before := testenv.Collect(t, c, outSub)

	p, s := beam.NewPipelineWithRoot()
	relay(s, "pubsub://"+inSub, "pubsub://"+outTopic, pubsub.Parallelism(2), pubsub.StopWhenIdle(45*time.Second))
	done := make(chan error, 1)
	var res beam.PipelineResult
	go func() { var err error; res, err = prism.Execute(context.Background(), p); done <- err }()
	deadline := time.Now().Add(2 * time.Minute)
	for before.Count() < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	first, _ := before.Stop(500 * time.Millisecond)
	checkAllOnce(t, recordIDs(first), 0, n)

	if err := emu.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the relay pulls against a service without its subscription
	setup()
	after := testenv.Collect(t, c, outSub)
	publish(t, c, inTopic, n, n, time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC))
	if err := <-done; err != nil {
		t.Fatalf("the relay failed across the restart: %v", err)
	}
	second, _ := after.Stop(time.Second)
	for _, c := range res.Metrics().AllMetrics().Counters() {
		t.Logf("%s = %d", c.Key.Name, c.Committed)
	}
	checkAllOnce(t, recordIDs(second), n, n)
}

// TestRelayThroughJobAPI submits the relay through the portable Job API (--runner=universal),
// the path a Flink job server takes, with prism as the job server and a LOOPBACK worker: the
// reader's splittable DoFn, its checkpoints and acks work there as on embedded prism.
func TestRelayThroughJobAPI(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "jobapi-in", "jobapi-in-sub", 60)
	outTopic, outSub := emu.TopicWithSubscription(t, c, "jobapi-out", "jobapi-out-sub", 60)
	const n = 2000
	publish(t, c, inTopic, 0, n, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	col := testenv.Collect(t, c, outSub)

	endpoint := testenv.PrismJobServer(t)
	// RunConfig sets Beam's global job flags; put them back for the other tests.
	defer func(e, env string) { *jobopts.Endpoint, *jobopts.EnvironmentType = e, env }(*jobopts.Endpoint, *jobopts.EnvironmentType)
	p, s := beam.NewPipelineWithRoot()
	relay(s, "pubsub://"+inSub, "pubsub://"+outTopic, pubsub.StopWhenIdle(3*time.Second))
	cfg := runners.Config{Runner: "universal", Endpoint: endpoint, EnvironmentType: "LOOPBACK", JobName: "pubsub-relay"}
	if _, err := runners.RunConfig(context.Background(), p, cfg, nil); err != nil {
		t.Fatalf("relay through the Job API at %s: %v", endpoint, err)
	}
	msgs, _ := col.Stop(2 * time.Second)
	checkAllOnce(t, recordIDs(msgs), 0, n)
}

// TestDataflowExpandsToNativeRead checks the pipeline Dataflow would be sent: with Native the
// read expands to Beam's runner-native Pub/Sub read (the transform Dataflow replaces with its
// own), without it to the portable splittable reader.
func TestDataflowExpandsToNativeRead(t *testing.T) {
	for _, native := range []bool{true, false} {
		p, s := beam.NewPipelineWithRoot()
		recs, _ := pubsub.Read(s, "pubsub://projects/p1/subscriptions/orders-sub", pubsub.Native(native))
		pubsub.Write(s, "pubsub://projects/p1/topics/orders-out", pubsub.Records(s, recs))
		edges, _, err := p.Build()
		if err != nil {
			t.Fatal(err)
		}
		pb, err := graphx.Marshal(edges, &graphx.Options{Environment: &pipepb.Environment{Urn: "beam:env:docker:v1"}})
		if err != nil {
			t.Fatal(err)
		}
		var nativeRead, sdf bool
		for _, tr := range pb.GetComponents().GetTransforms() {
			nativeRead = nativeRead || tr.GetSpec().GetUrn() == "beam:transform:pubsub_read:v1"
			if tr.GetSpec().GetUrn() == "beam:transform:pardo:v1" {
				var pd pipepb.ParDoPayload
				if err := proto.Unmarshal(tr.GetSpec().GetPayload(), &pd); err != nil {
					t.Fatal(err)
				}
				sdf = sdf || pd.GetRestrictionCoderId() != "" // a splittable DoFn
			}
		}
		if nativeRead != native || sdf == native {
			t.Errorf("Native(%v): native pubsub_read = %v, portable reader = %v", native, nativeRead, sdf)
		}
	}
}
