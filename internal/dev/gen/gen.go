// Package gen writes Beamline's synthetic test data: web events of three sources in
// different shapes, orders in several currencies, and a file of bad records with the reason
// code each must be rejected with. Output is deterministic for a seed.
package gen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Start is the first event time of generated data.
var Start = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

var (
	countries = []string{"DE", "FR", "GB", "US", "JP", "SE", "CH", "PL"}
	currency  = map[string]string{"DE": "EUR", "FR": "EUR", "GB": "GBP", "US": "USD", "JP": "JPY", "SE": "SEK", "CH": "CHF", "PL": "PLN"}
	payments  = []string{"card", "paypal", "invoice"}
	actions   = []string{"view", "click", "add_to_cart", "checkout", "search"}
	paths     = []string{"/", "/items/shoes/runner-2", "/items/books/go-in-action", "/items/garden/hose-25m", "/search?q=boots", "/cart", "/checkout"}
	hosts     = []string{"Shop.Example.com", "www.example.com.", "m.example.com"}
	names     = []string{"ana", "ben", "chloe", "dmitri", "eve", "farah", "goro", "hanna"}
)

// Order is one line of an orders file.
func Order(r *rand.Rand, i int, t time.Time) []byte {
	c := countries[r.IntN(len(countries))]
	cur := currency[c]
	n := 1 + r.IntN(3)
	var items []string
	var total int64
	scale := int64(100)
	if cur == "JPY" {
		scale = 1
	}
	for j := 0; j < n; j++ {
		qty := int64(1 + r.IntN(3))
		price := int64(199+r.IntN(9800)) * scale / 100
		if cur == "JPY" {
			price = int64(300 + r.IntN(20000))
		}
		total += qty * price
		items = append(items, fmt.Sprintf(`{"sku":"SKU-%04d","qty":%d,"price":%s}`, r.IntN(5000), qty, money(price, cur)))
	}
	name := names[r.IntN(len(names))]
	email := fmt.Sprintf(" %s.%d@Example.COM ", strings.ToUpper(name[:1])+name[1:], r.IntN(1000))
	created := t.Format(time.RFC3339)
	if i%5 == 0 { // some producers write epoch seconds
		created = fmt.Sprint(t.Unix())
	}
	return fmt.Appendf(nil, `{"order_id":"O-%06d","created_at":%q,"customer":{"id":"C-%d","email":%q},"country":%q,"currency":%q,"total":%q,"payment":%q,"items":[%s]}`,
		i, created, r.IntN(5000), email, strings.ToLower(c), strings.ToLower(cur), money(total, cur), payments[r.IntN(len(payments))], strings.Join(items, ","))
}

func money(minor int64, cur string) string {
	if cur == "JPY" {
		return fmt.Sprint(minor)
	}
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}

// Orders returns n order lines starting at Start, one every few seconds.
func Orders(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	t := Start
	for i := 1; i <= n; i++ {
		t = t.Add(time.Duration(1+r.IntN(20)) * time.Second)
		b.Write(Order(r, i, t))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// WebA is nested JSON with RFC 3339 times; event ids start after first.
func WebA(seed uint64, first, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	t := Start
	for i := 1; i <= n; i++ {
		t = t.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
		fmt.Fprintf(&b, `{"event_id":"a-%06d","ts":%q,"user":{"id":"u%d","email":"%s@example.org"},"page":{"host":%q,"path":%q},"action":%q}`+"\n",
			first+i, t.Format(time.RFC3339Nano), r.IntN(300), names[r.IntN(len(names))], hosts[r.IntN(len(hosts))], paths[r.IntN(len(paths))], actions[r.IntN(len(actions))])
	}
	return b.Bytes()
}

// WebBHeader is the header line of WebB files.
const WebBHeader = "event_id,timestamp,user_id,url,action,duration_ms"

// WebB is CSV with a header line and "2006-01-02 15:04:05" times; some fields are quoted.
func WebB(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	var b bytes.Buffer
	b.WriteString(WebBHeader + "\n")
	t := Start
	for i := 1; i <= n; i++ {
		t = t.Add(time.Duration(r.IntN(8)) * time.Second)
		url := "https://" + strings.ToLower(strings.TrimSuffix(hosts[r.IntN(len(hosts))], ".")) + paths[r.IntN(len(paths))]
		if r.IntN(4) == 0 {
			url = `"` + url + `"`
		}
		fmt.Fprintf(&b, "b-%06d,%s,u%d,%s,%s,%d\n", i, t.Format("2006-01-02 15:04:05"), r.IntN(300), url, actions[r.IntN(len(actions))], r.IntN(30000))
	}
	return b.Bytes()
}

// WebC is flat JSON with epoch-millisecond times; about one line in twenty is sent twice
// (an at-least-once producer), which dedupe by content removes.
func WebC(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 4))
	var b bytes.Buffer
	t := Start
	for i := 1; i <= n; i++ {
		t = t.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
		line := fmt.Sprintf(`{"id":"c-%06d","t":%d,"uid":"u%d","path":%q,"ref":%q}`,
			i, t.UnixMilli(), r.IntN(300), paths[r.IntN(len(paths))], []string{"", "https://search.example/", "https://news.example/a"}[r.IntN(3)])
		b.WriteString(line + "\n")
		if r.IntN(20) == 0 {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

// WriteOrders writes n orders into shards files dir/orders-K.jsonl, for benchmarks.
func WriteOrders(dir string, n, shards int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	per := (n + shards - 1) / shards
	for k := 0; k < shards; k++ {
		lo, hi := k*per, min((k+1)*per, n)
		r := rand.New(rand.NewPCG(uint64(k), 9))
		var b bytes.Buffer
		t := Start
		for i := lo; i < hi; i++ {
			t = t.Add(time.Duration(r.IntN(3)) * time.Second)
			b.Write(Order(r, i+1, t))
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("orders-%d.jsonl", k)), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
