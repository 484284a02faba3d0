package clean_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function1x1(reasonFn)
	register.Function1x1(idFn)
	register.Function1x1(idPayloadFn)
	register.Function2x1(stampFn)
	register.Function1x1(totalFn)
	register.Function1x1(failedIDFn)
}

func reasonFn(f record.Failure) string   { return f.Reason }
func idFn(r record.Record) string        { return r.ID }
func failedIDFn(f record.Failure) string { return f.RecordID }

// idPayloadFn proves a failure carries its record's original payload.
func idPayloadFn(f record.Failure) string { return f.RecordID + "=" + string(f.PayloadBytes) }

// stampFn pairs a record's ID with its element timestamp, to check EventTime set both.
func stampFn(ts beam.EventTime, r record.Record) string {
	return r.ID + "@" + ts.ToTime().UTC().Format(time.RFC3339) + "/" + r.EventTime.Format(time.RFC3339)
}

func totalFn(r record.Record) int64 { v, _ := r.Data["total"].(int64); return v }

func records(src string, payloads ...string) []record.Record {
	out := make([]record.Record, len(payloads))
	for i, p := range payloads {
		out[i] = record.Record{ID: string(rune('a' + i)), Source: src, Payload: []byte(p), Origin: "f", Offset: int64(i + 1)}
	}
	return out
}

func TestParse(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"a":1}`, `{"a":`, `[]`, ``, "{\"a\":\"\xff\"}", `{"b":2}`))
	ok, dead := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	passert.Equals(s, beam.ParDo(s, idFn, ok), "a", "f")
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "json_truncated", "json_not_object", "empty_record", "invalid_utf8")
	passert.Equals(s, beam.ParDo(s, idPayloadFn, dead), `b={"a":`, `c=[]`, `d=`, "e={\"a\":\"\xff\"}")
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace == record.MetricNamespace {
			counts[c.Key.Name] += c.Result()
		}
	}
	if counts["src/clean.Parse/ok"] != 2 || counts["src/clean.Parse/dead/json_truncated"] != 1 {
		t.Errorf("Parse counters = %v, want src/clean.Parse/ok=2 and one per reason", counts)
	}
}

func TestValidate(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"id":"x","n":5}`, `{"n":5}`, `{"id":"y","n":-1}`, `{"id":"z","n":"five"}`))
	parsed, _ := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	zero := 0.0
	ok, dead := clean.Validate(s, parsed, []clean.Rule{{Field: "id", Required: true}, {Field: "n", Type: "number", Min: &zero}})
	passert.Equals(s, beam.ParDo(s, idFn, ok), "a")
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "missing_field:id", "out_of_range:n", "wrong_type:n")
	ptest.RunAndValidate(t, p)
}

func TestNormalise(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"total":"12.30","cur":"usd"}`, `{"total":"1500","cur":"JPY"}`, `{"total":"1.5","cur":"ABC"}`))
	parsed, _ := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	ok, dead := clean.Normalise(s, parsed, clean.NormaliseSpec{Money: []clean.MoneyField{{Amount: "total", Currency: "cur"}}})
	passert.Equals(s, beam.ParDo(s, totalFn, ok), int64(1230), int64(1500))
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "unknown_currency:cur")
	ptest.RunAndValidate(t, p)
}

func TestEventTime(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"ts":1795161600000}`, `{"ts":"x"}`, `{"ts":946684799000}`, `{}`, `{"ts":4102444800000}`))
	parsed, _ := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	ok, dead := clean.EventTime(s, parsed, "ts", "epoch_ms")
	passert.Equals(s, beam.ParDo(s, stampFn, ok), "a@2026-11-20T08:00:00Z/2026-11-20T08:00:00Z")
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "bad_timestamp:ts", "time_too_old:ts", "missing_field:ts", "time_in_future:ts")
	ptest.RunAndValidate(t, p)
}

func TestDedupeKeepsFirstInInputOrder(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"k":"1"}`, `{"k":"2"}`, `{"k":"1"}`, `{"k":1}`, `{"x":0}`, `{"k":"2"}`))
	parsed, _ := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	ok, dups := clean.Dedupe(s, parsed, "k")
	// "1" and 1 are the same key: a JSON number and a string holding it dedupe together.
	passert.Equals(s, beam.ParDo(s, idFn, ok), "a", "b")
	passert.Equals(s, beam.ParDo(s, reasonFn, dups), "duplicate", "duplicate", "duplicate", "missing_field:k")
	passert.Equals(s, beam.ParDo(s, idPayloadFn, dups), `c={"k":"1"}`, `d={"k":1}`, `f={"k":"2"}`, `e={"x":0}`)
	ptest.RunAndValidate(t, p)
}

func TestDedupeByIDAcrossSources(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	a := records("a", `{}`, `{}`)
	b := records("b", `{}`)
	a[1].ID = "a" // same ID as a[0]: a duplicate within source a
	ok, dups := clean.Dedupe(s, beam.CreateList(s, append(a, b...)), "")
	passert.Count(s, ok, "kept", 2) // one of source a, one of source b with the same ID
	passert.Count(s, dups, "dups", 1)
	ptest.RunAndValidate(t, p)
}

func TestDedupeStreamTTL(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	at := func(id, key string) record.Record {
		return record.Record{ID: id, Source: "src", Payload: []byte(key), Data: map[string]any{"k": key}}
	}
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC).UnixMilli()
	c := teststream.NewConfig()
	c.AddElements(base, at("a", "k1"), at("b", "k2"))
	c.AddElements(base+20_000, at("c", "k1")) // within the 1m TTL of a: duplicate
	c.AdvanceWatermark(base + 30_000)
	c.AddElements(base+40_000, at("d", "k2")) // within TTL of b: duplicate
	c.AdvanceWatermark(base + 120_000)        // both TTLs expire
	c.AddElements(base+130_000, at("e", "k1"))
	c.AdvanceWatermarkToInfinity()
	in := teststream.Create(s, c)
	ok, dups := clean.DedupeStream(s, in, "k", time.Minute)
	passert.Equals(s, beam.ParDo(s, idFn, ok), "a", "b", "e")
	passert.Equals(s, beam.ParDo(s, failedIDFn, dups), "c", "d")
	ptest.RunAndValidate(t, p)
}

func TestDedupeRecordsWithoutOrigin(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	// Redelivered messages: the same ID twice and no file position to tell them apart.
	msg := record.Record{ID: "m-1", Source: "pubsub", Payload: []byte("x")}
	other := record.Record{ID: "m-2", Source: "pubsub", Payload: []byte("y")}
	ok, dups := clean.Dedupe(s, beam.Create(s, msg, msg, msg, other), "")
	passert.Equals(s, beam.ParDo(s, idFn, ok), "m-1", "m-2")
	passert.Equals(s, beam.ParDo(s, failedIDFn, dups), "m-1", "m-1")
	ptest.RunAndValidate(t, p)
}

func TestDedupeSpillsToFiles(t *testing.T) {
	dir := t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"k":"1"}`, `{"k":"2"}`, `{"k":"1"}`, `{"k":1}`, `{"x":0}`, `{"k":"2"}`))
	parsed, _ := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	ok, dups := clean.Dedupe(s, parsed, "k", clean.SpillTo(dir))
	passert.Equals(s, beam.ParDo(s, idFn, ok), "a", "b")
	passert.Equals(s, beam.ParDo(s, idPayloadFn, dups), `c={"k":"1"}`, `d={"k":1}`, `f={"k":"2"}`, `e={"x":0}`)
	ptest.RunAndValidate(t, p)
	spilled, _ := filepath.Glob(filepath.Join(dir, "*.records"))
	if len(spilled) == 0 {
		t.Errorf("no spill file in %s: the records did not go through files", dir)
	}
}

// TestEventTimeDeadLettersLate: in a stream, a record whose event time is more than the
// allowed lateness before its arrival timestamp goes to dead as too_late rather than being
// dropped by the windows downstream; in batch (no arrival timestamp) nothing is.
func TestEventTimeDeadLettersLate(t *testing.T) {
	arrival := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	at := func(id string, age time.Duration) record.Record {
		p := fmt.Sprintf(`{"ts":"%s"}`, arrival.Add(-age).Format(time.RFC3339))
		return record.Record{ID: id, Source: "src", Payload: []byte(p)}
	}
	recs := []record.Record{at("fresh", 10*time.Minute), at("inside", 59*time.Minute), at("late", 61*time.Minute), at("older", 48*time.Hour)}

	p, s := beam.NewPipelineWithRoot()
	c := teststream.NewConfig()
	c.AddElementList(arrival.UnixMilli(), recs)
	c.AdvanceWatermarkToInfinity()
	parsed, _ := clean.Parse(s, teststream.Create(s, c), clean.ParseSpec{Format: "json"})
	ok, dead := clean.EventTime(s, parsed, "ts", "rfc3339", clean.DeadLetterLate(time.Hour))
	passert.Equals(s, beam.ParDo(s, idFn, ok), "fresh", "inside")
	passert.Equals(s, beam.ParDo(s, idPayloadFn, dead), "late="+string(recs[2].Payload), "older="+string(recs[3].Payload))
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "too_late:ts", "too_late:ts")

	batch, _ := clean.Parse(s, beam.CreateList(s, recs), clean.ParseSpec{Format: "json"})
	bok, bdead := clean.EventTime(s, batch, "ts", "rfc3339", clean.DeadLetterLate(time.Hour))
	passert.Count(s, bok, "batch ok", 4)
	passert.Empty(s, bdead)
	ptest.RunAndValidate(t, p)
}
