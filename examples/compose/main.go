// Command compose composes tag and clean in a pipeline of its own: read orders, tag them,
// parse, validate, normalise, stamp event times and dedupe, with every rejected record in
// one dead-letter PCollection. The README shows this file verbatim (a test keeps them equal).
//
//	go run ./examples/compose --input='testdata/orders/*.jsonl'
package main

import (
	"context"
	"flag"
	"log"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.Function1x0(logOrders)
	register.Function1x0(logDead)
}

var input = flag.String("input", "gs://raw/orders/*.jsonl.gz", "orders to read: a local or gs:// glob, gzip or plain")

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	orders, dead := Build(s, *input)
	beam.ParDo0(s, logOrders, stats.CountElms(s, orders))
	beam.ParDo0(s, logDead, stats.CountElms(s, dead))
	if _, err := runners.Run(context.Background(), p); err != nil {
		log.Fatal(err)
	}
}

// Build reads the orders of glob through tag and clean:
//
//	orders: PCollection<record.Record>, parsed, valid, normalised, timestamped, unique
//	dead:   PCollection<record.Failure>, every record that is not in orders
func Build(s beam.Scope, glob string) (orders, dead beam.PCollection) {
	s = s.Scope("compose.Build")
	src := tag.Source{Name: "orders", Kind: "order", Format: "json", Glob: glob}
	recs := tag.Records(s, src, files.Read(s, src.Glob)) // PCollection<record.Record>

	zero := 0.0
	parsed, dead1 := clean.Parse(s, recs, clean.ParseSpec{Format: "json"})
	valid, dead2 := clean.Validate(s, parsed, []clean.Rule{
		{Field: "order_id", Required: true, Type: "string", Regex: `O-[0-9]{6}`},
		{Field: "total", Required: true, Type: "number", Min: &zero},
	})
	norm, dead3 := clean.Normalise(s, valid, clean.NormaliseSpec{
		Trim: true, Emails: []string{"customer.email"},
		Money: []clean.MoneyField{{Amount: "total", Currency: "currency"}}, // "12.30" EUR → 1230
	})
	timed, dead4 := clean.EventTime(s, norm, "created_at", "auto") // element timestamps
	orders, dups := clean.Dedupe(s, timed, "order_id")             // or DedupeStream(…, ttl)

	dead = beam.Flatten(s, dead1, dead2, dead3, dead4, dups) // PCollection<record.Failure>
	return orders, dead
}

func logOrders(n int) { log.Printf("%d clean orders", n) }
func logDead(n int)   { log.Printf("%d dead letters", n) }
