package tag_test

import (
	"os"
	"testing"

	"github.com/beamline/beamline/transforms/tag"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
)

// FuzzParseSources feeds the sources loader arbitrary YAML and JSON: it returns valid,
// uniquely named sources or an error, never panics, and sources it returns, written back as
// YAML, load again as the same sources.
func FuzzParseSources(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/sources.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"- {name: a, kind: k, format: json, glob: x/*.jsonl}",
		`{"sources": [{"name": "a", "kind": "k", "format": "csv", "glob": "x", "csv": {"header": true, "delimiter": ";"}}]}`,
		"sources:\n  - &b {name: a, kind: k, format: text, glob: x}\n  - {<<: *b, name: b}\n",
		"- {name: a, kind: k, format: json, subscription: pubsub://projects/p/subscriptions/sub}",
		"- {name: a, kind: k, format: json, glob: x}\n- {name: a, kind: k, format: json, glob: y}",
		"- {name: A!, format: xml}", "- {name: a, kind: k, format: json, glob: x, unknown: 1}", "sources: 3",
		"a: &a [*a, *a]", "[", "", "null", "- {name: a, kind: k, format: json, glob: x, event_time: {field: ts, format: clf}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var into []tag.Source
		srcs, err := tag.ParseSources("s.yaml", b, &into)
		if err != nil {
			if srcs != nil || err.Error() == "" {
				t.Fatalf("ParseSources(%q) = %v, %q: want nil and a message", b, srcs, err)
			}
			return
		}
		if len(srcs) == 0 {
			t.Fatalf("ParseSources(%q) = no sources and no error", b)
		}
		seen := map[string]bool{}
		for i := range srcs {
			if err := srcs[i].Validate(); err != nil {
				t.Fatalf("ParseSources(%q) returned source %+v, which does not validate: %v", b, srcs[i], err)
			}
			if seen[srcs[i].Name] {
				t.Fatalf("ParseSources(%q) returned the name %q twice", b, srcs[i].Name)
			}
			seen[srcs[i].Name] = true
		}
		out, err := yaml.Marshal(srcs)
		if err != nil {
			t.Fatalf("yaml.Marshal(sources of %q): %v", b, err)
		}
		var again []tag.Source
		back, err := tag.ParseSources("s.yaml", out, &again)
		if err != nil {
			t.Fatalf("sources of %q written back as\n%s\ndo not load: %v", b, out, err)
		}
		if diff := cmp.Diff(srcs, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("sources of %q written back as\n%s\nload differently (-first +second):\n%s", b, out, diff)
		}
	})
}
