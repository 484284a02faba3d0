package bigquery

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/managedwriter"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
)

func init() {
	beam.RegisterType(reflect.TypeFor[benchOrder]())
	register.DoFn2x0[int64, func(benchOrder)](&benchGenFn{})
	register.Emitter1[benchOrder]()
}

type benchGenFn struct {
	Per int64 `json:"per"`
}

func (f *benchGenFn) ProcessElement(seed int64, emit func(benchOrder)) {
	for i := seed * f.Per; i < (seed+1)*f.Per; i++ {
		emit(benchOrderOf(i))
	}
}

const benchRows = 60_000

// BenchmarkWriteVsRaw streams the same rows into the emulator with Write (a whole prism
// pipeline: generate, encode, reshuffle, append) and with the raw managedwriter client (rows
// pre-built in memory, encoded with the same encoder, one stream, batches of
// DefaultMaxRows, four requests in flight). Both report rows/s and both include creating the
// table; Write's also includes starting a prism job, generating the rows and the reshuffle
// that spreads them over shards. The emulator serialises appends, so the shards cannot add
// throughput here as they do against BigQuery: the ratio is the sink's overhead.
//
//	go test ./io/bigquery/ -run '^$' -bench BenchmarkWriteVsRaw -benchtime 3x
func BenchmarkWriteVsRaw(b *testing.B) {
	bq := testenv.BigQuery(b)
	conn := EmulatorConn(bq.HTTP, bq.GRPC)
	ctx := context.Background()
	var table int
	next := func() Table {
		table++
		return Table{Project: bq.Project, Dataset: bq.Dataset, Table: fmt.Sprintf("bench_%d", table)}
	}
	p, _ := planOf(reflect.TypeFor[benchOrder]())

	b.Run("raw_managedwriter", func(b *testing.B) {
		rows := make([]benchOrder, benchRows)
		for i := range rows {
			rows[i] = benchOrderOf(int64(i))
		}
		dp, _, _ := p.descriptor(encoding{emulator: true})
		c, err := conn.NewClient(ctx, Table{Project: bq.Project})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var elapsed time.Duration
		for b.Loop() {
			t := next()
			// Creating the table is timed on both sides: Write does it too.
			start := time.Now()
			if _, err := EnsureTable(ctx, c, t, p.schema, TableOptions{}); err != nil {
				b.Fatal(err)
			}
			mw, err := managedwriter.NewClient(ctx, bq.Project, conn.grpcOptions()...)
			if err != nil {
				b.Fatal(err)
			}
			ms, err := mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(t.streamParent()),
				managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
			if err != nil {
				b.Fatal(err)
			}
			var results []*managedwriter.AppendResult
			for lo := 0; lo < len(rows); lo += DefaultMaxRows {
				batch := make([][]byte, 0, DefaultMaxRows)
				for _, r := range rows[lo:min(lo+DefaultMaxRows, len(rows))] {
					v, p, _ := rowValue(r)
					enc, err := p.appendProto(nil, v, encoding{emulator: true})
					if err != nil {
						b.Fatal(err)
					}
					batch = append(batch, enc)
				}
				if len(results) >= DefaultMaxInflight {
					if _, err := results[0].GetResult(ctx); err != nil {
						b.Fatal(err)
					}
					results = results[1:]
				}
				res, err := ms.AppendRows(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				results = append(results, res)
			}
			for _, r := range results {
				if _, err := r.GetResult(ctx); err != nil {
					b.Fatal(err)
				}
			}
			ms.Close()
			mw.Close()
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(benchRows*b.N)/elapsed.Seconds(), "rows/s")
	})

	b.Run("beamline_Write", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			t := next()
			pl, s := beam.NewPipelineWithRoot()
			seeds := beam.CreateList(s, []int64{0, 1, 2, 3})
			rows := beam.ParDo(s, &benchGenFn{Per: benchRows / 4}, seeds)
			passert.Empty(s, Write(s, t.String(), rows, WithConn(conn)))
			start := time.Now()
			if err := ptest.Run(pl); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(benchRows*b.N)/elapsed.Seconds(), "rows/s")
	})
}
