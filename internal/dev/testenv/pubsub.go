package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// PubSubEmulator is the official Pub/Sub emulator (google-cloud-cli, Java) on a loopback
// port. Clients of cloud.google.com/go/pubsub reach it through PUBSUB_EMULATOR_HOST.
type PubSubEmulator struct {
	Host    string // 127.0.0.1:PORT
	Project string

	mu  sync.Mutex
	cmd *exec.Cmd
	log bytes.Buffer
}

// StartPubSub starts the emulator on a free loopback port and waits until it answers; Stop
// ends it. It is for TestMain and benchmarks, which share one emulator (it takes ~3 s and ~1 GB
// to start); tests use PubSub.
func StartPubSub(project string) (*PubSubEmulator, error) {
	if _, err := exec.LookPath("gcloud"); err != nil {
		return nil, fmt.Errorf("testenv: gcloud is not on PATH; the Pub/Sub emulator comes with google-cloud-cli (component pubsub-emulator, Java 17): %w", err)
	}
	port, err := pickPubSubPort()
	if err != nil {
		return nil, err
	}
	e := &PubSubEmulator{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Project: project}
	if err := e.start(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *PubSubEmulator) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start", "--host-port="+e.Host, "--quiet", "--verbosity=error")
	cmd.Stdout, cmd.Stderr = &e.log, &e.log
	// gcloud starts java as a child: a process group lets Stop end both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testenv: starting the Pub/Sub emulator: %w", err)
	}
	e.cmd = cmd
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if pubsubReady(e.Host) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.killLocked()
	return fmt.Errorf("testenv: the Pub/Sub emulator did not answer on %s within 60s; its output:\n%s", e.Host, e.log.String())
}

// pubsubReady reports whether the emulator serves HTTP on host (it answers "Ok" on /).
func pubsubReady(host string) bool {
	c, err := net.DialTimeout("tcp", host, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\n\r\n")
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	return bytes.HasPrefix(buf[:n], []byte("HTTP/1."))
}

func (e *PubSubEmulator) killLocked() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	e.cmd.Wait()
	e.cmd = nil
}

// Stop kills the emulator and everything it started. Its topics and messages are gone.
func (e *PubSubEmulator) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.killLocked()
}

// Restart kills the emulator and starts a fresh one on the same port: the emulator keeps
// nothing on disk, so topics and subscriptions must be created again.
func (e *PubSubEmulator) Restart() error {
	e.Stop()
	return e.start()
}

// Env points PUBSUB_EMULATOR_HOST at the emulator for the rest of the test.
func (e *PubSubEmulator) Env(t testing.TB) {
	t.Helper()
	t.Setenv("PUBSUB_EMULATOR_HOST", e.Host)
}

// Client is a Pub/Sub client of the emulator, closed when the test ends.
func (e *PubSubEmulator) Client(t testing.TB) *pubsub.Client {
	t.Helper()
	os.Setenv("PUBSUB_EMULATOR_HOST", e.Host)
	c, err := pubsub.NewClient(context.Background(), e.Project)
	if err != nil {
		t.Fatalf("pubsub client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TopicWithSubscription creates topic and a subscription to it with the given ack deadline
// (10 to 600 s; a bundle must be committed and acked within it, or the message is
// redelivered) and returns their full names.
func (e *PubSubEmulator) TopicWithSubscription(t testing.TB, c *pubsub.Client, topic, sub string, ackDeadlineSeconds int32) (topicName, subName string) {
	t.Helper()
	ctx := context.Background()
	topicName = fmt.Sprintf("projects/%s/topics/%s", e.Project, topic)
	subName = fmt.Sprintf("projects/%s/subscriptions/%s", e.Project, sub)
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName}); err != nil {
		t.Fatalf("create topic %s: %v", topicName, err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: subName, Topic: topicName, AckDeadlineSeconds: ackDeadlineSeconds,
		MessageRetentionDuration: durationpb.New(time.Hour),
	}); err != nil {
		t.Fatalf("create subscription %s: %v", subName, err)
	}
	return topicName, subName
}

var (
	sharedOnce sync.Once
	shared     *PubSubEmulator
	sharedErr  error
)

// PubSub returns the emulator shared by the tests of this binary, starting it on first use,
// and points PUBSUB_EMULATOR_HOST at it. A missing emulator fails the test: the machine image
// ships it, and a skipped test must never stand in for a missing service.
func PubSub(t testing.TB) *PubSubEmulator {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = StartPubSub("beamline-test") })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	shared.Env(t)
	return shared
}

// StopShared stops the emulator PubSub started, if any; TestMain calls it after m.Run.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

func pickPubSubPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Publish publishes msgs to topic (a full name, projects/P/topics/T) and waits for all.
func Publish(t testing.TB, c *pubsub.Client, topic string, msgs []*pubsub.Message) {
	t.Helper()
	p := c.Publisher(topic)
	defer p.Stop()
	p.PublishSettings.CountThreshold = 500
	ctx := context.Background()
	results := make([]*pubsub.PublishResult, len(msgs))
	for i, m := range msgs {
		results[i] = p.Publish(ctx, m)
	}
	for _, r := range results {
		if _, err := r.Get(ctx); err != nil {
			t.Fatalf("publish to %s: %v", topic, err)
		}
	}
}

// Collector pulls and acks a subscription in the background, keeping every message.
type Collector struct {
	mu   sync.Mutex
	msgs []*pubsubpb.PubsubMessage
	at   []time.Time
	quit chan struct{}
	done chan struct{}
}

// Collect starts a Collector on sub (a full name).
func Collect(t testing.TB, c *pubsub.Client, sub string) *Collector {
	col := &Collector{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(col.done)
		for {
			select {
			case <-col.quit:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 1000})
			cancel()
			if err != nil || len(resp.GetReceivedMessages()) == 0 {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			now := time.Now()
			acks := make([]string, 0, len(resp.GetReceivedMessages()))
			col.mu.Lock()
			for _, m := range resp.GetReceivedMessages() {
				acks = append(acks, m.GetAckId())
				col.msgs = append(col.msgs, m.GetMessage())
				col.at = append(col.at, now)
			}
			col.mu.Unlock()
			if err := c.SubscriptionAdminClient.Acknowledge(context.Background(), &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: acks}); err != nil {
				t.Errorf("ack on %s: %v", sub, err)
			}
		}
	}()
	return col
}

// Count is the number of messages received so far, repeats included.
func (col *Collector) Count() int {
	col.mu.Lock()
	defer col.mu.Unlock()
	return len(col.msgs)
}

// Stop waits until nothing has arrived for quiet, stops, and returns every message received
// with the time it was pulled.
func (col *Collector) Stop(quiet time.Duration) ([]*pubsubpb.PubsubMessage, []time.Time) {
	for n := -1; n != col.Count(); {
		n = col.Count()
		time.Sleep(quiet)
	}
	close(col.quit)
	<-col.done
	return col.msgs, col.at
}
