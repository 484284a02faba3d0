package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"

	"github.com/beamline/beamline/internal/dev/testenv"
)

// count runs a one-value query against the emulator.
func count(t *testing.T, b *testenv.BQ, sql string) int64 {
	t.Helper()
	rows := b.Query(t, sql)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: got %v", sql, rows)
	}
	return rows[0][0].(int64)
}

// TestStreamingIngestToBigQuery streams orders into a BigQuery table and the bad ones into a
// dead-letter table, both created by the job.
func TestStreamingIngestToBigQuery(t *testing.T) {
	emu := testenv.PubSub(t)
	b := testenv.BigQuery(t)
	b.Env(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "bq-in", "bq-in-sub", 60)
	msgs := orderMessages(0, 2000, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	msgs = append(msgs, &gpubsub.Message{Data: []byte(`not json`)}, &gpubsub.Message{Data: []byte(`{"amount":"1.00","currency":"EUR","created_at":"2026-11-21T10:00:00Z"}`)})
	testenv.Publish(t, c, inTopic, msgs)

	table := fmt.Sprintf("bq://%s.%s.orders", b.Project, b.Dataset)
	errors := fmt.Sprintf("bq://%s.%s.errors", b.Project, b.Dataset)
	setFlags(t, writeSources(t), "pubsub://"+inSub, table, errors, 3*time.Second)
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, b, fmt.Sprintf("SELECT COUNT(*) FROM `%s.%s.orders`", b.Project, b.Dataset)); n != 2000 {
		t.Errorf("orders table has %d rows, want 2000", n)
	}
	if n := count(t, b, fmt.Sprintf("SELECT COUNT(DISTINCT id) FROM `%s.%s.orders` WHERE source = 'orders'", b.Project, b.Dataset)); n != 2000 {
		t.Errorf("orders table has %d distinct ids, want 2000", n)
	}
	if n := count(t, b, fmt.Sprintf("SELECT COUNT(*) FROM `%s.%s.errors` WHERE reason IN ('json_syntax', 'missing_field:order_id')", b.Project, b.Dataset)); n != 2 {
		t.Errorf("errors table has %d of the 2 bad messages", n)
	}
}

// TestBatchIngestToBigQuery loads the testdata sources into BigQuery by load jobs.
func TestBatchIngestToBigQuery(t *testing.T) {
	b := testenv.BigQuery(t)
	b.Env(t)
	table := fmt.Sprintf("bq://%s.%s.records", b.Project, b.Dataset)
	errors := fmt.Sprintf("bq://%s.%s.errors", b.Project, b.Dataset)
	setFlags(t, sources, "", table, errors, 0)
	old := *stagingFlag
	*stagingFlag = t.TempDir()
	t.Cleanup(func() { *stagingFlag = old })
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ok, dead int64
	for _, s := range want {
		ok += s.OK
		dead += s.Dead + s.Duplicates
	}
	if n := count(t, b, fmt.Sprintf("SELECT COUNT(*) FROM `%s.%s.records`", b.Project, b.Dataset)); n != ok {
		t.Errorf("records table has %d rows, want %d (the summary's ok)", n, ok)
	}
	if n := count(t, b, fmt.Sprintf("SELECT COUNT(*) FROM `%s.%s.errors`", b.Project, b.Dataset)); n != dead {
		t.Errorf("errors table has %d rows, want %d (dead and duplicates)", n, dead)
	}
}
