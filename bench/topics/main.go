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

	"github.com/beamline/beamline/internal/dev/topicsbench"
)

var (
	corpusFlag  = flag.String("corpus", "out/topics/debian.ndjson", "labelled NDJSON corpus (make corpus builds the Debian one)")
	heldOutFlag = flag.Int("held_out", 20, "percent of documents held out by stable hash of the id")
	pythonFlag  = flag.String("python", "/usr/bin/python3", "Python with scikit-learn (Debian: apt-get install python3-sklearn)")
	modelsFlag  = flag.String("sklearn_models", "MultinomialNB ComplementNB LinearSVC SGDClassifier(log_loss) LogisticRegression", "scikit-learn models to run (names as sklearn_topics.py prints them); empty skips scikit-learn")
)

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
	for _, o := range topicsbench.Models {
		r, err := topicsbench.Run("beamline "+o.Name, o.Config, train, test)
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

// verdict prints the targets against this run's figures: quality against the best
// scikit-learn model of each measure, speed and training time for each of our models.
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
	speed := func(r topicsbench.Result) float64 { return r.PredictDPS }
	fmt.Println("\ntargets, against scikit-learn in this run:")
	for _, m := range ours {
		bp, br := best(theirs, p1), best(theirs, r5)
		fmt.Printf("  %s\n", m.Model)
		fmt.Printf("    precision@1 %.4f vs best %.4f (%s): %s\n", m.PAt1, bp.PAt1, bp.Model, ok(m.PAt1 >= bp.PAt1))
		fmt.Printf("    recall@5    %.4f vs best %.4f (%s): %s\n", m.RecallAt5, br.RecallAt5, br.Model, ok(m.RecallAt5 >= br.RecallAt5))
		fast := best(theirs, speed)
		fmt.Printf("    prediction  %.1f× the fastest, %s (%.0f vs %.0f docs/s per core; target ≥ 10×): %s\n",
			m.PredictDPS/fast.PredictDPS, fast.Model, m.PredictDPS, fast.PredictDPS, ok(m.PredictDPS >= 10*fast.PredictDPS))
		for _, t := range theirs {
			if strings.Contains(t.Model, "NB") {
				continue // the training target is against the linear models
			}
			fmt.Printf("    training    %.1f× faster than %s (%.2fs vs %.2fs; target ≥ 5×): %s\n",
				t.TrainS/m.TrainS, t.Model, m.TrainS, t.TrainS, ok(t.TrainS >= 5*m.TrainS))
		}
	}
}

func ok(b bool) string {
	if b {
		return "met"
	}
	return "NOT met"
}
