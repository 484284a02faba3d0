package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/transforms/record"
)

// streamSources is a one-source config for the streaming tests; --input supplies the
// subscription.
const streamSources = `
- name: orders
  kind: order
  format: json
  glob: unused/*.jsonl
  event_time: {field: created_at, format: rfc3339}
  rules:
    - {field: order_id, required: true, type: string}
  normalise:
    money: [{amount: amount, currency: currency}]
`

// setFlags sets the ingest flags for one test and restores them after it.
func setFlags(t *testing.T, sources, input, output, dead string, idle time.Duration) {
	t.Helper()
	old := []string{*sourcesFlag, *inputFlag, *outputFlag, *deadFlag}
	oldIdle := *idleFlag
	t.Cleanup(func() {
		*sourcesFlag, *inputFlag, *outputFlag, *deadFlag = old[0], old[1], old[2], old[3]
		*idleFlag = oldIdle
	})
	*sourcesFlag, *inputFlag, *outputFlag, *deadFlag, *idleFlag = sources, input, output, dead, idle
}

func writeSources(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(p, []byte(streamSources), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// orderMessages are n valid orders created a second apart from base.
func orderMessages(first, n int, base time.Time) []*gpubsub.Message {
	msgs := make([]*gpubsub.Message, 0, n)
	for i := first; i < first+n; i++ {
		msgs = append(msgs, &gpubsub.Message{Data: fmt.Appendf(nil,
			`{"order_id":"o-%06d","amount":"%d.25","currency":"EUR","created_at":"%s"}`,
			i, i%300, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))})
	}
	return msgs
}

func readSummary(t *testing.T, path string) Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestStreamingIngest100k is the end-to-end check: 100k messages from the emulator
// through tag and clean to another topic on prism, every one arriving exactly once.
func TestStreamingIngest100k(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "ingest-in", "ingest-in-sub", 60)
	_, outSub := emu.TopicWithSubscription(t, c, "ingest-out", "ingest-out-sub", 60)
	const n = 100_000
	testenv.Publish(t, c, inTopic, orderMessages(0, n, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)))
	col := testenv.Collect(t, c, outSub)

	dead := t.TempDir()
	setFlags(t, writeSources(t), "pubsub://"+inSub, "pubsub://projects/"+emu.Project+"/topics/ingest-out", dead, 5*time.Second)
	start := time.Now()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs, _ := col.Stop(2 * time.Second)
	t.Logf("%d messages relayed in %s", len(msgs), time.Since(start))

	seen := make(map[string]int, n)
	for _, m := range msgs {
		var r struct {
			Data struct {
				OrderID string `json:"order_id"`
				Amount  int64  `json:"amount"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.GetData(), &r); err != nil {
			t.Fatalf("output message is not a clean record: %v: %s", err, m.GetData())
		}
		seen[r.Data.OrderID]++
		if m.GetAttributes()[pubsub.AttrSource] != "orders" || m.GetAttributes()[pubsub.AttrRecordID] == "" {
			t.Fatalf("output message lacks source or record_id attributes: %v", m.GetAttributes())
		}
	}
	var missing, twice int
	for i := 0; i < n; i++ {
		switch seen[fmt.Sprintf("o-%06d", i)] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if missing > 0 || twice > 0 || len(msgs) != n {
		t.Errorf("received %d messages for %d orders: %d missing, %d more than once", len(msgs), n, missing, twice)
	}
	sum := readSummary(t, filepath.Join(dead, "summary.json"))
	want := []SourceSummary{{Source: "orders", Read: n, OK: n, DeadBy: map[string]int64{}, Balanced: true}}
	if diff := cmp.Diff(want, sum.Sources); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// TestStreamingIngestToFiles streams good and bad orders to window-aware files: clean records
// land per source, event date and hour, failures in the dead letter with their reasons.
func TestStreamingIngestToFiles(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "files-in", "files-in-sub", 60)
	// 7200 orders a second apart: two event hours, ending an hour ago. Event time must be
	// recent: once the reader has been idle its watermark is the wall clock, and orders
	// older than the allowed lateness (24 h) are then dropped by the file windows (a fixed
	// date made this test fail from the day after it was written).
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	msgs := orderMessages(0, 7200, start)
	msgs = append(msgs,
		&gpubsub.Message{Data: []byte(`{"order_id":`)},
		&gpubsub.Message{Data: fmt.Appendf(nil, `{"amount":"1.00","currency":"EUR","created_at":%q}`, start.Format(time.RFC3339))},
		&gpubsub.Message{Data: fmt.Appendf(nil, `{"order_id":"x","amount":"1.00","currency":"XXY","created_at":%q}`, start.Format(time.RFC3339))},
	)
	// Two orders three days old, beyond the allowed lateness: the file windows would drop
	// them, so they must reach the dead letter as too_late instead.
	msgs = append(msgs, orderMessages(9000, 2, start.Add(-72*time.Hour))...)
	testenv.Publish(t, c, inTopic, msgs)

	out := t.TempDir()
	setFlags(t, writeSources(t), "pubsub://"+inSub, out, "", 3*time.Second)
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, filepath.Join(out, "clean"))
	perHour := map[string]int{}
	for p, b := range files {
		rel, _ := filepath.Rel(out, p)
		dir := filepath.Dir(rel)
		perHour[dir] += bytes.Count(b, []byte("\n"))
		if name := filepath.Base(p); (!strings.HasPrefix(name, "part-"+start.Format("20060102T")) &&
			!strings.HasPrefix(name, "part-"+start.Add(time.Hour).Format("20060102T"))) || !strings.HasSuffix(p, ".jsonl") {
			t.Errorf("file %s is not named part-<window>-<pane>-<shard>-of-<n>.jsonl", rel)
		}
	}
	hourDir := func(t time.Time) string {
		return "clean/source=orders/dt=" + t.Format("2006-01-02") + "/hour=" + t.Format("15")
	}
	wantHours := map[string]int{hourDir(start): 3600, hourDir(start.Add(time.Hour)): 3600}
	if diff := cmp.Diff(wantHours, perHour); diff != "" {
		t.Errorf("clean lines per directory (-want +got):\n%s", diff)
	}
	// One file per one-minute window, or more: on a loaded machine the watermark can pass a
	// window's end before all its records are through, and those records then fire a late
	// pane of their own (a file more, and no record lost: the line counts above hold).
	windows := map[string]bool{}
	for p := range files {
		f := strings.SplitN(strings.TrimPrefix(filepath.Base(p), "part-"), "-", 3)
		windows[f[0]+"-"+f[1]] = true
	}
	if len(windows) != 120 || len(files) < 120 {
		t.Errorf("%d clean files over %d windows, want 120 windows of one minute", len(files), len(windows))
	}
	var reasons []string
	for _, b := range readDir(t, filepath.Join(out, "dead")) {
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var f record.Failure
			if err := json.Unmarshal(line, &f); err != nil {
				t.Fatal(err)
			}
			reasons = append(reasons, f.Reason)
		}
	}
	sort.Strings(reasons)
	if diff := cmp.Diff([]string{"json_truncated", "missing_field:order_id", "too_late:created_at", "too_late:created_at", "unknown_currency:currency"}, reasons); diff != "" {
		t.Errorf("dead-letter reasons (-want +got):\n%s", diff)
	}
	sum := readSummary(t, filepath.Join(out, "summary.json"))
	if s := sum.Sources[0]; s.Read != 7205 || s.OK != 7200 || s.Dead != 5 || !s.Balanced {
		t.Errorf("summary = %+v, want read 7205 = ok 7200 + dead 5", s)
	}
}
