// Package ordergen generates realistic order traffic for rate-alarm tests and benchmarks:
// a diurnal and weekly rhythm, Poisson noise per minute, several countries and currencies,
// and injected anomalies (bursts, drops and silent outages) whose times it returns so a
// benchmark can score detectors. Output is deterministic for a seed.
package ordergen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Kinds of injected anomaly.
const (
	Spike   = "spike"
	Drop    = "drop"
	Silence = "silence"
)

// Anomaly is one injected change of rate: in [Start, End) the expected rate is multiplied by
// Factor (> 1 for a spike, < 1 for a drop, 0 for silence).
type Anomaly struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Kind   string    `json:"kind"`
	Factor float64   `json:"factor"`
}

// Country is a market: its code and currency as the order samples write them, and its share
// of orders.
type Country struct {
	Code     string
	Currency string
	Weight   float64
}

// DefaultCountries are the markets of the repository's order samples.
var DefaultCountries = []Country{
	{"de", "eur", 0.25}, {"fr", "eur", 0.15}, {"gb", "gbp", 0.2}, {"us", "usd", 0.2},
	{"se", "sek", 0.08}, {"pl", "pln", 0.07}, {"jp", "jpy", 0.05},
}

// Config describes the traffic. Zero fields take the defaults named.
type Config struct {
	Seed  uint64
	Start time.Time     // first minute (default Monday 2026-11-09 00:00 UTC); truncated to the minute
	Span  time.Duration // how long (default 14 days)
	// PerMinute is the mean orders per minute over a week (default 20).
	PerMinute float64
	// Anomalies is how many anomalies to inject (default 24; negative: none). They do not
	// overlap and are at least two hours apart, none in the first two days so a detector can
	// learn first.
	Anomalies int
	Countries []Country
	// Tastes, when set, makes customers recurring people with tastes (for recommender tests
	// and demos). Nil keeps the original output, byte for byte, for every seed.
	Tastes *Tastes
}

// SKUs is the size of the catalogue: SKU-0000 … SKU-4999.
const SKUs = 5000

// Tastes describes customers with tastes. Each customer has two favourite categories and a
// style; most of what they buy is in a favourite category and of their style, popular items
// of a style more often, and some customers buy far more often than others. The catalogue
// is split evenly into categories, each category evenly into styles. Zero fields take the
// defaults named.
type Tastes struct {
	Customers  int     // default 2000
	Categories int     // default 20
	Styles     int     // per category, default 4
	Loyalty    float64 // share of lines in a favourite category, default 0.85
	StyleShare float64 // share of lines of the customer's style, default 0.8
}

func (t Tastes) withDefaults() Tastes {
	if t.Customers <= 0 {
		t.Customers = 2000
	}
	if t.Categories <= 0 {
		t.Categories = 20
	}
	if t.Styles <= 0 {
		t.Styles = 4
	}
	if t.Loyalty <= 0 {
		t.Loyalty = 0.85
	}
	if t.StyleShare <= 0 {
		t.StyleShare = 0.8
	}
	return t
}

// Category is the category of a SKU number under t, e.g. "cat-07".
func (t Tastes) Category(sku int) string {
	t = t.withDefaults()
	return fmt.Sprintf("cat-%02d", min(sku/(SKUs/t.Categories), t.Categories-1))
}

// tasteModel draws customers and items for Tastes from its own random stream, so the times
// and the other fields of the orders stay those of the same seed without tastes.
type tasteModel struct {
	t        Tastes
	r        *rand.Rand
	cum      []float64 // cumulative activity of customers
	fav      [][2]int
	style    []int
	perCat   int
	perStyle int
}

func newTasteModel(t Tastes, seed uint64) *tasteModel {
	t = t.withDefaults()
	m := &tasteModel{t: t, r: rand.New(rand.NewPCG(seed, 4)), perCat: SKUs / t.Categories}
	m.perStyle = max(m.perCat/t.Styles, 1)
	var sum float64
	for range t.Customers {
		// Activity spread over two orders of magnitude: a few regulars, many occasional buyers.
		sum += math.Exp(m.r.NormFloat64())
		m.cum = append(m.cum, sum)
		m.fav = append(m.fav, [2]int{m.r.IntN(t.Categories), m.r.IntN(t.Categories)})
		m.style = append(m.style, m.r.IntN(t.Styles))
	}
	return m
}

func (m *tasteModel) customer() int {
	x := m.r.Float64() * m.cum[len(m.cum)-1]
	return min(sort.SearchFloat64s(m.cum, x), len(m.cum)-1)
}

func (m *tasteModel) sku(c int) int {
	cat := m.fav[c][m.r.IntN(2)]
	if m.r.Float64() >= m.t.Loyalty {
		cat = m.r.IntN(m.t.Categories)
	}
	st := m.style[c]
	if m.r.Float64() >= m.t.StyleShare {
		st = m.r.IntN(m.t.Styles)
	}
	x := m.r.Float64()
	return min(cat*m.perCat+st*m.perStyle+int(float64(m.perStyle)*x*x), SKUs-1)
}

func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	}
	c.Start = c.Start.UTC().Truncate(time.Minute)
	if c.Span <= 0 {
		c.Span = 14 * 24 * time.Hour
	}
	if c.PerMinute <= 0 {
		c.PerMinute = 20
	}
	if c.Anomalies == 0 {
		c.Anomalies = 24
	}
	if len(c.Countries) == 0 {
		c.Countries = DefaultCountries
	}
	return c
}

// Rate is the expected orders per minute at t without anomalies: a daily curve low at night
// and peaking in the evening, busier at weekends, averaging perMinute.
func Rate(perMinute float64, t time.Time) float64 {
	t = t.UTC()
	h := float64(t.Hour()) + float64(t.Minute())/60
	// Night trough near 04:00, evening peak near 20:00; mean over the day is 1.
	daily := 1 + 0.75*math.Sin(2*math.Pi*(h-14)/24) + 0.15*math.Sin(4*math.Pi*(h-10)/24)
	weekly := map[time.Weekday]float64{
		time.Monday: 0.95, time.Tuesday: 0.95, time.Wednesday: 0.95, time.Thursday: 1,
		time.Friday: 1.05, time.Saturday: 1.1, time.Sunday: 1,
	}[t.Weekday()]
	return perMinute * daily * weekly
}

// Anomalies returns the anomalies a config injects, in time order.
func Anomalies(cfg Config) []Anomaly {
	cfg = cfg.withDefaults()
	if cfg.Anomalies < 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 2))
	minutes := int(cfg.Span / time.Minute)
	first := 2 * 24 * 60
	if first >= minutes {
		first = minutes / 4
	}
	var out []Anomaly
	busy := func(s, e int) bool {
		for _, a := range out {
			as, ae := int(a.Start.Sub(cfg.Start)/time.Minute), int(a.End.Sub(cfg.Start)/time.Minute)
			if s < ae+120 && as < e+120 {
				return true
			}
		}
		return false
	}
	for tries := 0; len(out) < cfg.Anomalies && tries < 100*cfg.Anomalies; tries++ {
		var a Anomaly
		var length int
		switch n := len(out) % 6; {
		case n < 3: // bursts of varied size and length
			a.Kind, a.Factor, length = Spike, 1.6+r.Float64()*3.4, 1+r.IntN(30)
		case n < 5:
			a.Kind, a.Factor, length = Drop, 0.05+r.Float64()*0.35, 5+r.IntN(55)
		default:
			a.Kind, a.Factor, length = Silence, 0, 5+r.IntN(25)
		}
		s := first + r.IntN(max(minutes-first-length, 1))
		if busy(s, s+length) {
			continue
		}
		a.Start = cfg.Start.Add(time.Duration(s) * time.Minute)
		a.End = a.Start.Add(time.Duration(length) * time.Minute)
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Minutes returns the number of orders in each minute from cfg.Start and the injected
// anomalies: the fast path for benchmarks, the same counts Write produces.
func Minutes(cfg Config) ([]int, []Anomaly) {
	cfg = cfg.withDefaults()
	an := Anomalies(cfg)
	// Each minute draws from its own stream, so an anomaly changes only its own minutes.
	src := rand.NewPCG(0, 0)
	r := rand.New(src)
	counts := make([]int, int(cfg.Span/time.Minute))
	ai := 0
	for m := range counts {
		t := cfg.Start.Add(time.Duration(m) * time.Minute)
		lambda := Rate(cfg.PerMinute, t)
		for ai < len(an) && !an[ai].End.After(t) {
			ai++
		}
		if ai < len(an) && !t.Before(an[ai].Start) {
			lambda *= an[ai].Factor
		}
		src.Seed(cfg.Seed, 1<<32|uint64(m))
		counts[m] = Poisson(r, lambda)
	}
	return counts, an
}

// Poisson draws from a Poisson distribution of mean lambda: exactly by multiplication for
// small means, by the normal approximation (rounded, never negative) above 50.
func Poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 50 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Write writes the orders as JSON lines in the shape of testdata/orders (order_id,
// created_at in RFC 3339, customer, country, currency, total, payment, items), in time
// order, and returns the injected anomalies. Order ids are O-%06d: past 999999 orders they
// grow a digit and no longer match the sample rule O-[0-9]{6}.
func Write(w io.Writer, cfg Config) ([]Anomaly, error) {
	cfg = cfg.withDefaults()
	counts, an := Minutes(cfg)
	r := rand.New(rand.NewPCG(cfg.Seed, 3))
	var total float64
	for _, c := range cfg.Countries {
		total += c.Weight
	}
	bw := bufio.NewWriter(w)
	var tm *tasteModel
	if cfg.Tastes != nil {
		tm = newTasteModel(*cfg.Tastes, cfg.Seed)
	}
	id := 0
	for m, n := range counts {
		start := cfg.Start.Add(time.Duration(m) * time.Minute)
		offs := make([]int, n)
		for i := range offs {
			offs[i] = r.IntN(60_000)
		}
		sort.Ints(offs)
		for _, off := range offs {
			id++
			writeOrder(bw, r, tm, id, start.Add(time.Duration(off)*time.Millisecond), pick(r, cfg.Countries, total))
		}
	}
	return an, bw.Flush()
}

func pick(r *rand.Rand, cs []Country, total float64) Country {
	x := r.Float64() * total
	for _, c := range cs {
		if x < c.Weight {
			return c
		}
		x -= c.Weight
	}
	return cs[len(cs)-1]
}

var (
	payments = []string{"card", "paypal", "invoice"}
	names    = []string{"Ana", "Ben", "Chloe", "Dmitri", "Eve", "Farah", "Goro", "Hanna"}
)

// writeOrder writes one order; tm nil keeps the original draws exactly.
func writeOrder(w *bufio.Writer, r *rand.Rand, tm *tasteModel, id int, t time.Time, c Country) {
	cust := -1
	if tm != nil {
		cust = tm.customer()
	}
	n := 1 + r.IntN(3)
	var total int64
	items := make([]byte, 0, 160)
	for j := range n {
		qty := int64(1 + r.IntN(3))
		price := int64(199 + r.IntN(9800)) // minor units
		if c.Currency == "jpy" {
			price = int64(300 + r.IntN(20000))
		}
		total += qty * price
		if j > 0 {
			items = append(items, ',')
		}
		sku := r.IntN(SKUs)
		if tm == nil {
			items = fmt.Appendf(items, `{"sku":"SKU-%04d","qty":%d,"price":%s}`, sku, qty, money(price, c.Currency))
			continue
		}
		sku = tm.sku(cust)
		items = fmt.Appendf(items, `{"sku":"SKU-%04d","qty":%d,"price":%s,"category":%q}`, sku, qty, money(price, c.Currency), tm.t.Category(sku))
	}
	custID := r.IntN(5000)
	if tm != nil {
		custID = cust
	}
	fmt.Fprintf(w, `{"order_id":"O-%06d","created_at":%q,"customer":{"id":"C-%d","email":"%s.%d@example.com"},"country":%q,"currency":%q,"total":%q,"payment":%q,"items":[%s]}`+"\n",
		id, t.Format(time.RFC3339Nano), custID, names[r.IntN(len(names))], r.IntN(1000), c.Code, c.Currency,
		money(total, c.Currency), payments[r.IntN(len(payments))], items)
}

func money(minor int64, cur string) string {
	if cur == "jpy" {
		return fmt.Sprint(minor)
	}
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}
