// Command gentestdata writes Beamline's testdata/ files (web events, orders and bad records)
// deterministically; `make testdata` runs it. With -orders N -out DIR it writes N orders
// in shards instead, for benchmarks.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/beamline/beamline/internal/dev/gen"
)

func main() {
	dir := flag.String("dir", "testdata", "testdata directory to write")
	orders := flag.Int("orders", 0, "write this many orders to -out instead of testdata")
	out := flag.String("out", "", "directory for -orders")
	shards := flag.Int("shards", 4, "files for -orders")
	flag.Parse()
	if *orders > 0 {
		if *out == "" {
			log.Fatal("-out is required with -orders")
		}
		if err := gen.WriteOrders(*out, *orders, *shards); err != nil {
			log.Fatal(err)
		}
		return
	}
	write := func(name string, b []byte) {
		p := filepath.Join(*dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println("wrote", p)
	}
	write("web/site_a/events-1.jsonl", gen.WebA(1, 0, 300))
	write("web/site_a/events-2.jsonl", gen.WebA(2, 300, 200))
	webB := gen.WebB(3, 300)
	for _, c := range gen.BadWebB() {
		webB = append(append(webB, c.Line...), '\n')
	}
	write("web/site_b/events.csv", webB)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(gen.WebC(4, 300))
	zw.Close()
	write("web/site_c/events.jsonl.gz", z.Bytes())
	write("orders/orders.jsonl", gen.Orders(5, 500))
	write("bad/orders_bad.jsonl", gen.BadOrdersFile())
}
