package main

import (
	"os"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// TestBuild runs the example on prism over testdata: every order of the clean file comes
// through, and of the bad file every line ends as an order or a dead letter.
func TestBuild(t *testing.T) {
	tests := []struct {
		glob       string
		read       int
		ok, dead   int
		checkSplit bool
	}{
		{glob: "../../testdata/orders/orders.jsonl", read: 500, ok: 500, dead: 0, checkSplit: true},
		{glob: "../../testdata/bad/orders_bad.jsonl", read: 30},
	}
	for _, tt := range tests {
		t.Run(tt.glob, func(t *testing.T) {
			p, s := beam.NewPipelineWithRoot()
			orders, dead := Build(s, tt.glob)
			n := stats.CountElms(s, orders)
			d := stats.CountElms(s, dead)
			passert.Equals(s, stats.Sum(s, beam.Flatten(s, n, d)), tt.read) // in = ok + dead
			if tt.checkSplit {
				passert.Equals(s, n, tt.ok)
				passert.Equals(s, d, tt.dead)
			}
			if err := ptest.Run(p); err != nil {
				t.Fatalf("compose over %s: %v", tt.glob, err)
			}
		})
	}
}

// TestREADMEShowsThisFile fails when the README's "Compose tag → clean" block and main.go differ.
func TestREADMEShowsThisFile(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## Compose tag → clean in your own pipeline"
	_, after, ok := strings.Cut(string(readme), heading)
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	_, block, ok := strings.Cut(after, "```go\n")
	if !ok {
		t.Fatalf("README.md section %q has no ```go block", heading)
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatalf("README.md section %q: the ```go block is not closed", heading)
	}
	if diff := cmp.Diff(string(src), block); diff != "" {
		t.Errorf("README.md's compose example differs from examples/compose/main.go (-file +README):\n%s", diff)
	}
}
