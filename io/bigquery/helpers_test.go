package bigquery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/transforms/record"
	bqv2 "google.golang.org/api/bigquery/v2"
	"google.golang.org/api/iterator"
)

// patchRecorder is a loopback HTTP proxy in front of the emulator that keeps the bodies of
// tables.patch requests.
type patchRecorder struct {
	URL     string
	mu      sync.Mutex
	patches []bqv2.Table
}

func newPatchRecorder(t testing.TB, target string) *patchRecorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &patchRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPatch || req.Method == http.MethodPut {
			body, _ := io.ReadAll(req.Body)
			var tb bqv2.Table
			if err := json.Unmarshal(body, &tb); err == nil {
				r.mu.Lock()
				r.patches = append(r.patches, tb)
				r.mu.Unlock()
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *patchRecorder) Patches() []bqv2.Table {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bqv2.Table(nil), r.patches...)
}

// One emulator serves the tests that need nothing special of it; each uses its own tables.
var (
	sharedOnce sync.Once
	shared     *testenv.BQ
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

func emulator(t testing.TB) *testenv.BQ {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = testenv.StartBigQuery() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func connOf(b *testenv.BQ) bigquery.Conn { return bigquery.EmulatorConn(b.HTTP, b.GRPC) }

func tableOf(b *testenv.BQ, name string) bigquery.Table {
	return bigquery.Table{Project: b.Project, Dataset: b.Dataset, Table: name}
}

func client(t testing.TB, b *testenv.BQ) *bq.Client {
	t.Helper()
	c, err := bq.NewClient(context.Background(), b.Project, b.RESTOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// query returns the rows of sql.
func query(t testing.TB, c *bq.Client, sql string) [][]bq.Value {
	t.Helper()
	it, err := c.Query(sql).Read(context.Background())
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	var out [][]bq.Value
	for {
		var row []bq.Value
		err := it.Next(&row)
		if err == iterator.Done {
			return out
		}
		if err != nil {
			t.Fatalf("query %q: %v", sql, err)
		}
		out = append(out, row)
	}
}

// Address and Item are nested rows of Order.
type Address struct {
	City string `json:"city"`
	Zip  string `json:"zip"`
}

type Item struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

// Order is a realistic row: money as minor units, a timestamp with microseconds, a nested
// record, repeated scalars and records, and a nullable column.
type Order struct {
	ID        int64     `json:"id"`
	Customer  string    `json:"customer"`
	Amount    int64     `json:"amount" numeric:"2"`
	CreatedAt time.Time `json:"created_at"`
	Tags      []string  `json:"tags"`
	Address   Address   `json:"address"`
	Items     []Item    `json:"items"`
	Note      *string   `json:"note"`
}

var base = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

// orderOf is the deterministic order i, so checksums can be computed on both sides.
func orderOf(i int64) Order {
	o := Order{
		ID:        i,
		Customer:  fmt.Sprintf("customer-%d", i%997),
		Amount:    i%100000 - 5000, // some negative: refunds
		CreatedAt: base.Add(time.Duration(i) * 1001 * time.Microsecond),
		Tags:      []string{"a", fmt.Sprint("t", i%7)},
		Address:   Address{City: "Lyon", Zip: fmt.Sprintf("%05d", i%99999)},
		Items:     []Item{{SKU: "sku-1", Qty: i % 5}, {SKU: "sku-2", Qty: 1}},
	}
	if i%3 == 0 {
		n := "gift"
		o.Note = &n
	}
	return o
}

// orderChecksum is what the checksum query returns for orders 0..n-1.
func orderChecksum(n int64) (sumID, sumCents, sumMicros, sumQty int64) {
	for i := range n {
		o := orderOf(i)
		sumID += o.ID
		sumCents += o.Amount
		sumMicros += o.CreatedAt.UnixMicro() - base.UnixMicro()
		for _, it := range o.Items {
			sumQty += it.Qty
		}
	}
	return
}

const checksumSQL = "SELECT COUNT(*), SUM(id), CAST(SUM(amount) * 100 AS INT64), SUM(UNIX_MICROS(created_at) - %d), " +
	"SUM((SELECT SUM(it.qty) FROM UNNEST(items) AS it)), COUNTIF(note IS NULL) FROM %s"

func checkOrders(t *testing.T, c *bq.Client, table bigquery.Table, n int64) {
	t.Helper()
	got := query(t, c, fmt.Sprintf(checksumSQL, base.UnixMicro(), table.SQL()))
	id, cents, micros, qty := orderChecksum(n)
	nulls := n - (n+2)/3
	want := []bq.Value{n, id, cents, micros, qty, nulls}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("checksum of %s = %v, want %v (count, sum id, sum cents, sum micros, sum qty, null notes)", table, got, want)
	}
}

// genFn emits orders [Seed*Per, (Seed+1)*Per).
type genFn struct {
	Per int64 `json:"per"`
}

func (f *genFn) ProcessElement(seed int64, emit func(Order)) {
	for i := seed * f.Per; i < (seed+1)*f.Per; i++ {
		emit(orderOf(i))
	}
}

func reasonOf(f record.Failure) string { return f.Reason }

func init() {
	beam.RegisterType(reflect.TypeFor[Order]())
	register.DoFn2x0[int64, func(Order)](&genFn{})
	register.Emitter1[Order]()
	register.Function1x1(reasonOf)
}

// orders is PCollection<Order> of n orders generated on the workers in 10 parts.
func orders(s beam.Scope, n int64) beam.PCollection {
	parts := int64(10)
	if n < parts {
		parts = 1
	}
	seeds := make([]int64, parts)
	for i := range seeds {
		seeds[i] = int64(i)
	}
	return beam.ParDo(s, &genFn{Per: n / parts}, beam.CreateList(s, seeds))
}
