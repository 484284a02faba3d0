package files_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/record"
	"github.com/fsouza/fake-gcs-server/fakestorage"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function1x1(lineOf)
	register.Function1x1(toBytes)
}

// lineOf renders a read record as base-name:line:payload[:header].
func lineOf(r record.Record) string {
	s := filepath.Base(r.Origin) + ":" + string(rune('0'+r.Offset)) + ":" + string(r.Payload)
	if r.Header != nil {
		s += ":" + string(r.Header)
	}
	return s
}

func toBytes(s string) []byte { return []byte(s) }

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestReadFileShapes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.jsonl")
	os.WriteFile(p, []byte("\xEF\xBB\xBFone\r\ntwo\n\nthree-without-newline"), 0o644)
	var got []string
	err := files.ReadFile(context.Background(), p, false, 8, func(r record.Record) error {
		got = append(got, lineOf(r)+"|"+r.Attributes[record.AttrReadError])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.jsonl:1:one|", "a.jsonl:2:two|", "a.jsonl:3:|", "a.jsonl:4:three-wi|too_large"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ReadFile = %q, want %q", got, want)
	}
}

func TestReadOnPrism(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.csv"), []byte("h1,h2\r\n1,2\r\n3,4\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.csv.gz"), gz("h1,h2\n5,6\n"), 0o644)
	p, s := beam.NewPipelineWithRoot()
	recs := files.Read(s, filepath.Join(dir, "*.csv*"), files.WithHeader())
	passert.Equals(s, beam.ParDo(s, lineOf, recs), "a.csv:2:1,2:h1,h2", "a.csv:3:3,4:h1,h2", "b.csv.gz:2:5,6:h1,h2")
	ptest.RunAndValidate(t, p)
}

func TestReadNoMatchFails(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	files.Read(s, filepath.Join(t.TempDir(), "nothing-*.jsonl"))
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("Run over an empty glob = %v, want an error saying no file matches", err)
	}
}

func readAll(t *testing.T, names []string, open func(string) []byte) []string {
	t.Helper()
	var lines []string
	for _, n := range names {
		b := open(n)
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			var out bytes.Buffer
			out.ReadFrom(zr)
			b = out.Bytes()
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	sort.Strings(lines)
	return lines
}

func TestWriteLinesLocal(t *testing.T) {
	dir := t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	var in []string
	for i := 0; i < 25; i++ {
		in = append(in, strings.Repeat("x", i))
	}
	files.WriteLines(s, filepath.Join(dir, "out", "part"), ".jsonl.gz", beam.ParDo(s, toBytes, beam.CreateList(s, in)), files.MaxRecordsPerFile(10))
	ptest.RunAndValidate(t, p)
	names, _ := filepath.Glob(filepath.Join(dir, "out", "*"))
	if len(names) < 3 {
		t.Fatalf("wrote %v, want at least 3 shards of at most 10 lines", names)
	}
	for _, n := range names {
		if !strings.Contains(n, "part-0000") || !strings.HasSuffix(n, "-of-0000"+string(rune('0'+len(names)))+".jsonl.gz") {
			t.Errorf("shard name %s does not read part-NNNNN-of-%05d.jsonl.gz", n, len(names))
		}
	}
	got := readAll(t, names, func(n string) []byte { b, _ := os.ReadFile(n); return b })
	sort.Strings(in)
	if strings.Join(got, ",") != strings.Join(in, ",") {
		t.Errorf("lines read back = %q, want %q", got, in)
	}
}

func TestReadAndWriteGCS(t *testing.T) {
	srv := testenv.FakeGCS(t, "lake")
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "lake", Name: "in/day=1/a.jsonl"}, Content: []byte("a1\na2\n")})
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "lake", Name: "in/day=2/b.jsonl.gz"}, Content: gz("b1\n")})
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "lake", Name: "in/day=2/skip.txt"}, Content: []byte("no\n")})
	p, s := beam.NewPipelineWithRoot()
	recs := files.Read(s, "gs://lake/in/*/*.jsonl*")
	passert.Equals(s, beam.ParDo(s, lineOf, recs), "a.jsonl:1:a1", "a.jsonl:2:a2", "b.jsonl.gz:1:b1")
	files.WriteLines(s, "gs://lake/out/part", ".jsonl", beam.ParDo(s, toBytes, beam.Create(s, "x", "y")))
	ptest.RunAndValidate(t, p)
	objs, _, err := srv.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "out/"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, "gs://lake/"+o.Name)
	}
	if len(names) == 0 || strings.Contains(strings.Join(names, ","), ".temp-") {
		t.Fatalf("objects under out/ = %v, want final shards only", names)
	}
	got := readAll(t, names, func(n string) []byte {
		o, err := srv.GetObject("lake", strings.TrimPrefix(n, "gs://lake/"))
		if err != nil {
			t.Fatal(err)
		}
		return o.Content
	})
	if strings.Join(got, ",") != "x,y" {
		t.Errorf("gs:// lines = %q, want x,y", got)
	}
}

func TestReadFileDecidesGzipByContent(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "served-decompressed.jsonl.gz") // as GCS serves transcoded objects
	zipped := filepath.Join(dir, "no-suffix")
	os.WriteFile(plain, []byte("p1\n"), 0o644)
	os.WriteFile(zipped, gz("z1\n"), 0o644)
	for name, want := range map[string]string{plain: "p1", zipped: "z1"} {
		var got []string
		if err := files.ReadFile(context.Background(), name, false, 0, func(r record.Record) error {
			got = append(got, string(r.Payload))
			return nil
		}); err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("ReadFile(%s) = %q, %v; want [%s]", filepath.Base(name), got, err, want)
		}
	}
}

func TestJoin(t *testing.T) {
	for _, tt := range []struct {
		parts []string
		want  string
	}{
		{[]string{"out", "clean", "part"}, "out/clean/part"},
		{[]string{"out/", "dead"}, "out/dead"},
		{[]string{"gs://lake/ingest", "summary.json"}, "gs://lake/ingest/summary.json"},
		{[]string{"gs://lake/", "clean", "source={key}"}, "gs://lake/clean/source={key}"},
		{[]string{"", "x"}, "x"},
	} {
		if got := files.Join(tt.parts...); got != tt.want {
			t.Errorf("Join(%q) = %q, want %q", tt.parts, got, tt.want)
		}
	}
}
