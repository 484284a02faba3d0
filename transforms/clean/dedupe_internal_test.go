package clean

import (
	"context"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"

	"github.com/beamline/beamline/transforms/record"
)

func TestFNV32aMatchesHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "orders\x00O-000001", "é漢"} {
		h := fnv.New32a()
		h.Write([]byte(s))
		if got, want := fnv32a(s), h.Sum32(); got != want {
			t.Errorf("fnv32a(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestRecordBatchCarriesEarliestTimestamp: a batch of waiting records is stamped with the
// earliest timestamp among them, whatever their order. Stamped later (say, with its last
// record's), the watermark after the filter could pass records still inside a batch, and a
// bounded replay lost part of a minute's orders from its windowed counts when the runner
// happened to split the filter's work (a flaky orders test found it).
func TestRecordBatchCarriesEarliestTimestamp(t *testing.T) {
	f := &positionFn{keyField: keyField{Field: "k"}}
	f.Setup()
	base := mtime.FromTime(time.Date(2026, 11, 16, 15, 58, 0, 0, time.UTC))
	stamps := []mtime.Time{base + 30_000, base, base + 60_000, base + 5_000}
	type out struct {
		ts    beam.EventTime
		batch []byte
	}
	var got []out
	recs := func(ts beam.EventTime, b []byte) { got = append(got, out{ts, b}) }
	ctx := context.Background()
	for i, ts := range stamps {
		r := record.Record{ID: fmt.Sprint(i), Source: "s", Data: map[string]any{"k": fmt.Sprint(i)}}
		if err := f.ProcessElement(ctx, ts, r, recs, func(int, positions) {}, func(record.Failure) {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.FinishBundle(ctx, recs, func(int, positions) {}, func(record.Failure) {}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d batches, want 1", len(got))
	}
	if got[0].ts != base {
		t.Errorf("batch stamped %v, want the earliest record's %v", got[0].ts, base)
	}
	// A second batch starts afresh: its stamp is its own records' earliest.
	r := record.Record{ID: "late", Source: "s", Data: map[string]any{"k": "late"}}
	if err := f.ProcessElement(ctx, base+120_000, r, recs, func(int, positions) {}, func(record.Failure) {}); err != nil {
		t.Fatal(err)
	}
	if err := f.FinishBundle(ctx, recs, func(int, positions) {}, func(record.Failure) {}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ts != base+120_000 {
		t.Errorf("second batch = %d batches, stamp %v; want 2 batches, stamp %v", len(got), got[len(got)-1].ts, base+120_000)
	}
}

// TestSpilledBatchesReadBackWhole: over several spilled batches, each written from the buffer
// the previous one freed, every record reads back from its own file, in order, none from
// another batch; and the batch elements point at distinct files.
func TestSpilledBatchesReadBackWhole(t *testing.T) {
	dir := t.TempDir()
	f := &positionFn{keyField: keyField{Field: "k"}, SpillDir: dir}
	f.Setup()
	var batches [][]byte
	recs := func(_ beam.EventTime, b []byte) { batches = append(batches, b) }
	ctx := context.Background()
	n := 2*recordsPerSpillBatch + 100
	for i := range n {
		// Longer records later, so a reused buffer must grow past the size it had.
		r := record.Record{ID: fmt.Sprint(i), Source: "s", Payload: make([]byte, i/100), Data: map[string]any{"k": fmt.Sprint(i)}}
		if err := f.ProcessElement(ctx, mtime.Time(i), r, recs, func(int, positions) {}, func(record.Failure) {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.FinishBundle(ctx, recs, func(int, positions) {}, func(record.Failure) {}); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 {
		t.Fatalf("got %d batches, want 3", len(batches))
	}
	u := &unbatchFn{keyField: keyField{Field: "k"}}
	u.Setup()
	next, names := 0, map[string]bool{}
	for _, b := range batches {
		if b[0] != batchSpill {
			t.Fatalf("batch kind %d, want spilled", b[0])
		}
		names[string(b[batchHeader:])] = true
		marked := append([]byte{0}, b...) // no losers
		err := u.ProcessElement(ctx, marked, func(ts beam.EventTime, r record.Record) {
			if want := fmt.Sprint(next); r.ID != want || int(ts) != next || len(r.Payload) != next/100 {
				t.Errorf("record %q at %d with %d payload bytes, want %q at %d with %d", r.ID, ts, len(r.Payload), want, next, next/100)
			}
			next++
		}, func(f record.Failure) { t.Errorf("duplicate %q", f.RecordID) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if next != n || len(names) != 3 {
		t.Errorf("read back %d records from %d files, want %d from 3", next, len(names), n)
	}
}
