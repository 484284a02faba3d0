package ordergen_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/internal/dev/ordergen"
)

func TestDeterministic(t *testing.T) {
	cfg := ordergen.Config{Seed: 7, Span: 3 * 24 * time.Hour, PerMinute: 2, Anomalies: 6}
	var a, b bytes.Buffer
	an1, err := ordergen.Write(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	an2, _ := ordergen.Write(&b, cfg)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || !cmp.Equal(an1, an2) {
		t.Fatal("Write with the same seed gave different output")
	}
	var c bytes.Buffer
	ordergen.Write(&c, ordergen.Config{Seed: 8, Span: 3 * 24 * time.Hour, PerMinute: 2, Anomalies: 6})
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("Write with seeds 7 and 8 gave the same output")
	}
}

// The lines have the repository's order shape, in time order, and their per-minute counts are
// the ones Minutes reports.
func TestWriteMatchesMinutes(t *testing.T) {
	cfg := ordergen.Config{Seed: 1, Span: 6 * time.Hour, PerMinute: 5, Anomalies: -1}
	var buf bytes.Buffer
	if _, err := ordergen.Write(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	counts, _ := ordergen.Minutes(cfg)
	got := make([]int, len(counts))
	start := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	id := regexp.MustCompile(`^O-[0-9]{6}$`)
	countries := map[string]bool{}
	var last time.Time
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var o struct {
			OrderID   string `json:"order_id"`
			CreatedAt string `json:"created_at"`
			Customer  struct{ ID, Email string }
			Country   string `json:"country"`
			Currency  string `json:"currency"`
			Total     string `json:"total"`
			Items     []struct {
				SKU string
				Qty int
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		ts, err := time.Parse(time.RFC3339Nano, o.CreatedAt)
		if err != nil || ts.Before(last) || !id.MatchString(o.OrderID) || o.Currency == "" || o.Total == "" || len(o.Items) == 0 {
			t.Fatalf("bad or out-of-order line %q", sc.Text())
		}
		last = ts
		countries[o.Country] = true
		got[int(ts.Sub(start)/time.Minute)]++
	}
	if diff := cmp.Diff(counts, got); diff != "" {
		t.Errorf("per-minute counts of Write differ from Minutes (-want +got):\n%s", diff)
	}
	if len(countries) < 5 {
		t.Errorf("orders from %d countries, want several", len(countries))
	}
}

func TestSeasonalityAndNoise(t *testing.T) {
	counts, _ := ordergen.Minutes(ordergen.Config{Seed: 3, Anomalies: -1})
	if len(counts) != 14*24*60 {
		t.Fatalf("len(Minutes) = %d, want a fortnight of minutes", len(counts))
	}
	hour := func(h int) (mean, variance float64) { // over the first seven days
		var xs []float64
		for d := range 7 {
			for m := range 60 {
				xs = append(xs, float64(counts[d*1440+h*60+m]))
			}
		}
		for _, x := range xs {
			mean += x
		}
		mean /= float64(len(xs))
		for _, x := range xs {
			variance += (x - mean) * (x - mean)
		}
		return mean, variance / float64(len(xs)-1)
	}
	night, _ := hour(4)
	evening, v := hour(20)
	if evening < 2.5*night {
		t.Errorf("mean per minute at 20h = %.1f, at 04h = %.1f: want a diurnal rhythm", evening, night)
	}
	if v < 0.5*evening || v > 2*evening { // Poisson: variance ≈ mean (the hour's curve adds a little)
		t.Errorf("variance at 20h = %.1f for mean %.1f: want Poisson noise", v, evening)
	}
	var total float64
	for _, c := range counts {
		total += float64(c)
	}
	if mean := total / float64(len(counts)); math.Abs(mean-20) > 1 {
		t.Errorf("mean per minute = %.2f, want about 20", mean)
	}
}

func TestAnomaliesAreInjected(t *testing.T) {
	cfg := ordergen.Config{Seed: 5, Anomalies: 24}
	counts, an := ordergen.Minutes(cfg)
	base, _ := ordergen.Minutes(ordergen.Config{Seed: 5, Anomalies: -1})
	if len(an) != 24 {
		t.Fatalf("%d anomalies, want 24", len(an))
	}
	kinds := map[string]int{}
	start := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	for i, a := range an {
		kinds[a.Kind]++
		if i > 0 && a.Start.Sub(an[i-1].End) < 2*time.Hour {
			t.Errorf("anomalies %d and %d are closer than two hours: %+v %+v", i-1, i, an[i-1], a)
		}
		s, e := int(a.Start.Sub(start)/time.Minute), int(a.End.Sub(start)/time.Minute)
		var got, want float64
		for m := s; m < e; m++ {
			got += float64(counts[m])
			want += ordergen.Rate(20, start.Add(time.Duration(m)*time.Minute))
		}
		switch a.Kind {
		case ordergen.Silence:
			if got != 0 {
				t.Errorf("silence %+v has %v orders", a, got)
			}
		case ordergen.Spike:
			if got < want*(1+(a.Factor-1)/2) {
				t.Errorf("spike %+v: %v orders, expected about %v", a, got, want*a.Factor)
			}
		case ordergen.Drop:
			if got > want*(a.Factor+1)/2 {
				t.Errorf("drop %+v: %v orders, expected about %v", a, got, want*a.Factor)
			}
		}
	}
	if kinds[ordergen.Spike] == 0 || kinds[ordergen.Drop] == 0 || kinds[ordergen.Silence] == 0 {
		t.Errorf("kinds = %v, want spikes, drops and silences", kinds)
	}
	// Outside anomalies the traffic is the anomaly-free traffic.
	for m := range counts {
		t0 := start.Add(time.Duration(m) * time.Minute)
		inside := false
		for _, a := range an {
			inside = inside || (!t0.Before(a.Start) && t0.Before(a.End))
		}
		if !inside && counts[m] != base[m] {
			t.Fatalf("minute %d outside anomalies: %d orders, %d without anomalies", m, counts[m], base[m])
		}
	}
}

// The output without Tastes is what it was before Tastes existed: SHA-256 of Write, computed
// with the code of commit 66655eb, for the configs other tests and `make run-orders` use.
func TestOutputUnchangedWithoutTastes(t *testing.T) {
	tests := []struct {
		cfg  ordergen.Config
		want string
	}{
		{ordergen.Config{Seed: 1, Start: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), Span: 24 * time.Hour, Anomalies: 5},
			"01001c651de41e634320a06d9c015369fd6412d4cd0427791ba7015302bd3344"},
		{ordergen.Config{Seed: 7, Span: 3 * 24 * time.Hour, PerMinute: 2, Anomalies: 6},
			"0f162998dbb8acfb7fcb7be73fcf5b5cf40ce3384646566be778968a878bbd62"},
		{ordergen.Config{Seed: 4, Span: 12 * time.Hour, PerMinute: 3},
			"f3d501cc90c9047fb27e5f07604c7a8b5d2296ee4d9c4a6cb579a0255429cac5"},
	}
	for _, tc := range tests {
		h := sha256.New()
		if _, err := ordergen.Write(h, tc.cfg); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != tc.want {
			t.Errorf("Write(seed %d) SHA-256 = %s, want %s", tc.cfg.Seed, got, tc.want)
		}
	}
}

type tasteOrder struct {
	CreatedAt string `json:"created_at"`
	Customer  struct{ ID string }
	Total     string `json:"total"`
	Items     []struct {
		SKU      string
		Category string
	}
}

func readTasteOrders(t *testing.T, cfg ordergen.Config) []tasteOrder {
	t.Helper()
	var buf bytes.Buffer
	if _, err := ordergen.Write(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	var out []tasteOrder
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var o tasteOrder
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, o)
	}
	return out
}

// With Tastes, orders keep the times and totals of the same seed without; customers are
// recurring, every line names its SKU's category, and most of a customer's lines fall in
// two categories.
func TestTastes(t *testing.T) {
	base := ordergen.Config{Seed: 3, Span: 2 * 24 * time.Hour, PerMinute: 4, Anomalies: -1}
	withT := base
	withT.Tastes = &ordergen.Tastes{Customers: 300}
	plain, tasty := readTasteOrders(t, base), readTasteOrders(t, withT)
	if len(plain) != len(tasty) {
		t.Fatalf("%d orders with tastes, %d without", len(tasty), len(plain))
	}
	perCust := map[string]map[string]int{}
	lines := map[string]int{}
	for i, o := range tasty {
		if o.CreatedAt != plain[i].CreatedAt || o.Total != plain[i].Total {
			t.Fatalf("order %d: %s %s with tastes, %s %s without", i, o.CreatedAt, o.Total, plain[i].CreatedAt, plain[i].Total)
		}
		if perCust[o.Customer.ID] == nil {
			perCust[o.Customer.ID] = map[string]int{}
		}
		for _, it := range o.Items {
			var n int
			if _, err := fmt.Sscanf(it.SKU, "SKU-%04d", &n); err != nil || n >= ordergen.SKUs {
				t.Fatalf("order %d: SKU %q", i, it.SKU)
			}
			if want := withT.Tastes.Category(n); it.Category != want {
				t.Fatalf("order %d: %s in category %q, want %q", i, it.SKU, it.Category, want)
			}
			perCust[o.Customer.ID][it.Category]++
			lines[o.Customer.ID]++
		}
	}
	if len(perCust) > 300 || len(perCust) < 250 {
		t.Errorf("%d distinct customers, want most of the 300", len(perCust))
	}
	// Share of lines in each customer's two most bought categories, over customers with 20+ lines.
	var top2, all int
	for c, cats := range perCust {
		if lines[c] < 20 {
			continue
		}
		var ns []int
		for _, n := range cats {
			ns = append(ns, n)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(ns)))
		top2 += ns[0]
		if len(ns) > 1 {
			top2 += ns[1]
		}
		all += lines[c]
	}
	if all == 0 || float64(top2)/float64(all) < 0.8 {
		t.Errorf("%d of %d lines in the customer's top two categories, want ≥ 80%%", top2, all)
	}
}
