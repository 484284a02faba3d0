package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/bigquery"
)

// TestStreaming publishes access-log lines (one of them bad) to the Pub/Sub emulator, runs
// the streaming job on prism until the subscription is idle, and requires the per-minute
// summaries to account for every line: read = parsed + dead in each window, and in total
// the lines published, with the bad one dead and the 5xx burst alarmed.
func TestStreaming(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	topic, sub := emu.TopicWithSubscription(t, c, "logs-in", "logs-in-sub", 60)
	now := time.Now().UTC()
	var msgs []*gpubsub.Message
	const n = 60
	for i := range n {
		status := 200
		if i%4 == 0 {
			status = 503 // 25% of a minute's requests: an alarm
		}
		msgs = append(msgs, &gpubsub.Message{Data: fmt.Appendf(nil,
			`10.0.0.%d - - [%s] "GET /p/%d HTTP/1.1" %d 10 "-" "curl/8.0"`, i%5, now.Format("02/Jan/2006:15:04:05 -0700"), i%3, status)})
	}
	msgs = append(msgs, &gpubsub.Message{Data: []byte("not a log line")})
	testenv.Publish(t, c, topic, msgs)

	out := t.TempDir()
	o := Options{Input: "pubsub://" + sub, Output: out, Format: "combined", Top: 10, ErrorRate: 0.05, MinRequests: 20, WriteHits: true}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	BuildStream(s, o, 5*time.Second)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(out, "windows", "*", "summary.json"))
	if len(names) == 0 {
		t.Fatalf("no windows/*/summary.json under %s", out)
	}
	var read, parsed, dead, requests, errors int64
	var alarms int
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var sum Summary
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		if !sum.Balanced {
			t.Errorf("%s: read %d != parsed %d + dead %d", name, sum.LinesRead, sum.Parsed, sum.Dead)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(name), "report.html")); err != nil {
			t.Error(err)
		}
		read, parsed, dead, requests = read+sum.LinesRead, parsed+sum.Parsed, dead+sum.Dead, requests+sum.Requests
		errors += sum.Status["503"]
		alarms += len(sum.Alarms)
	}
	if read != n+1 || parsed != n || dead != 1 || requests != n || errors != n/4 {
		t.Errorf("over %d windows: read %d, parsed %d, dead %d, requests %d, 503s %d; want %d, %d, 1, %d, %d",
			len(names), read, parsed, dead, requests, errors, n+1, n, n, n/4)
	}
	t.Logf("%d windows: read %d, parsed %d, dead %d, alarms %d", len(names), read, parsed, dead, alarms)
	if alarms == 0 {
		t.Errorf("no alarm for a minute with 25%% 503s")
	}
	hits, _ := filepath.Glob(filepath.Join(out, "hits", "*", "*", "*", "*.jsonl"))
	deadFiles, _ := filepath.Glob(filepath.Join(out, "dead", "*", "*", "*", "*.jsonl"))
	if len(hits) == 0 || len(deadFiles) == 0 {
		t.Errorf("hit files %v, dead files %v: want some of each", hits, deadFiles)
	}
}

// TestStreamingToBigQuery streams access-log lines from the Pub/Sub emulator into a table of
// the BigQuery emulator and the bad line into a dead-letter table, and requires the
// per-minute summaries under --report_dir to balance and to count what the table holds.
func TestStreamingToBigQuery(t *testing.T) {
	emu := testenv.PubSub(t)
	b := testenv.BigQuery(t)
	b.Env(t)
	c := emu.Client(t)
	topic, sub := emu.TopicWithSubscription(t, c, "logs-bq-in", "logs-bq-in-sub", 60)
	now := time.Now().UTC()
	const n = 40
	var msgs []*gpubsub.Message
	for i := range n {
		status := 200
		if i%5 == 0 {
			status = 404
		}
		msgs = append(msgs, &gpubsub.Message{Data: fmt.Appendf(nil,
			`10.0.0.%d - - [%s] "GET /p/%d HTTP/1.1" %d 10 "-" "curl/8.0"`, i%5, now.Format("02/Jan/2006:15:04:05 -0700"), i%3, status)})
	}
	msgs = append(msgs, &gpubsub.Message{Data: []byte("not a log line")})
	testenv.Publish(t, c, topic, msgs)

	hits := bigquery.Table{Project: b.Project, Dataset: b.Dataset, Table: "stream_hits"}
	dead := bigquery.Table{Project: b.Project, Dataset: b.Dataset, Table: "stream_dead"}
	reports := t.TempDir()
	o := Options{Input: "pubsub://" + sub, Output: hits.String(), ReportDir: reports, DeadLetter: dead.String(),
		Format: "combined", Top: 10, ErrorRate: 0.05, MinRequests: 20, WriteHits: true}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	BuildStream(s, o, 5*time.Second)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(reports, "windows", "*", "summary.json"))
	if len(names) == 0 {
		t.Fatalf("no windows/*/summary.json under %s", reports)
	}
	var read, parsed, deadN, notFound int64
	for _, name := range names {
		sum := readSummary(t, name)
		if !sum.Balanced {
			t.Errorf("%s: read %d != parsed %d - refused %d + dead %d", name, sum.LinesRead, sum.Parsed, sum.SinkRefused, sum.Dead)
		}
		read, parsed, deadN, notFound = read+sum.LinesRead, parsed+sum.Parsed-sum.SinkRefused, deadN+sum.Dead, notFound+sum.Status["404"]
	}
	if read != n+1 || parsed != n || deadN != 1 || notFound != n/5 {
		t.Errorf("over %d windows: read %d, written %d, dead %d, 404s %d; want %d, %d, 1, %d", len(names), read, parsed, deadN, notFound, n+1, n, n/5)
	}
	if got := b.Query(t, "SELECT COUNT(*) FROM "+hits.SQL())[0][0].(int64); got != parsed {
		t.Errorf("%s has %d rows, want the summaries' %d", hits, got, parsed)
	}
	if got := b.Query(t, "SELECT COUNT(*) FROM "+hits.SQL()+" WHERE status = 404")[0][0].(int64); got != notFound {
		t.Errorf("%s has %d rows of status 404, want the summaries' %d", hits, got, notFound)
	}
	rows := b.Query(t, "SELECT source, payload_string FROM "+dead.SQL())
	if len(rows) != 1 || rows[0][0] != SourceName || rows[0][1] != "not a log line" {
		t.Errorf("%s holds %v, want the one bad line of source %s", dead, rows, SourceName)
	}
}
