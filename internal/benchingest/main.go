// Command benchingest measures the ingest job on prism over generated orders against a bare
// pipeline over the same files in the same run: the bare one reads with the same reader, does
// the same checks by hand in one ParDo (struct decode, rules, currency to minor units) and
// writes with the same writer. Each pipeline runs in a child process so its peak RSS is its own.
//
//	go run ./internal/benchingest -n 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/beamline/beamline/internal/gen"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/internal/orderbench"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

var (
	n      = flag.Int("n", 1_000_000, "orders to generate")
	dir    = flag.String("dir", "", "work directory (default: a new temporary one)")
	mode   = flag.String("mode", "", "internal: ingest, ingest-nodedupe or bare, run in a child")
	shards = flag.Int("shards", 8, "input files")
	prof   = flag.String("cpuprofile", "", "internal: write a CPU profile of the child")
)

func init() {
	register.DoFn2x2[context.Context, record.Record, []byte, error](&bareFn{})
	register.Function1x2(encodeRecord)
}

func main() {
	flag.Parse()
	beam.Init()
	if *mode != "" {
		if *prof != "" {
			f, err := os.Create(*prof)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		if err := child(*mode, *dir); err != nil {
			log.Fatal(err)
		}
		return
	}
	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "benchingest-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
	}
	t0 := time.Now()
	if err := gen.WriteOrders(filepath.Join(d, "in"), *n, *shards); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("generated %d orders in %d files in %s\n", *n, *shards, time.Since(t0).Round(time.Millisecond))
	type result struct {
		wall time.Duration
		rss  int64
	}
	res := map[string]result{}
	for _, m := range []string{"bare", "ingest-nodedupe", "ingest"} {
		os.RemoveAll(filepath.Join(d, "out-"+m))
		cmd := exec.Command(os.Args[0], "-mode="+m, "-dir="+d)
		cmd.Stderr = nil
		out := &strings.Builder{}
		cmd.Stdout = out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			log.Fatalf("%s: %v\n%s", m, err, out)
		}
		wall := time.Since(start)
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		res[m] = result{wall, ru.Maxrss * 1024}
		fmt.Printf("%-16s %8.2fs %9.0f records/s  peak RSS %6.0f MiB  %s", m, wall.Seconds(), float64(*n)/wall.Seconds(), float64(ru.Maxrss)/1024, out)
	}
	b := res["bare"].wall.Seconds()
	fmt.Printf("ratio ingest/bare %.2f, ingest-without-dedupe/bare %.2f\n", res["ingest"].wall.Seconds()/b, res["ingest-nodedupe"].wall.Seconds()/b)
}

var ordersSpec = clean.ParseSpec{Format: "json"}

func child(m, d string) error {
	p, s := beam.NewPipelineWithRoot()
	glob := filepath.Join(d, "in", "*.jsonl")
	out := filepath.Join(d, "out-"+m)
	raw := files.Read(s, glob)
	switch m {
	case "bare":
		lines := beam.ParDo(s, &bareFn{}, raw)
		files.WriteLines(s, filepath.Join(out, "part"), ".jsonl", lines)
	case "ingest", "ingest-nodedupe":
		recs := tag.Records(s, tag.Source{Name: "orders", Kind: "order", Format: "json", Glob: glob}, raw)
		norm := orderbench.Normalise("")
		ok, dead := clean.Apply(s, recs, clean.Spec{Parse: &ordersSpec, Rules: orderbench.Rules(), Normalise: &norm,
			EventTime: &clean.TimeField{Field: "created_at", Format: "auto"}})
		deads := []beam.PCollection{dead}
		if m == "ingest" {
			ok, dead = clean.Dedupe(s, ok, "order_id")
			deads = append(deads, dead)
		}
		files.WriteLines(s, filepath.Join(out, "part"), ".jsonl", beam.ParDo(s, encodeRecord, ok))
		files.WriteLines(s, filepath.Join(out, "dead"), ".jsonl", beam.ParDo(s, encodeFailure, beam.Flatten(s, deads...)))
	default:
		return fmt.Errorf("unknown mode %q", m)
	}
	start := time.Now()
	if err := beamx.Run(context.Background(), p); err != nil {
		return err
	}
	fmt.Printf("(pipeline %.2fs)\n", time.Since(start).Seconds())
	return nil
}

func encodeRecord(r record.Record) ([]byte, error) {
	r.Payload = nil
	return jsonx.Marshal(r)
}

func encodeFailure(f record.Failure) ([]byte, error) { return jsonx.Marshal(f) }

func registerFailure() { register.Function1x2(encodeFailure) }
