package files

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

func interval(start, end time.Time) window.IntervalWindow {
	return window.IntervalWindow{Start: mtime.FromTime(start), End: mtime.FromTime(end)}
}

var hour10 = interval(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC))

func TestTemplateExpand(t *testing.T) {
	d := func(h, m, s, ms int) time.Time { return time.Date(2026, 11, 22, h, m, s, ms*1e6, time.UTC) }
	tests := []struct {
		template string
		f        fileFields
		want     string
	}{
		{"raw/source={key}/dt={date}/hour={hour}/" + DefaultFileName + ".jsonl.gz",
			fileFields{Key: "web", Window: hour10, Pane: 0, Shard: 2, Shards: 3},
			"raw/source=web/dt=2026-11-22/hour=10/part-20261122T1000Z-20261122T1100Z-0-00002-of-00003.jsonl.gz"},
		{"gs://b/{window}/p{pane}-{shard}",
			fileFields{Window: hour10, Pane: 12, Shards: 1},
			"gs://b/20261122T1000Z-20261122T1100Z/p12-00000"},
		{"{window}", fileFields{Window: interval(d(10, 0, 30, 0), d(10, 1, 0, 0))}, "20261122T100030Z-20261122T100100Z"},
		{"{window}", fileFields{Window: interval(d(10, 0, 0, 250), d(10, 0, 0, 500))}, "20261122T100000.250Z-20261122T100000.500Z"},
		{"{window}", fileFields{Window: window.GlobalWindow{}}, "global"},
		{"{date}T{hour}", fileFields{Window: interval(d(23, 30, 0, 0), d(0, 30, 0, 0).Add(24*time.Hour))}, "2026-11-22T23"},
		// Keys come from data: they must not add directories, climb out, hide files or glob.
		{"k={key}/x", fileFields{Key: "a/../b"}, "k=a%2F..%2Fb/x"},
		{"k={key}/x", fileFields{Key: ".."}, "k=%2E./x"},
		{"k={key}/x", fileFields{Key: "web*[1]?"}, "k=web%2A%5B1%5D%3F/x"},
		{"k={key}/x", fileFields{Key: "100%"}, "k=100%25/x"},
		{"k={key}/x", fileFields{Key: ""}, "k=%/x"},
		{"k={key}/x", fileFields{Key: "shop_eu-1.v2=ok"}, "k=shop_eu-1.v2=ok/x"},
	}
	for _, tt := range tests {
		tmpl, err := parseTemplate(tt.template)
		if err != nil {
			t.Fatalf("parseTemplate(%q): %v", tt.template, err)
		}
		if got := tmpl.expand(tt.f); got != tt.want {
			t.Errorf("expand(%q, %+v) = %q, want %q", tt.template, tt.f, got, tt.want)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for template, want := range map[string]string{
		"a/{dt}/":      "unknown placeholder {dt}",
		"a/{date/b":    "{ without its }",
		"a/{date{x}}/": "{ without its }",
		"a/date}/":     "} without its {",
		"a/{}/":        "unknown placeholder {}",
	} {
		if _, err := parseTemplate(template); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTemplate(%q) = %v, want an error saying %q", template, err, want)
		}
	}
}

// group feeds lines to a windowedWriteFn as a GroupByKey result would.
func group(lines ...string) func(*[]byte) bool {
	i := 0
	return func(b *[]byte) bool {
		if i == len(lines) {
			return false
		}
		*b = []byte(lines[i])
		i++
		return true
	}
}

func newWriteFn(t testing.TB, template string) *windowedWriteFn {
	f := &windowedWriteFn{Template: template, Shards: 2}
	if err := f.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func listAll(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestWindowedWriteRetryIsIdempotent writes the same group twice, as a runner does when it
// retries a bundle: both attempts name the same file, which ends up holding the group once.
func TestWindowedWriteRetryIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	f := newWriteFn(t, dir+"/k={key}/"+DefaultFileName+".jsonl")
	var names []string
	for range 2 {
		err := f.ProcessElement(context.Background(), typex.PaneInfo{Index: 1}, hour10, "1/web", group("a", "b"), func(n string) { names = append(names, n) })
		if err != nil {
			t.Fatal(err)
		}
	}
	want := dir + "/k=web/part-20261122T1000Z-20261122T1100Z-1-00001-of-00002.jsonl"
	if len(names) != 2 || names[0] != want || names[1] != want {
		t.Errorf("attempts wrote %v, want %s twice", names, want)
	}
	if b, _ := os.ReadFile(want); string(b) != "a\nb\n" {
		t.Errorf("%s holds %q, want %q", want, b, "a\nb\n")
	}
	if got := listAll(t, dir); len(got) != 1 {
		t.Errorf("files under %s = %v, want the one final file", dir, got)
	}
}

// TestWindowedWriteFailureLeavesNoTemp makes the rename fail (the final name is a non-empty
// directory): the DoFn returns an error for the runner to retry, emits nothing and removes its
// temporary file.
func TestWindowedWriteFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	f := newWriteFn(t, dir+"/{window}-{pane}-{shard}")
	blocker := filepath.Join(dir, "20261122T1000Z-20261122T1100Z-0-00000")
	os.MkdirAll(filepath.Join(blocker, "occupied"), 0o755)
	var emitted []string
	err := f.ProcessElement(context.Background(), typex.PaneInfo{}, hour10, "0/", group("a"), func(n string) { emitted = append(emitted, n) })
	if err == nil || !strings.Contains(err.Error(), "renaming") {
		t.Errorf("ProcessElement over a blocked name = %v, want a renaming error", err)
	}
	if len(emitted) != 0 {
		t.Errorf("emitted %v after a failure", emitted)
	}
	if got := listAll(t, dir); len(got) != 0 {
		t.Errorf("files left under %s = %v, want none", dir, got)
	}
}

// TestWindowedWriteEmptyGroup checks that an empty pane writes no file.
func TestWindowedWriteEmptyGroup(t *testing.T) {
	dir := t.TempDir()
	f := newWriteFn(t, dir+"/{window}-{pane}-{shard}")
	if err := f.ProcessElement(context.Background(), typex.PaneInfo{}, hour10, "0/", group(), func(n string) { t.Errorf("emitted %s", n) }); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, dir); len(got) != 0 {
		t.Errorf("an empty pane wrote %v", got)
	}
}

func TestShardOfSpreads(t *testing.T) {
	seen := map[int]int{}
	for i := 0; i < 700; i++ {
		seen[shardOf([]byte(fmt.Sprintf(`{"id":%d}`, i)), 7)]++
	}
	for s := 0; s < 7; s++ {
		if seen[s] < 50 {
			t.Errorf("700 lines over 7 shards: %v, want each shard near 100", seen)
			break
		}
	}
}

var benchLine = []byte(`{"id":"9f1c2a7e","source":"web","kind":"pageview","ts":"2026-11-22T10:05:13.482Z","url":"/items/shoes/runner-42?ref=home","ua":"Mozilla/5.0 (X11; Linux x86_64)","session":"s-77c1","amount_minor":12999}`)

// BenchmarkWindowedWrite measures the writer per line: groups of 10,000 lines, each group
// written to a temporary file and renamed, on local disk.
func BenchmarkWindowedWrite(b *testing.B) {
	for _, suffix := range []string{".jsonl", ".jsonl.gz"} {
		b.Run(suffix, func(b *testing.B) {
			dir := b.TempDir()
			f := newWriteFn(b, dir+"/{key}/"+DefaultFileName+suffix)
			const perFile = 10_000
			b.ReportAllocs()
			b.SetBytes(int64(len(benchLine) + 1))
			for done := 0; done < b.N; done += perFile {
				n := min(perFile, b.N-done)
				i := 0
				lines := func(l *[]byte) bool {
					if i == n {
						return false
					}
					*l = benchLine
					i++
					return true
				}
				pane := typex.PaneInfo{Index: int64(done / perFile)}
				if err := f.ProcessElement(context.Background(), pane, hour10, "0/web", lines, func(string) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkShardKV measures the per-line step before the GroupByKey.
func BenchmarkShardKV(b *testing.B) {
	f := &shardKVBytesFn{Shards: 3}
	b.ReportAllocs()
	for range b.N {
		f.ProcessElement("web", benchLine)
	}
}
