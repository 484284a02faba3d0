package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/gen"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/record"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	testenv.StopShared() // the Pub/Sub emulator of the streaming tests (java, its own process group)
	os.Exit(code)
}

const sources = "../../testdata/sources.yaml"

// want is the summary of a run over testdata: every record is accounted for.
var want = []SourceSummary{
	{Source: "orders", Read: 500, OK: 500, DeadBy: map[string]int64{}, Balanced: true},
	{Source: "orders_bad", Read: 30, OK: 2, Dead: 27, Duplicates: 1, Balanced: true},
	{Source: "web_a", Read: 500, OK: 500, DeadBy: map[string]int64{}, Balanced: true},
	{Source: "web_b", Read: 303, OK: 300, Dead: 3, Balanced: true, DeadBy: map[string]int64{"csv_syntax": 1, "csv_field_count": 1, "bad_timestamp:timestamp": 1}},
	{Source: "web_c", Read: 318, OK: 300, Duplicates: 18, DeadBy: map[string]int64{}, Balanced: true},
}

func init() {
	// The bad-records file's reasons, as the generator states them (duplicates are counted
	// apart, and the CRLF line is valid).
	by := map[string]int64{}
	for _, c := range gen.BadOrders() {
		if c.Reason != "" && c.Reason != "duplicate" {
			by[c.Reason]++
		}
	}
	want[1].DeadBy = by
}

func TestTestdataIsGenerated(t *testing.T) {
	b, err := os.ReadFile("../../testdata/bad/orders_bad.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, gen.BadOrdersFile()) {
		t.Error("testdata/bad/orders_bad.jsonl differs from gen.BadOrdersFile(); run make testdata")
	}
	if n := len(want[1].DeadBy); n < 20 {
		t.Errorf("the bad-records file has %d distinct dead-letter reasons, want at least 20", n)
	}
}

// readFailures reads the dead-letter NDJSON files under dir.
func readFailures(t *testing.T, open func() map[string][]byte) []record.Failure {
	t.Helper()
	var out []record.Failure
	for name, b := range open() {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var f record.Failure
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, f)
		}
	}
	return out
}

// checkBadRecords asserts every line of the bad-records file reached the dead letter with
// its own reason and its original bytes, or is valid.
func checkBadRecords(t *testing.T, fails []record.Failure) {
	t.Helper()
	cases := gen.BadOrders()
	got := map[int64]record.Failure{}
	for _, f := range fails {
		if f.Source == "orders_bad" {
			got[f.Offset] = f
		}
	}
	for i, c := range cases {
		line := int64(i + 1)
		f, dead := got[line]
		if c.Reason == "" {
			if dead {
				t.Errorf("line %d (%s) went to dead letter with %s: %s", line, c.Kind, f.Reason, f.Message)
			}
			continue
		}
		if !dead {
			t.Errorf("line %d (%s) is not in the dead letter, want reason %s", line, c.Kind, c.Reason)
			continue
		}
		if f.Reason != c.Reason {
			t.Errorf("line %d (%s): reason %s (%s), want %s", line, c.Kind, f.Reason, f.Message, c.Reason)
		}
		if !bytes.Equal(f.PayloadBytes, c.Line) {
			t.Errorf("line %d (%s): payload of %d bytes differs from the original line of %d", line, c.Kind, len(f.PayloadBytes), len(c.Line))
		}
		if f.Stage == "" || f.Message == "" || f.Time.IsZero() || !strings.HasSuffix(f.Origin, "orders_bad.jsonl") {
			t.Errorf("line %d: failure lacks stage, message, time or origin: %+v", line, f)
		}
	}
}

func TestIngestLocal(t *testing.T) {
	out := t.TempDir()
	*sourcesFlag, *outputFlag = sources, out
	defer func() { *sourcesFlag, *outputFlag = "", "" }()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, sum.Sources); diff != "" {
		t.Errorf("summary.json (-want +got):\n%s", diff)
	}
	fails := readFailures(t, func() map[string][]byte { return readDir(t, filepath.Join(out, "dead")) })
	checkBadRecords(t, fails)
	lines := 0
	for _, b := range readDir(t, filepath.Join(out, "clean")) {
		lines += bytes.Count(b, []byte("\n"))
	}
	if lines != 1602 {
		t.Errorf("clean output has %d lines, want 1602 (the summary's ok)", lines)
	}
	if n := len(fails); n != 30+19 {
		t.Errorf("dead letter has %d rows, want 49 (30 dead and 19 duplicates)", n)
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(p, ".temp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		m[p], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIngestGCS(t *testing.T) {
	srv := testenv.FakeGCS(t, "raw", "lake")
	// The testdata tree goes to gs://raw/, and the config's globs point there.
	err := filepath.WalkDir("../../testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel("../../testdata", p)
		srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "raw", Name: filepath.ToSlash(rel)}, Content: b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := LoadConfig(sources)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfgs {
		rel, _ := filepath.Rel("../../testdata", cfgs[i].Glob)
		cfgs[i].Glob = "gs://raw/" + filepath.ToSlash(rel)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, Options{Sources: cfgs, Output: "gs://lake/ingest", ShardRecords: 200, SpillDir: "gs://lake/spill"})
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(cfgs))
	for i, c := range cfgs {
		names[i] = c.Name
	}
	sum := Summarize(res.Metrics().AllMetrics(), names)
	if diff := cmp.Diff(want, sum.Sources); diff != "" {
		t.Errorf("summary over gs:// (-want +got):\n%s", diff)
	}
	objs, _, err := srv.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "ingest/"})
	if err != nil {
		t.Fatal(err)
	}
	deadFiles := map[string][]byte{}
	cleanLines := 0
	for _, o := range objs {
		obj, err := srv.GetObject("lake", o.Name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(o.Name, ".temp-"):
			t.Errorf("temporary object left behind: %s", o.Name)
		case strings.HasPrefix(o.Name, "ingest/dead/"):
			deadFiles[o.Name] = obj.Content
		case strings.HasPrefix(o.Name, "ingest/clean/"):
			cleanLines += bytes.Count(obj.Content, []byte("\n"))
		}
	}
	if cleanLines != 1602 {
		t.Errorf("gs:// clean output has %d lines, want 1602", cleanLines)
	}
	spilled, _, _ := srv.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "spill/"})
	if len(spilled) == 0 {
		t.Error("nothing was spilled to gs://lake/spill")
	}
	if err := files.RemoveAll(context.Background(), "gs://lake/spill"); err != nil {
		t.Fatal(err)
	}
	if left, _, _ := srv.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "spill/"}); len(left) != 0 {
		t.Errorf("RemoveAll left %d spill objects", len(left))
	}
	checkBadRecords(t, readFailures(t, func() map[string][]byte { return deadFiles }))
}

func TestLoadConfigRejectsBadCleanSpecs(t *testing.T) {
	for body, want := range map[string]string{
		`[{name: s, format: json, glob: x, rules: [{field: a, regex: "("}]}]`:               `source "s"`,
		`[{name: s, format: json, glob: x, normalise: {money: [{amount: t}]}}]`:             `source "s"`,
		`[{name: s, format: json, subscription: "pubsub://projects/p/subscriptions/s"}]`:    "field subscription: pubsub address",
		`[{name: s, format: json, glob: x, rules: [{field: a, check: nobody_registered}]}]`: `check "nobody_registered" is not registered`,
	} {
		p := filepath.Join(t.TempDir(), "s.yaml")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadConfig(%s) = %v, want an error containing %q", body, err, want)
		}
	}
}
