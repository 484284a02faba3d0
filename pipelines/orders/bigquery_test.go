package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	gpubsub "cloud.google.com/go/pubsub/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/internal/dev/ordergen"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/ratealarm"
)

// generated sums what the generated orders should put in the table.
type generated struct {
	orders, lines, qty, totalMinor int64
	days                           map[string]bool
}

func sumGenerated(t *testing.T, lines []string) generated {
	t.Helper()
	g := generated{days: map[string]bool{}}
	for _, l := range lines {
		var o struct {
			CreatedAt time.Time `json:"created_at"`
			Currency  string    `json:"currency"`
			Total     string    `json:"total"`
			Items     []struct {
				Qty int64 `json:"qty"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatal(err)
		}
		scale := 2
		if o.Currency == "jpy" {
			scale = 0
		}
		m, err := clean.MinorUnits(o.Total, scale)
		if err != nil {
			t.Fatal(err)
		}
		g.orders++
		g.totalMinor += m
		g.lines += int64(len(o.Items))
		for _, it := range o.Items {
			g.qty += it.Qty
		}
		g.days[o.CreatedAt.UTC().Format(time.DateOnly)] = true
	}
	return g
}

// TestBatchOrdersToBigQuery replays orders spanning midnight into a typed BigQuery history
// by a load job: one row per order with its lines as a REPEATED RECORD, amounts exact, the
// table partitioned by day on created_at; an order with a wrong total goes to the dead
// letter instead, and the summary balances (run fails otherwise).
func TestBatchOrdersToBigQuery(t *testing.T) {
	b := testenv.BigQuery(t)
	b.Env(t)
	bad := order("O-900001", "eur", `"25.98"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`)
	in, good := writeOrders(t, ordergen.Config{Seed: 5, Start: time.Date(2026, 11, 16, 23, 0, 0, 0, time.UTC), Span: 2 * time.Hour, PerMinute: 2, Anomalies: -1}, bad)
	want := sumGenerated(t, good)
	dir := t.TempDir()
	table := fmt.Sprintf("%s.%s.orders", b.Project, b.Dataset)
	setFlags(t, in, "bq://"+table, filepath.Join(dir, "dead"), filepath.Join(dir, "alerts"), filepath.Join(dir, "staging"))
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}

	sql := fmt.Sprintf("SELECT COUNT(*), COUNT(DISTINCT order_id), SUM(total_minor), SUM(ARRAY_LENGTH(items)), "+
		"SUM((SELECT SUM(it.quantity) FROM UNNEST(items) AS it)), COUNT(DISTINCT DATE(created_at)) FROM `%s`", table)
	got := b.Query(t, sql)
	wantRow := []bq.Value{want.orders, want.orders, want.totalMinor, want.lines, want.qty, int64(len(want.days))}
	if len(got) != 1 || !reflect.DeepEqual(got[0], wantRow) {
		t.Errorf("%s\n= %v, want %v (orders, distinct ids, Σ total_minor, Σ lines, Σ quantity, days)", sql, got, wantRow)
	}
	if len(want.days) != 2 {
		t.Errorf("generated orders span %d days, want 2 to see two partitions", len(want.days))
	}
	// NUMERIC columns hold the amount in major units at each currency's own scale, and every
	// order's total is the sum of its lines.
	sql = fmt.Sprintf("SELECT COUNTIF(CAST(total * IF(currency = 'JPY', 1, 100) AS INT64) != total_minor), "+
		"COUNTIF(total_minor != (SELECT SUM(it.quantity * it.unit_price_minor) FROM UNNEST(items) AS it)), "+
		"COUNTIF((SELECT COUNTIF(CAST(it.unit_price * IF(currency = 'JPY', 1, 100) AS INT64) != it.unit_price_minor) FROM UNNEST(items) AS it) > 0), "+
		"COUNTIF(order_id = 'O-900001') FROM `%s`", table)
	if got := b.Query(t, sql); len(got) != 1 || !reflect.DeepEqual(got[0], []bq.Value{int64(0), int64(0), int64(0), int64(0)}) {
		t.Errorf("%s\n= %v, want no mismatched amount and no bad order", sql, got)
	}

	c, err := bq.NewClient(context.Background(), b.Project, b.RESTOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	md, err := c.Dataset(b.Dataset).Table("orders").Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if md.TimePartitioning == nil || md.TimePartitioning.Field != "created_at" || md.TimePartitioning.Type != bq.DayPartitioningType {
		t.Errorf("partitioning = %+v, want DAY on created_at", md.TimePartitioning)
	}
	var items *bq.FieldSchema
	for _, f := range md.Schema {
		if f.Name == "items" {
			items = f
		}
	}
	if items == nil || !items.Repeated || items.Type != bq.RecordFieldType || len(items.Schema) != 4 {
		t.Errorf("items column = %+v, want a REPEATED RECORD of 4 fields", items)
	}

	dead := deadLetters(t, filepath.Join(dir, "dead"))
	if len(dead) != 1 || dead[0].Reason != "total_mismatch" || dead[0].PayloadString != bad {
		var reasons []string
		for _, f := range dead {
			reasons = append(reasons, f.Stage+"/"+f.Reason)
		}
		t.Errorf("dead letters = [%s], want the one total_mismatch with its payload", strings.Join(reasons, " "))
	}
}

// TestBatchAlertsToBigQuery raises threshold alarms over generated orders twice, to files and
// to a BigQuery table (--alerts=bq://…), and finds the same alerts in both.
func TestBatchAlertsToBigQuery(t *testing.T) {
	b := testenv.BigQuery(t)
	b.Env(t)
	in, _ := writeOrders(t, ordergen.Config{Seed: 6, Start: time.Date(2026, 11, 16, 23, 0, 0, 0, time.UTC), Span: 2 * time.Hour, PerMinute: 2, Anomalies: -1})
	oldDet, oldMax := *detectorFlag, *maxFlag
	*detectorFlag, *maxFlag = "threshold", 4
	t.Cleanup(func() { *detectorFlag, *maxFlag = oldDet, oldMax })
	describe := func(a ratealarm.Alert) string {
		return fmt.Sprintf("%s %s %s %s %.0f", a.WindowStart.UTC().Format(time.RFC3339), a.Key, a.Kind, a.Severity, a.Observed)
	}

	dir := t.TempDir()
	setFlags(t, in, filepath.Join(dir, "files"), "", "", "")
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, data := range readAll(t, filepath.Join(dir, "files", "alerts")) {
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			var a ratealarm.Alert
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatal(err)
			}
			want = append(want, describe(a))
		}
	}
	if len(want) == 0 {
		t.Fatal("the threshold raised no alert over the files: nothing to compare")
	}

	table := fmt.Sprintf("%s.%s.alerts", b.Project, b.Dataset)
	setFlags(t, in, filepath.Join(dir, "bq"), "", "bq://"+table, filepath.Join(dir, "staging"))
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range b.Query(t, fmt.Sprintf("SELECT window_start, key, kind, severity, observed FROM `%s`", table)) {
		got = append(got, describe(ratealarm.Alert{WindowStart: row[0].(time.Time), Key: row[1].(string), Kind: row[2].(string), Severity: row[3].(string), Observed: row[4].(float64)}))
	}
	c, err := bq.NewClient(context.Background(), b.Project, b.RESTOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	md, err := c.Dataset(b.Dataset).Table("alerts").Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if md.TimePartitioning == nil || md.TimePartitioning.Field != "window_start" || md.TimePartitioning.Type != bq.DayPartitioningType {
		t.Errorf("alerts partitioning = %+v, want DAY on window_start", md.TimePartitioning)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts in BigQuery (-files +table):\n%s", diff)
	}
}

// TestStreamingOrdersToBigQuery streams orders from Pub/Sub into the typed history through
// the Storage Write API (REPEATED RECORD and NUMERIC columns in protobuf); the order with a
// wrong total goes to the dead letter, and the summary balances (run fails otherwise).
func TestStreamingOrdersToBigQuery(t *testing.T) {
	emu := testenv.PubSub(t)
	b := testenv.BigQuery(t)
	b.Env(t)
	c := emu.Client(t)
	topic, sub := emu.TopicWithSubscription(t, c, "orders-bq-in", "orders-bq-in-sub", 60)
	var buf strings.Builder
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	if _, err := ordergen.Write(&buf, ordergen.Config{Seed: 7, Start: start, Span: 30 * time.Minute, PerMinute: 10, Anomalies: -1}); err != nil {
		t.Fatal(err)
	}
	good := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := sumGenerated(t, good)
	bad := strings.Replace(order("O-900001", "eur", `"25.98"`, `{"sku":"A","qty":2,"price":"7.99"},{"sku":"B","qty":1,"price":"9.99"}`),
		"2026-11-16T10:00:00Z", start.Format(time.RFC3339), 1)
	var msgs []*gpubsub.Message
	for _, l := range append(good, bad) {
		msgs = append(msgs, &gpubsub.Message{Data: []byte(l)})
	}
	testenv.Publish(t, c, topic, msgs)

	dir := t.TempDir()
	table := fmt.Sprintf("%s.%s.orders", b.Project, b.Dataset)
	setFlags(t, "pubsub://"+sub, "bq://"+table, filepath.Join(dir, "dead"), filepath.Join(dir, "alerts"), "")
	oldIdle := *idleFlag
	*idleFlag = 3 * time.Second
	t.Cleanup(func() { *idleFlag = oldIdle })
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sql := fmt.Sprintf("SELECT COUNT(*), COUNT(DISTINCT order_id), SUM(total_minor), SUM(ARRAY_LENGTH(items)), "+
		"SUM((SELECT SUM(it.quantity) FROM UNNEST(items) AS it)), "+
		"COUNTIF(CAST(total * IF(currency = 'JPY', 1, 100) AS INT64) != total_minor) FROM `%s`", table)
	got := b.Query(t, sql)
	wantRow := []bq.Value{want.orders, want.orders, want.totalMinor, want.lines, want.qty, int64(0)}
	if len(got) != 1 || !reflect.DeepEqual(got[0], wantRow) {
		t.Errorf("%s\n= %v, want %v (orders, distinct ids, Σ total_minor, Σ lines, Σ quantity, bad NUMERIC totals)", sql, got, wantRow)
	}
	dead := deadLetters(t, filepath.Join(dir, "dead"))
	if len(dead) != 1 || dead[0].Reason != "total_mismatch" || dead[0].PayloadString != bad {
		t.Errorf("dead letters = %+v, want the one total_mismatch with its payload", dead)
	}
}
