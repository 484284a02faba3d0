// Command genorders writes a generated day (or more) of orders with injected anomalies as
// JSON lines, for the orders job's replay in `make run`, and prints the anomalies it injected
// (with the default five: three spikes and two drops, none in the first quarter of a day).
//
//	go run ./internal/dev/ordergen/cmd/genorders --out=out/orders-day.jsonl --days=1
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/beamline/beamline/internal/dev/ordergen"
)

var (
	out       = flag.String("out", "", "file to write (required)")
	days      = flag.Int("days", 1, "days of orders from --start")
	start     = flag.String("start", "2026-11-16", "first day (a Monday by default), YYYY-MM-DD")
	anomalies = flag.Int("anomalies", 5, "anomalies to inject, in ordergen's rotation: three spikes, two drops, a silence, …")
	seed      = flag.Uint64("seed", 1, "generator seed")
	customers = flag.Int("tastes", 0, "if > 0, that many recurring customers with tastes (two favourite categories and a style; items carry a category), for the recommender")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genorders:", err)
		os.Exit(1)
	}
}

func run() error {
	if *out == "" {
		return fmt.Errorf("--out is required (e.g. --out=out/orders-day.jsonl)")
	}
	if *days < 1 {
		return fmt.Errorf("--days=%d must be at least 1", *days)
	}
	day, err := time.Parse("2006-01-02", *start)
	if err != nil {
		return fmt.Errorf("--start=%s: want YYYY-MM-DD: %v", *start, err)
	}
	cfg := ordergen.Config{Seed: *seed, Start: day, Span: time.Duration(*days) * 24 * time.Hour, Anomalies: *anomalies}
	if *customers < 0 {
		return fmt.Errorf("--tastes=%d must not be negative (e.g. --tastes=2000)", *customers)
	}
	if *customers > 0 {
		cfg.Tastes = &ordergen.Tastes{Customers: *customers}
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	an, err := ordergen.Write(f, cfg)
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("wrote %s (seed %d); injected:\n", *out, cfg.Seed)
	for _, a := range an {
		fmt.Printf("  %-7s %s – %s  ×%.2f\n", a.Kind, a.Start.Format("2006-01-02 15:04"), a.End.Format("15:04"), a.Factor)
	}
	return nil
}
