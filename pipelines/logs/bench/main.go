// Command bench measures the logs job on prism against GoAccess 1.7 on the same file in the
// same run: a real access log (testdata/logs/logstalgia-example.log) repeated to about -lines
// lines, our job built and run as a child process (so its peak RSS is its own, read from the
// child's rusage), then goaccess with the flags of the equivalence tests. It prints both wall
// times, lines/s, the ratio, both peak RSS, and checks that both counted the same.
//
//	go run ./pipelines/logs/bench -lines 1000000
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

var (
	lines = flag.Int("lines", 1_000_000, "lines of the benchmark log (the sample repeated whole, so a little more)")
	src   = flag.String("log", "testdata/logs/logstalgia-example.log", "the real log to repeat")
	dir   = flag.String("dir", "", "work directory (default: a new temporary one, removed afterwards)")
	hits  = flag.Bool("hits", true, "let the job write hits/part-*.jsonl too (its normal output)")
)

func main() {
	flag.Parse()
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "bench-logs-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		work = d
	}
	bin := filepath.Join(work, "logs")
	build := exec.Command("go", "build", "-o", bin, "github.com/beamline/beamline/pipelines/logs")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("building the job: %v", err)
	}
	input := filepath.Join(work, "bench.log")
	n, size, err := repeat(*src, input, *lines)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("input: %s, %d lines, %.1f MiB (%s repeated)\n", input, n, float64(size)/(1<<20), *src)

	out := filepath.Join(work, "out")
	ours, err := measure(bin, "--input="+input, "--output="+out, fmt.Sprintf("--hits=%v", *hits))
	if err != nil {
		log.Fatal(err)
	}
	gaJSON := filepath.Join(work, "goaccess.json")
	ga, err := measure("goaccess", input, "--no-global-config", "--log-format=COMBINED", "--no-ip-validation",
		"--max-items=100000", "-o", gaJSON)
	if err != nil {
		log.Fatalf("%v (is goaccess installed? tools/setup.sh test installs it)", err)
	}

	var sum struct {
		Requests, Bytes, UniqueVisitors, LinesRead int64
	}
	var sumJSON struct {
		Requests       int64 `json:"requests"`
		Bytes          int64 `json:"bytes"`
		UniqueVisitors int64 `json:"unique_visitors"`
		LinesRead      int64 `json:"lines_read"`
	}
	if err := readJSON(filepath.Join(out, "summary.json"), &sumJSON); err != nil {
		log.Fatal(err)
	}
	sum.Requests, sum.Bytes, sum.UniqueVisitors, sum.LinesRead = sumJSON.Requests, sumJSON.Bytes, sumJSON.UniqueVisitors, sumJSON.LinesRead
	var gr struct {
		General struct {
			Total     int64 `json:"total_requests"`
			Valid     int64 `json:"valid_requests"`
			Visitors  int64 `json:"unique_visitors"`
			Bandwidth int64 `json:"bandwidth"`
		} `json:"general"`
	}
	if err := readJSON(gaJSON, &gr); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("\n%-22s %10s %12s %14s\n", "", "wall", "lines/s", "peak RSS")
	fmt.Printf("%-22s %9.2fs %12.0f %11.0f MiB\n", "beamline logs (prism)", ours.wall.Seconds(), float64(n)/ours.wall.Seconds(), ours.rssMiB)
	fmt.Printf("%-22s %9.2fs %12.0f %11.0f MiB\n", "goaccess 1.7", ga.wall.Seconds(), float64(n)/ga.wall.Seconds(), ga.rssMiB)
	fmt.Printf("ratio (beamline / goaccess wall time): %.2f×; lines/s beamline / goaccess: %.2f× (target ≥ 1.0×)\n",
		ours.wall.Seconds()/ga.wall.Seconds(), ga.wall.Seconds()/ours.wall.Seconds())
	same := sum.Requests == gr.General.Valid && sum.Bytes == gr.General.Bandwidth && sum.UniqueVisitors == gr.General.Visitors && sum.LinesRead == gr.General.Total
	fmt.Printf("counts: beamline %d lines, %d requests, %d bytes, %d visitors; goaccess %d, %d, %d, %d; equal: %v\n",
		sum.LinesRead, sum.Requests, sum.Bytes, sum.UniqueVisitors, gr.General.Total, gr.General.Valid, gr.General.Bandwidth, gr.General.Visitors, same)
	if !same {
		os.Exit(1)
	}
}

// repeat writes the lines of src again and again to dst until it holds at least n lines.
func repeat(src, dst string, n int) (lines int, size int64, err error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return 0, 0, fmt.Errorf("-log: %w (run from the repository root, or give -log=PATH)", err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	per := bytes.Count(b, []byte("\n"))
	f, err := os.Create(dst)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	for lines < n {
		if _, err := f.Write(b); err != nil {
			return 0, 0, err
		}
		lines += per
		size += int64(len(b))
	}
	return lines, size, f.Close()
}

type result struct {
	wall   time.Duration
	rssMiB float64
}

// measure runs a command to completion and returns its wall time and peak RSS (Linux
// reports ru_maxrss in KiB).
func measure(name string, args ...string) (result, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%s: %v\n%s", name, err, tail(stderr.Bytes(), 4000))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return result{}, fmt.Errorf("%s: no rusage on this platform", name)
	}
	return result{wall: wall, rssMiB: float64(ru.Maxrss) / 1024}, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
