package tag_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() { register.Function1x1(describe) }

// describe renders the fields tag sets, leaving out the wall-clock ingest time.
func describe(r record.Record) string {
	return strings.Join([]string{r.ID, r.Source, r.Kind, string(rune('0' + r.SchemaVersion)), r.Attributes["site"], r.Attributes["k"], string(r.Payload), boolStr(!r.IngestTime.IsZero())}, "|")
}

func boolStr(b bool) string {
	if b {
		return "ingest-time"
	}
	return "no-ingest-time"
}

var web = tag.Source{Name: "web_a", Kind: "web_event", Format: "json", Glob: "x", Attributes: map[string]string{"site": "a", "k": "static"}, SchemaVersion: 2}

func TestStamp(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("x", 3600))
	st := tag.Stamper{Source: web, Now: func() time.Time { return now }}
	r := record.Record{Payload: []byte(`{"a":1}`), Attributes: map[string]string{"k": "message"}}
	st.Stamp(&r)
	want := record.Record{
		ID: tag.ContentID("web_a", []byte(`{"a":1}`)), Source: "web_a", Kind: "web_event", SchemaVersion: 2,
		Attributes: map[string]string{"site": "a", "k": "message"}, IngestTime: now.UTC(), Payload: []byte(`{"a":1}`),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Stamp (-want +got):\n%s", diff)
	}
	if web.Attributes["k"] != "static" {
		t.Errorf("Stamp changed the source's attributes: %v", web.Attributes)
	}
	m := record.Record{ID: "msg-7", Payload: []byte(`{"a":1}`)}
	st.Stamp(&m)
	if m.ID != "msg-7" {
		t.Errorf("Stamp replaced a message id: %q", m.ID)
	}
}

func TestContentID(t *testing.T) {
	a := tag.ContentID("s", []byte("x"))
	if len(a) != 32 || a != tag.ContentID("s", []byte("x")) {
		t.Errorf("ContentID not a stable 32-hex-digit id: %q", a)
	}
	if a == tag.ContentID("t", []byte("x")) || a == tag.ContentID("s", []byte("y")) || tag.ContentID("s", []byte("ab")) == tag.ContentID("sa", []byte("b")) {
		t.Error("ContentID collides across sources or payloads")
	}
}

func TestLinesAndRecordsOnPrism(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	lines := tag.Lines(s, web, beam.Create(s, `{"a":1}`, `{"a":2}`))
	msgs := tag.Records(s, web, beam.Create(s, record.Record{ID: "m1", Payload: []byte("p"), Attributes: map[string]string{"k": "attr"}}))
	id1, id2 := tag.ContentID("web_a", []byte(`{"a":1}`)), tag.ContentID("web_a", []byte(`{"a":2}`))
	passert.Equals(s, beam.ParDo(s, describe, lines),
		id1+`|web_a|web_event|2|a|static|{"a":1}|ingest-time`,
		id2+`|web_a|web_event|2|a|static|{"a":2}|ingest-time`)
	passert.Equals(s, beam.ParDo(s, describe, msgs), `m1|web_a|web_event|2|a|attr|p|ingest-time`)
	ptest.RunAndValidate(t, p)
}

func TestLoadSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `
sources:
  - &base
    name: web
    kind: web_event
    format: json
    glob: web/*.jsonl
    attributes: {site: a}
    event_time: {field: ts, format: epoch_ms}
  - <<: *base
    name: web_b
    format: csv
    csv: {header: true}
`)
	srcs, err := tag.LoadSources(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 || srcs[1].Name != "web_b" || srcs[1].Glob != "web/*.jsonl" || srcs[1].EventTime.Format != "epoch_ms" || !srcs[1].CSV.Header {
		t.Errorf("LoadSources = %+v", srcs)
	}
	js := write("good.json", `[{"name":"o","kind":"order","format":"json","subscription":"pubsub://projects/p/subscriptions/s"}]`)
	if _, err := tag.LoadSources(js); err != nil {
		t.Errorf("LoadSources(JSON list) = %v", err)
	}
	for _, tc := range []struct{ body, want string }{
		{`[{name: Web!, format: json, glob: x}]`, `source "Web!": field name`},
		{`[{name: w, format: xml, glob: x}]`, `source "w": field format: "xml" is not one of json, csv, text`},
		{`[{name: w, format: json}]`, `source "w": field glob: one of glob or subscription is required`},
		{`[{name: w, format: json, glob: x, subscription: "pubsub://projects/p/subscriptions/s"}]`, `field subscription: give glob or subscription, not both`},
		{`[{name: w, format: json, glob: x, event_time: {field: ts, format: julian}}]`, `source "w": field event_time.format`},
		{`[{name: w, format: json, glob: x, event_time: {format: rfc3339}}]`, `field event_time.field: is required`},
		{`[{name: w, format: csv, glob: x}]`, `field csv.columns`},
		{`[{name: w, format: json, glob: x, globb: y}]`, `field globb not found`},
		{`[{name: w, format: json, glob: x}, {name: w, format: json, glob: y}]`, `field name: defined twice`},
		{`[]`, `no sources defined`},
		{`{other: []}`, `field other not found`},
	} {
		_, err := tag.LoadSources(write("bad.yaml", tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadSources(%s) = %v, want an error containing %q", tc.body, err, tc.want)
		}
	}
}
