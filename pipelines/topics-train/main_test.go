package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// TestTrainPublishesAVersionAndDeadLetters runs the job on prism over a small labelled corpus
// with four bad lines: a new version lands in the store with its report, and every bad line is
// in the dead letter with its reason.
func TestTrainPublishesAVersionAndDeadLetters(t *testing.T) {
	dir := t.TempDir()
	words := map[string][]string{
		"games": {"strategy", "game", "players", "levels", "arcade", "puzzle"},
		"net":   {"network", "tcp", "packets", "server", "proxy", "dns"},
	}
	var b strings.Builder
	n := 0
	for label, w := range words {
		for k := 0; k < 30; k++ {
			line, _ := json.Marshal(textclass.Doc{ID: fmt.Sprintf("%s-%d", label, k), Labels: []string{label},
				Text: fmt.Sprintf("a %s with %s and %s", w[k%6], w[(k+2)%6], w[(k+4)%6])})
			b.Write(line)
			b.WriteByte('\n')
			n++
		}
	}
	bad := []string{
		`{"id":"x1","text":"no labels here"}`,
		`{"id":"x2","text":"   ","labels":["net"]}`,
		`{"id":"x3","text":"` + strings.Repeat("long ", 30) + `","labels":["net"]}`,
		`not json`,
	}
	b.WriteString(strings.Join(bad, "\n") + "\n")
	in := filepath.Join(dir, "docs.jsonl")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	models, dead := filepath.Join(dir, "models"), filepath.Join(dir, "dead")
	*inputFlag, *modelDirFlag, *deadFlag, *maxBytesFlag, *minDFFlag, *maxDFFlag = in, models, dead, 100, 1, 1
	defer func() {
		*inputFlag, *modelDirFlag, *deadFlag, *maxBytesFlag, *minDFFlag, *maxDFFlag = "", "", "", 100_000, 0, 0.5
	}()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := modelstore.OpenLatest(context.Background(), models, "topics", modelstore.WithKind(textclass.KindLinear))
	if err != nil {
		t.Fatal(err)
	}
	c, err := textclass.FromArtifact(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TopK("a tcp proxy and dns server", 1, new([]float32)); len(got) != 1 || got[0].Label != "net" {
		t.Errorf("published model's top-1 for a networking text = %v, want net", got)
	}
	if a.Manifest.Metrics["eval_docs"] == 0 || a.Manifest.Data.Records == 0 {
		t.Errorf("manifest metrics %v, data %+v: want held-out and training counts", a.Manifest.Metrics, a.Manifest.Data)
	}
	if int(a.Manifest.Metrics["eval_docs"])+int(a.Manifest.Data.Records) != n {
		t.Errorf("held out %v + trained %d != %d good documents", a.Manifest.Metrics["eval_docs"], a.Manifest.Data.Records, n)
	}
	for _, f := range []string{textclass.FileReportHTML, textclass.FileReport} {
		if len(a.Files[f]) == 0 {
			t.Errorf("version lacks %s", f)
		}
	}
	reasons := map[string]int{}
	matches, _ := filepath.Glob(filepath.Join(dead, "*.jsonl"))
	for _, m := range matches {
		body, _ := os.ReadFile(m)
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			var f record.Failure
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatalf("dead letter line %q: %v", line, err)
			}
			reasons[record.BaseReason(f.Reason)]++
		}
	}
	total := 0
	for _, k := range reasons {
		total += k
	}
	if total != len(bad) {
		t.Errorf("dead letter holds %d lines (%v), want the %d bad ones", total, reasons, len(bad))
	}
}
