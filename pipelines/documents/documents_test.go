package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/internal/dev/toymodel"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/transforms/apply"
	"github.com/beamline/beamline/transforms/record"
)

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	testenv.StopShared()
	os.Exit(code)
}

var t0 = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

func setFlags(t *testing.T, input, models, output, dead string, refresh, idle time.Duration) {
	t.Helper()
	old := []string{*inputFlag, *modelDirFlag, *outputFlag, *deadFlag}
	oldR, oldI := *refreshFlag, *idleFlag
	*inputFlag, *modelDirFlag, *outputFlag, *deadFlag = input, models, output, dead
	*refreshFlag, *idleFlag = refresh, idle
	t.Cleanup(func() {
		*inputFlag, *modelDirFlag, *outputFlag, *deadFlag = old[0], old[1], old[2], old[3]
		*refreshFlag, *idleFlag = oldR, oldI
	})
}

func readLines(t *testing.T, glob string) []string {
	t.Helper()
	names, _ := filepath.Glob(glob)
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestBatchPredictsAndDeadLetters: files in, one prediction per good document with the
// model's name and version, every bad document in the dead letter with its reason.
func TestBatchPredictsAndDeadLetters(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	v := toymodel.Publish(t, models, "topics", t0, "games", "net", "audio")
	in := filepath.Join(dir, "docs.jsonl")
	lines := []string{
		`{"id":"d1","text":"a tcp proxy for the network"}`,
		`{"id":"d2","text":"music mixer with sound"}`,
		`{"id":"d3","text":"strategy game"}`,
		`{"id":"e1","text":"   "}`,
		`{"id":"e2","text":"qqq zzz"}`,
		`{"text":"no id"}`,
		`{"id":"e4","text":"` + strings.Repeat("x", 200) + `"}`,
		`{broken`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	setFlags(t, in, models, out, "", time.Minute, 0)
	old := *maxTextFlag
	*maxTextFlag = 100
	defer func() { *maxTextFlag = old }()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range readLines(t, filepath.Join(out, "predictions", "*.jsonl")) {
		var p apply.Prediction
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("prediction line %q: %v", l, err)
		}
		if p.Model != "topics" || p.ModelVersion != v || len(p.Topics) != 3 {
			t.Errorf("prediction %s: model %s@%s with %d topics, want topics@%s with 3 (all the labels)", p.ID, p.Model, p.ModelVersion, len(p.Topics), v)
		}
		got[p.ID] = p.Topics[0].Label
	}
	want := map[string]string{"d1": "net", "d2": "audio", "d3": "games"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("top topics = %v, want %v", got, want)
	}
	reasons := map[string]int{}
	for _, l := range readLines(t, filepath.Join(out, "dead", "*.jsonl")) {
		var f record.Failure
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		reasons[record.BaseReason(f.Reason)]++
	}
	if n := len(lines) - len(want); sum(reasons) != n || reasons[apply.ReasonNoKnownTerms] != 1 {
		t.Errorf("dead letter reasons %v: want %d lines, one %s", reasons, n, apply.ReasonNoKnownTerms)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestStreamingPicksUpNewVersionsAndRefusesACorruptOne is the check on prism: a
// running streaming job classifies with v1, then with v2 once it is published, and when a
// corrupt v3 is published it refuses it and carries on with v2 — without a restart.
func TestStreamingPicksUpNewVersionsAndRefusesACorruptOne(t *testing.T) {
	emu := testenv.PubSub(t)
	c := emu.Client(t)
	inTopic, inSub := emu.TopicWithSubscription(t, c, "docs-in", "docs-in-sub", 60)
	_, outSub := emu.TopicWithSubscription(t, c, "docs-out", "docs-out-sub", 60)
	col := testenv.Collect(t, c, outSub)

	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	v1 := toymodel.Publish(t, models, "topics", t0, "games", "net")
	setFlags(t, "pubsub://"+inSub, models, "pubsub://projects/"+emu.Project+"/topics/docs-out", filepath.Join(dir, "dead"),
		100*time.Millisecond, 8*time.Second)

	done := make(chan error, 1)
	go func() { done <- run(context.Background()) }()

	batch := func(round, n int) {
		var msgs []*gpubsub.Message
		for i := 0; i < n; i++ {
			b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("r%d-%03d", round, i), "text": "tcp proxy music"})
			msgs = append(msgs, &gpubsub.Message{Data: b})
		}
		testenv.Publish(t, c, inTopic, msgs)
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(90 * time.Second)
		for col.Count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d predictions arrived", col.Count(), n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	const n = 20
	batch(1, n)
	waitFor(n)
	v2 := toymodel.Publish(t, models, "topics", t0.Add(time.Hour), "games", "net", "audio")
	time.Sleep(300 * time.Millisecond) // past the refresh interval
	batch(2, n)
	waitFor(2 * n)
	v3 := toymodel.Publish(t, models, "topics", t0.Add(2*time.Hour), "games")
	corrupt(t, filepath.Join(models, "topics", v3, "model.bin"))
	time.Sleep(300 * time.Millisecond)
	batch(3, n)
	waitFor(3 * n)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs, _ := col.Stop(time.Second)

	byRound := map[string]map[string]int{}
	for _, m := range msgs {
		var p apply.Prediction
		if err := json.Unmarshal(m.GetData(), &p); err != nil {
			t.Fatal(err)
		}
		round := p.ID[:2]
		if byRound[round] == nil {
			byRound[round] = map[string]int{}
		}
		byRound[round][p.ModelVersion]++
		if m.GetAttributes()["model_version"] != p.ModelVersion {
			t.Errorf("message attribute model_version %q, body %q", m.GetAttributes()["model_version"], p.ModelVersion)
		}
	}
	want := map[string]map[string]int{"r1": {v1: n}, "r2": {v2: n}, "r3": {v2: n}}
	if fmt.Sprint(byRound) != fmt.Sprint(want) {
		t.Errorf("versions used per round = %v, want %v (v3 %s is corrupt and must be refused)", byRound, want, v3)
	}
	if _, err := modelstore.Open(context.Background(), models, "topics", v3); err == nil {
		t.Errorf("the corrupted v3 opens without error: the test did not corrupt it")
	}
}

// corrupt flips one byte of a published file, as a bad disk or a partial copy would.
func corrupt(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
