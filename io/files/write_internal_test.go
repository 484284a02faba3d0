package files

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestFinalizeIsIdempotent runs the rename step twice over the same temporary names, as a
// runner does when it retries a finalize that failed after renaming: the second run succeeds
// and names the same shards.
func TestFinalizeIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, ".temp-x")
	os.MkdirAll(tmp, 0o755)
	names := []string{filepath.Join(tmp, "b.jsonl"), filepath.Join(tmp, "a.jsonl")}
	for _, n := range names {
		os.WriteFile(n, []byte(filepath.Base(n)+"\n"), 0o644)
	}
	f := &finalizeFn{Prefix: filepath.Join(dir, "part"), Suffix: ".jsonl", TempDir: tmp}
	run := func() []string {
		var out []string
		i := 0
		err := f.ProcessElement(context.Background(), 0, func(s *string) bool {
			if i == len(names) {
				return false
			}
			*s = names[i]
			i++
			return true
		}, func(s string) { out = append(out, filepath.Base(s)) })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first, second := run(), run()
	if len(first) != 2 || first[0] != "part-00000-of-00002.jsonl" || first[1] != second[1] || first[0] != second[0] {
		t.Errorf("finalize named %v, then %v on retry", first, second)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "part-00000-of-00002.jsonl")); string(b) != "a.jsonl\n" {
		t.Errorf("shard 0 holds %q, want the first temporary file in name order", b)
	}
}
