package recommend_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/io/modelstore"
	"github.com/beamline/beamline/models/recommend"
)

func TestSplitByTime(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	in := func(u, i string, h int) recommend.Interaction {
		return recommend.Interaction{User: u, Item: i, Time: at(h)}
	}
	ins := []recommend.Interaction{
		// u1: five interactions, the last order has two lines (h 9): both held out.
		in("u1", "a", 1), in("u1", "b", 2), in("u1", "c", 3), in("u1", "d", 9), in("u1", "e", 9),
		// u2: four: too few, all trained on.
		in("u2", "a", 1), in("u2", "b", 2), in("u2", "c", 3), in("u2", "d", 4),
		// u3: the last interaction repeats an earlier item: nothing new to find.
		in("u3", "a", 1), in("u3", "b", 2), in("u3", "c", 3), in("u3", "d", 4), in("u3", "a", 5),
		// u4: the held-out order repeats one item and adds one; out of order in the input.
		in("u4", "f", 8), in("u4", "a", 1), in("u4", "b", 2), in("u4", "c", 3), in("u4", "a", 8),
		// invalid: dropped.
		{User: "", Item: "a", Time: at(1)},
	}
	sp := recommend.SplitByTime(ins, 5)
	wantTest := map[string][]string{"u1": {"d", "e"}, "u4": {"f"}}
	wantOwned := map[string][]string{"u1": {"a", "b", "c"}, "u4": {"a", "b", "c"}}
	if d := cmp.Diff(wantTest, sp.Test); d != "" {
		t.Errorf("Test (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantOwned, sp.Owned); d != "" {
		t.Errorf("Owned (-want +got):\n%s", d)
	}
	if sp.Few != 1 || sp.RepeatOnly != 1 {
		t.Errorf("Few, RepeatOnly = %d, %d, want 1, 1", sp.Few, sp.RepeatOnly)
	}
	// Trained on: u1's 3, u2's 4, u3's 4 (its held-out repeat is not), u4's 3.
	if len(sp.Train) != 14 {
		t.Errorf("len(Train) = %d, want 14", len(sp.Train))
	}
}

// Metrics by hand on a popularity model: popularity order a, b, c, d, e, f.
func TestEvaluate(t *testing.T) {
	var ins []recommend.Interaction
	for n, it := range []string{"a", "b", "c", "d", "e", "f"} {
		for u := range 7 - n {
			ins = append(ins, recommend.Interaction{User: string(rune('p' + u)), Item: it, Time: t0})
		}
	}
	m, err := recommend.Train(ins, recommend.Params{Algo: recommend.AlgoPopularity})
	if err != nil {
		t.Fatal(err)
	}
	sp := recommend.Split{
		Test: map[string][]string{
			"x": {"b"},      // owns a: recs b c d → hit at rank 1
			"y": {"d", "f"}, // owns nothing: recs a b c → miss
			"z": {"e"},      // owns a b: recs c d e → hit at rank 3
		},
		Owned: map[string][]string{"x": {"a"}, "z": {"a", "b"}},
	}
	got := recommend.Evaluate(m, sp, 3)
	ndcg := (1 + 1/math.Log2(4)) / 3
	want := recommend.Metrics{Model: "popularity", Users: 3, K: 3, HitRate: 2.0 / 3, NDCG: ndcg, Recall: 2.0 / 3, Coverage: 5.0 / 6}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-12 })); d != "" {
		t.Errorf("Evaluate (-want +got):\n%s", d)
	}
}

// Every learned model beats popularity at hit@10 on users with tastes, and the report
// carries popularity first.
func TestTrainAndEvaluateBeatsPopularity(t *testing.T) {
	ins := tasteData(5, 600, 400, 20, 10)
	params := []recommend.Params{
		{Algo: recommend.AlgoALS, Seed: 1},
		{Algo: recommend.AlgoItemItem},
		{Algo: recommend.AlgoBPR, Seed: 1},
	}
	m, rep, err := recommend.TrainAndEvaluate(ins, params, 5)
	if err != nil {
		t.Fatal(err)
	}
	if m.Params.Algo != recommend.AlgoALS || rep.Chosen != m.Params.Name() {
		t.Errorf("published %s (report says %s), want the first candidate, als", m.Params.Name(), rep.Chosen)
	}
	if len(rep.Results) != 4 || rep.Results[0].Model != "popularity" {
		t.Fatalf("results %+v: want popularity then three candidates", rep.Results)
	}
	pop := rep.Results[0]
	for _, r := range rep.Results {
		t.Logf("%-40s users %d hit@10 %.3f ndcg@10 %.3f recall@10 %.3f coverage %.3f train %.2fs",
			r.Model, r.Users, r.HitRate, r.NDCG, r.Recall, r.Coverage, r.TrainSeconds)
		if r.Users != rep.EvalUsers || r.Users < 200 {
			t.Errorf("%s evaluated %d users, want all %d (and at least 200)", r.Model, r.Users, rep.EvalUsers)
		}
	}
	for _, r := range rep.Results[1:] {
		if r.HitRate <= pop.HitRate*1.2 {
			t.Errorf("%s hit@10 %.3f, want 20%% above popularity's %.3f", r.Model, r.HitRate, pop.HitRate)
		}
	}
}

// A published model opens to the same recommendations; another kind and a broken model.json
// are refused with the store's error classes.
func TestArtifactRoundTrip(t *testing.T) {
	ctx := context.Background()
	ins := tasteData(6, 100, 80, 8, 6)
	for _, p := range allAlgos {
		t.Run(p.Name(), func(t *testing.T) {
			root := t.TempDir()
			m, rep, err := recommend.TrainAndEvaluate(ins, []recommend.Params{p}, 5)
			if err != nil {
				t.Fatal(err)
			}
			man, files, err := m.Artifact("recs", rep, modelstore.TrainingData{Input: "x.jsonl"})
			if err != nil {
				t.Fatal(err)
			}
			v, err := modelstore.Publish(ctx, root, "recs", man, files)
			if err != nil {
				t.Fatal(err)
			}
			a, err := modelstore.OpenLatest(ctx, root, "recs", modelstore.WithKind(recommend.Kind))
			if err != nil {
				t.Fatal(err)
			}
			got, err := recommend.FromArtifact(a)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "recs" || got.Version != v {
				t.Errorf("FromArtifact = %s/%s, want recs/%s", got.Name, got.Version, v)
			}
			for _, u := range []string{"u0001", "u0042", "cold"} {
				owned := []string{"i0001", "i0010"}
				if d := cmp.Diff(m.Recommend(u, owned, 10), got.Recommend(u, owned, 10)); d != "" {
					t.Errorf("Recommend(%s) after the round trip (-before +after):\n%s", u, d)
				}
			}
			if a.Manifest.Metrics["hit_at_10"] == 0 && p.Algo != recommend.AlgoPopularity {
				t.Errorf("manifest metrics %v lack hit_at_10", a.Manifest.Metrics)
			}

			bad := *a
			bad.Manifest.Kind = "textclass.linear"
			if _, err := recommend.FromArtifact(&bad); !errors.Is(err, modelstore.ErrIncompatible) {
				t.Errorf("FromArtifact(kind textclass.linear) = %v, want ErrIncompatible", err)
			}
			var raw map[string]any
			_ = json.Unmarshal(a.Files[recommend.FileModel], &raw)
			raw["popularity"] = []int{1}
			b, _ := json.Marshal(raw)
			bad = *a
			bad.Files = map[string][]byte{recommend.FileModel: b}
			if _, err := recommend.FromArtifact(&bad); !errors.Is(err, modelstore.ErrCorrupt) {
				t.Errorf("FromArtifact(one popularity) = %v, want ErrCorrupt", err)
			}
			_ = os.RemoveAll(filepath.Join(root, "recs"))
		})
	}
}

func BenchmarkRecommendALS(b *testing.B) {
	ins := tasteData(7, 2000, 2000, 20, 10)
	m, err := recommend.Train(ins, recommend.Params{Algo: recommend.AlgoALS, Iterations: 3})
	if err != nil {
		b.Fatal(err)
	}
	owned := []string{"i0001", "i0100", "i1000"}
	b.ReportAllocs()
	for b.Loop() {
		m.Recommend("u0100", owned, 10)
	}
}

func BenchmarkTrainALS(b *testing.B) {
	ins := tasteData(7, 2000, 2000, 20, 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := recommend.Train(ins, recommend.Params{Algo: recommend.AlgoALS, Iterations: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
