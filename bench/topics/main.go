// Command topics compares Beamline's topic models with scikit-learn's on the same labelled
// corpus and the same stable-hash split, in one run on one machine: precision@1, recall@5,
// hit@k, training seconds and prediction documents per second on one core (vectorise, score,
// top 5). scikit-learn runs from Debian's python3-sklearn through sklearn_topics.py beside
// this file. `make bench-topics` builds the Debian corpus and runs it.
//
//	go run ./bench/topics --corpus=out/topics/debian.ndjson
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/beamline/beamline/internal/topicsbench"
	"github.com/beamline/beamline/models/textclass"
	"github.com/beamline/beamline/transforms/features/text"
)

var (
	corpusFlag  = flag.String("corpus", "out/topics/debian.ndjson", "labelled NDJSON corpus (make corpus builds the Debian one)")
	heldOutFlag = flag.Int("held_out", 20, "percent of documents held out by stable hash of the id")
	pythonFlag  = flag.String("python", "/usr/bin/python3", "Python with scikit-learn (Debian: apt-get install python3-sklearn)")
	modelsFlag  = flag.String("sklearn_models", "MultinomialNB ComplementNB LinearSVC SGDClassifier(log_loss) LogisticRegression", "scikit-learn models to run (names as sklearn_topics.py prints them); empty skips scikit-learn")
)

// Ours are the configurations measured, named as in the report.
var Ours = []struct {
	Name string
	Cfg  textclass.Config
}{
	{"beamline MultinomialNB", textclass.Config{Algorithm: textclass.AlgoNB, Features: text.Spec{StopWords: "english", MinDF: 2}, Alpha: 0.1}},
	{"beamline ComplementNB", textclass.Config{Algorithm: textclass.AlgoComplement, Features: text.Spec{StopWords: "english", MinDF: 2}, Alpha: 0.3}},
	{"beamline linear (softmax SGD)", textclass.Config{Algorithm: textclass.AlgoLinear, Features: text.Spec{StopWords: "english", MinDF: 2, Sublinear: true},
		Linear: textclass.LinearOptions{Seed: 1}}},
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/topics:", err)
		os.Exit(1)
	}
}

func run() error {
	docs, err := topicsbench.Load(*corpusFlag)
	if err != nil {
		return fmt.Errorf("%w (make corpus builds it)", err)
	}
	train, test := topicsbench.Split(docs, *heldOutFlag)
	fmt.Printf("corpus %s: %d documents, %d train, %d held out; GOMAXPROCS=1 for every Go figure, %d CPUs\n",
		*corpusFlag, len(docs), len(train), len(test), runtime.NumCPU())
	var ours, theirs []topicsbench.Result
	for _, o := range Ours {
		r, err := topicsbench.Run(o.Name, o.Cfg, train, test)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Name, err)
		}
		ours = append(ours, r)
		fmt.Printf("  %-32s train %6.2fs  predict %8.0f docs/s  p@1 %.4f  recall@5 %.4f\n", r.Model, r.TrainS, r.PredictDPS, r.PAt1, r.RecallAt5)
	}
	if strings.TrimSpace(*modelsFlag) != "" {
		if theirs, err = sklearn(); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tfeatures\ttrain s\tpredict docs/s/core\tp@1\trecall@5\thit@1\thit@3\thit@5\t")
	for _, r := range append(append([]topicsbench.Result(nil), ours...), theirs...) {
		feat := r.Features
		if strings.HasPrefix(r.Model, "beamline") {
			feat = "go"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.0f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t\n", r.Model, feat, r.TrainS, r.PredictDPS, r.PAt1, r.RecallAt5, r.HitAt1, r.HitAt3, r.HitAt5)
	}
	tw.Flush()
	if len(theirs) > 0 {
		verdict(ours, theirs)
	}
	return nil
}

// sklearn runs sklearn_topics.py on the same corpus and split and reads its JSON lines.
func sklearn() ([]topicsbench.Result, error) {
	if _, err := os.Stat(*pythonFlag); err != nil {
		return nil, fmt.Errorf("--python=%s: %v (Debian: apt-get install python3-sklearn; or --sklearn_models= to skip)", *pythonFlag, err)
	}
	args := []string{"bench/topics/sklearn_topics.py", *corpusFlag, "--held-out", fmt.Sprint(*heldOutFlag), "--models"}
	args = append(args, strings.Fields(*modelsFlag)...)
	cmd := exec.Command(*pythonFlag, args...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	fmt.Printf("running scikit-learn: %s %s\n", *pythonFlag, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scikit-learn: %w", err)
	}
	var res []topicsbench.Result
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r topicsbench.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("scikit-learn output %q: %w", sc.Text(), err)
		}
		res = append(res, r)
	}
	return res, nil
}

// verdict prints the targets against this run's figures.
func verdict(ours, theirs []topicsbench.Result) {
	best := func(rs []topicsbench.Result, f func(topicsbench.Result) float64) topicsbench.Result {
		b := rs[0]
		for _, r := range rs[1:] {
			if f(r) > f(b) {
				b = r
			}
		}
		return b
	}
	p1 := func(r topicsbench.Result) float64 { return r.PAt1 }
	r5 := func(r topicsbench.Result) float64 { return r.RecallAt5 }
	mine := best(ours, p1)
	fmt.Printf("\ntargets (our best, %s, against scikit-learn in this run):\n", mine.Model)
	bp, br := best(theirs, p1), best(theirs, r5)
	fmt.Printf("  precision@1 %.4f vs best %.4f (%s): %s\n", mine.PAt1, bp.PAt1, bp.Model, ok(mine.PAt1 >= bp.PAt1))
	fmt.Printf("  recall@5    %.4f vs best %.4f (%s): %s\n", mine.RecallAt5, br.RecallAt5, br.Model, ok(mine.RecallAt5 >= br.RecallAt5))
	for _, t := range theirs {
		fmt.Printf("  prediction  %.1f× %s (%.0f vs %.0f docs/s per core; target ≥ 10×): %s\n",
			mine.PredictDPS/t.PredictDPS, t.Model, mine.PredictDPS, t.PredictDPS, ok(mine.PredictDPS >= 10*t.PredictDPS))
	}
	for _, t := range theirs {
		if strings.Contains(t.Model, "NB") {
			continue // the training target is against the linear models
		}
		fmt.Printf("  training    %.1f× faster than %s (%.2fs vs %.2fs; target ≥ 5×): %s\n",
			t.TrainS/mine.TrainS, t.Model, mine.TrainS, t.TrainS, ok(t.TrainS >= 5*mine.TrainS))
	}
}

func ok(b bool) string {
	if b {
		return "met"
	}
	return "NOT met"
}
