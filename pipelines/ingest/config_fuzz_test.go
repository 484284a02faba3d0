package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds the ingest job's --sources loader arbitrary files: it returns configs
// whose clean steps build, or an error that names the flag or the file; it never panics.
func FuzzLoadConfig(f *testing.F) {
	if b, err := os.ReadFile(sources); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"- {name: a, kind: k, format: json, glob: x/*.jsonl, dedupe_key: id, rules: [{field: id, required: true, type: string, max_len: 64}]}",
		"- {name: a, kind: k, format: csv, glob: x, csv: {columns: [a, b]}, rules: [{field: a, regex: '['}]}",
		"- {name: a, kind: k, format: json, glob: /abs/x, normalise: {money: [{amount: total, currency: currency}]}}",
		"- {name: a, kind: k, format: json, subscription: pubsub://projects/p/subscriptions/s}",
		"- {name: a, kind: k, format: json, glob: 'gs://b/*.json', max_bytes: -1, event_time: {field: t, format: epoch_ms}}",
		"- {name: a, kind: k, format: json, glob: x, rules: [{field: n, type: integer, min: 5, max: 1}]}",
		"[", "", "- {}",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "sources.yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cfgs, err := LoadConfig(path)
		if err != nil {
			if cfgs != nil || !strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), "--sources") {
				t.Fatalf("LoadConfig(%q) = %v, %q: want no configs and an error naming the file", b, cfgs, err)
			}
			return
		}
		if len(cfgs) == 0 {
			t.Fatalf("LoadConfig(%q) = no sources and no error", b)
		}
		for _, c := range cfgs {
			if err := c.Validate(); err != nil {
				t.Fatalf("LoadConfig(%q) returned %q, which does not validate: %v", b, c.Name, err)
			}
			if err := c.check(); err != nil {
				t.Fatalf("LoadConfig(%q) returned %q, whose clean steps do not build: %v", b, c.Name, err)
			}
			if c.Glob != "" && !strings.Contains(c.Glob, "://") && !filepath.IsAbs(c.Glob) {
				t.Fatalf("LoadConfig(%q): glob %q of %q is not taken relative to the file", b, c.Glob, c.Name)
			}
		}
	})
}
