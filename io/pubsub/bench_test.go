package pubsub_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/pubsub"
)

// BenchmarkRelay runs Pub/Sub → tag → clean → Pub/Sub on prism against the emulator:
//
//	backlog: 100k messages published first, then drained; reports msgs/s.
//	paced:   20k messages published at 2,000/s while the pipeline runs; reports the
//	         end-to-end latency (publish → pulled from the output topic), p50 and p99.
//
// Run with -benchtime=1x: one iteration is one pipeline (make bench does).
func BenchmarkRelay(b *testing.B) {
	b.Run("backlog", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			msgs, took, _ := relayOnce(b, fmt.Sprintf("bb%d", i), 100_000, 0)
			b.ReportMetric(float64(msgs)/took.Seconds(), "msgs/s")
		}
	})
	b.Run("paced", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_, _, lat := relayOnce(b, fmt.Sprintf("bp%d", i), 20_000, 2000)
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		}
	})
}

// relayOnce publishes n messages (all first when rate is 0, else at rate per second while
// the pipeline runs) and returns how many arrived, the time from pipeline start to the last
// arrival, and the sorted latencies.
func relayOnce(b *testing.B, name string, n, rate int) (int, time.Duration, []time.Duration) {
	b.StopTimer()
	emu := testenv.PubSub(b)
	c := emu.Client(b)
	inTopic, inSub := emu.TopicWithSubscription(b, c, name+"-in", name+"-in-sub", 60)
	outTopic, outSub := emu.TopicWithSubscription(b, c, name+"-out", name+"-out-sub", 60)
	msg := func(i int) *gpubsub.Message {
		return &gpubsub.Message{
			Data:       fmt.Appendf(nil, `{"order_id":"o-%06d","amount":"%d.50","currency":"EUR"}`, i, i%500),
			Attributes: map[string]string{"order_id": fmt.Sprintf("o-%06d", i), "sent": strconv.FormatInt(time.Now().UnixNano(), 10)},
		}
	}
	if rate == 0 {
		all := make([]*gpubsub.Message, n)
		for i := range all {
			all[i] = msg(i)
		}
		testenv.Publish(b, c, inTopic, all)
	}
	col := testenv.Collect(b, c, outSub)
	p, s := beam.NewPipelineWithRoot()
	relay(s, "pubsub://"+inSub, "pubsub://"+outTopic, pubsub.StopWhenIdle(3*time.Second))
	b.StartTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := prism.Execute(context.Background(), p); done <- err }()
	if rate > 0 {
		pub := c.Publisher(inTopic)
		tick := time.NewTicker(time.Second / 100)
		for i := 0; i < n; {
			<-tick.C
			for j := 0; j < rate/100 && i < n; j, i = j+1, i+1 {
				pub.Publish(context.Background(), msg(i))
			}
		}
		tick.Stop()
		pub.Stop()
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	msgs, at := col.Stop(time.Second)
	b.StopTimer()
	if len(msgs) < n {
		b.Fatalf("%d of %d messages arrived", len(msgs), n)
	}
	last := start
	lat := make([]time.Duration, len(msgs))
	for i, m := range msgs {
		sent, _ := strconv.ParseInt(m.GetAttributes()["sent"], 10, 64)
		lat[i] = at[i].Sub(time.Unix(0, sent))
		if at[i].After(last) {
			last = at[i]
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return len(msgs), last.Sub(start), lat
}
