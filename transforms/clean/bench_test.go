package clean_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/gen"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	gojson "github.com/goccy/go-json"
	"golang.org/x/text/currency"
)

// The benchmarks compare the library path — Parser, Validator, Normaliser and TimeChecker as
// the ingest job configures them for orders (testdata/sources.yaml) — with the same work
// written by hand as a plain Go loop over a struct, on the same generated records.

func orderLines(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 1))
	out := make([][]byte, n)
	t := gen.Start
	for i := range out {
		t = t.Add(time.Second)
		out[i] = gen.Order(r, i+1, t)
	}
	return out
}

func orderSteps(tb testing.TB) (*clean.Parser, *clean.Validator, *clean.Normaliser, *clean.TimeChecker) {
	zero := 0.0
	p, err := clean.NewParser(clean.ParseSpec{Format: "json"})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := clean.NewValidator([]clean.Rule{
		{Field: "order_id", Required: true, Type: "string", Regex: `O-[0-9]{6}`},
		{Field: "created_at", Required: true},
		{Field: "customer.email", Required: true, Type: "string"},
		{Field: "currency", Required: true, Type: "string"},
		{Field: "total", Required: true, Type: "number", Min: &zero},
		{Field: "country", Required: true, Enum: []string{"DE", "FR", "GB", "US", "JP", "SE", "CH", "PL", "de", "fr", "gb", "us", "jp", "se", "ch", "pl"}},
		{Field: "payment", Enum: []string{"card", "paypal", "invoice"}},
		{Field: "items", Required: true, Type: "array", MaxLen: 100},
		{Field: "note", Type: "string", MaxLen: 200},
	})
	if err != nil {
		tb.Fatal(err)
	}
	n, err := clean.NewNormaliser(clean.NormaliseSpec{
		Trim: true, Upper: []string{"country"}, Emails: []string{"customer.email"},
		Timestamps: []clean.TimeField{{Field: "created_at", Format: "auto"}},
		Money:      []clean.MoneyField{{Amount: "total", Currency: "currency"}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tc := &clean.TimeChecker{Field: "created_at", Format: "auto"}
	if err := tc.Init(); err != nil {
		tb.Fatal(err)
	}
	return p, v, n, tc
}

func BenchmarkOrderLibrary(b *testing.B) {
	lines := orderLines(1024)
	p, v, n, tc := orderSteps(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	i := 0
	for b.Loop() {
		r := record.Record{Source: "orders", Payload: lines[i%len(lines)]}
		i++
		if err := p.Parse(&r); err != nil {
			b.Fatal(err)
		}
		if err := v.Validate(r.Data); err != nil {
			b.Fatal(err)
		}
		if err := n.Normalise(r.Data); err != nil {
			b.Fatal(err)
		}
		if _, err := tc.Time(r.Data); err != nil {
			b.Fatal(err)
		}
	}
}

// plainOrder and plainClean are the hand-written equivalent of the library path.
type plainOrder struct {
	OrderID   string `json:"order_id"`
	CreatedAt any    `json:"created_at"`
	Customer  struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"customer"`
	Country  string      `json:"country"`
	Currency string      `json:"currency"`
	Total    json.Number `json:"total"`
	Payment  string      `json:"payment"`
	Items    []struct {
		SKU   string      `json:"sku"`
		Qty   int         `json:"qty"`
		Price json.Number `json:"price"`
	} `json:"items"`
	Note       string `json:"note"`
	TotalMinor int64  `json:"-"`
	Time       time.Time
}

var (
	plainID        = regexp.MustCompile(`^O-[0-9]{6}$`)
	plainCountries = map[string]bool{"DE": true, "FR": true, "GB": true, "US": true, "JP": true, "SE": true, "CH": true, "PL": true}
	plainPayments  = map[string]bool{"card": true, "paypal": true, "invoice": true, "": true}
)

func plainClean(line []byte, unmarshal func([]byte, any) error) (*plainOrder, error) {
	var o plainOrder
	if err := unmarshal(line, &o); err != nil {
		return nil, err
	}
	if !plainID.MatchString(o.OrderID) || o.CreatedAt == nil || o.Customer.Email == "" || o.Currency == "" || o.Total == "" || len(o.Items) == 0 || len(o.Items) > 100 || len(o.Note) > 200 {
		return nil, fmt.Errorf("invalid")
	}
	if f, err := o.Total.Float64(); err != nil || f < 0 {
		return nil, fmt.Errorf("total")
	}
	o.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	if !plainCountries[o.Country] || !plainPayments[o.Payment] {
		return nil, fmt.Errorf("enum")
	}
	o.Customer.Email = strings.ToLower(strings.TrimSpace(o.Customer.Email))
	if strings.Count(o.Customer.Email, "@") != 1 {
		return nil, fmt.Errorf("email")
	}
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	u, err := currency.ParseISO(o.Currency)
	if err != nil {
		return nil, err
	}
	scale, _ := currency.Standard.Rounding(u)
	if o.TotalMinor, err = clean.MinorUnits(string(o.Total), scale); err != nil {
		return nil, err
	}
	if o.Time, err = clean.ParseTime(o.CreatedAt, "auto"); err != nil {
		return nil, err
	}
	return &o, nil
}

func benchPlain(b *testing.B, unmarshal func([]byte, any) error) {
	lines := orderLines(1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	i := 0
	for b.Loop() {
		if _, err := plainClean(lines[i%len(lines)], unmarshal); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkOrderPlainGoccy(b *testing.B) { benchPlain(b, gojson.Unmarshal) }
func BenchmarkOrderPlainStd(b *testing.B)   { benchPlain(b, json.Unmarshal) }

// libOrder is the struct the typed library path decodes orders into.
type libOrder struct {
	OrderID   string `json:"order_id"`
	CreatedAt string `json:"created_at"`
	Customer  struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"customer"`
	Country    string `json:"country"`
	Currency   string `json:"currency"`
	Total      string `json:"total"`
	TotalMinor int64  `json:"total_minor"`
	Payment    string `json:"payment"`
	Items      []struct {
		SKU   string      `json:"sku"`
		Qty   int         `json:"qty"`
		Price json.Number `json:"price"`
	} `json:"items"`
	Note string `json:"note"`
}

func orderSchema(tb testing.TB) (*clean.Schema[libOrder], *clean.TimeChecker) {
	zero := 0.0
	s, err := clean.NewSchema[libOrder]([]clean.Rule{
		{Field: "order_id", Required: true, Type: "string", Regex: `O-[0-9]{6}`},
		{Field: "created_at", Required: true},
		{Field: "customer.email", Required: true, Type: "string"},
		{Field: "currency", Required: true, Type: "string"},
		{Field: "total", Required: true, Type: "number", Min: &zero},
		{Field: "country", Required: true, Enum: []string{"DE", "FR", "GB", "US", "JP", "SE", "CH", "PL", "de", "fr", "gb", "us", "jp", "se", "ch", "pl"}},
		{Field: "payment", Enum: []string{"card", "paypal", "invoice"}},
		{Field: "items", Required: true, Type: "array", MaxLen: 100},
		{Field: "note", Type: "string", MaxLen: 200},
	}, clean.NormaliseSpec{
		Trim: true, Upper: []string{"country"}, Emails: []string{"customer.email"},
		Money: []clean.MoneyField{{Amount: "total", Currency: "currency", Out: "total_minor"}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tc := &clean.TimeChecker{Field: "created_at", Format: "auto"}
	if err := tc.Init(); err != nil {
		tb.Fatal(err)
	}
	return s, tc
}

func BenchmarkOrderLibraryTyped(b *testing.B) {
	lines := orderLines(1024)
	s, tc := orderSchema(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	i := 0
	for b.Loop() {
		o, err := s.Parse(lines[i%len(lines)])
		i++
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tc.TimeOf(o.CreatedAt); err != nil {
			b.Fatal(err)
		}
	}
}

func csvLines(n int) (header []byte, lines [][]byte) {
	all := strings.Split(strings.TrimSpace(string(gen.WebB(7, n))), "\n")
	for _, l := range all[1:] {
		lines = append(lines, []byte(l))
	}
	return []byte(all[0]), lines
}

// BenchmarkCSVEventLibrary is the web_b source of testdata/sources.yaml: CSV mapped by the
// file's header, three rules, trim and lower-case, event time from a "datetime" column.
func BenchmarkCSVEventLibrary(b *testing.B) {
	header, lines := csvLines(1024)
	zero, day := 0.0, 86400000.0
	p, _ := clean.NewParser(clean.ParseSpec{Format: "csv"})
	v, err := clean.NewValidator([]clean.Rule{
		{Field: "event_id", Required: true, MaxLen: 64},
		{Field: "url", Required: true, Regex: `https?://\S+`},
		{Field: "duration_ms", Type: "integer", Min: &zero, Max: &day},
	})
	if err != nil {
		b.Fatal(err)
	}
	n, _ := clean.NewNormaliser(clean.NormaliseSpec{Trim: true, Lower: []string{"action"}})
	tc := &clean.TimeChecker{Field: "timestamp", Format: "datetime"}
	tc.Init()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := record.Record{Source: "web_b", Payload: lines[i%len(lines)], Header: header}
		i++
		if err := p.Parse(&r); err != nil {
			b.Fatal(err)
		}
		if err := v.Validate(r.Data); err != nil {
			b.Fatal(err)
		}
		if err := n.Normalise(r.Data); err != nil {
			b.Fatal(err)
		}
		if _, err := tc.Time(r.Data); err != nil {
			b.Fatal(err)
		}
	}
}

type plainEvent struct {
	EventID, URL, Action string
	Duration             int64
	Time                 time.Time
}

var plainURL = regexp.MustCompile(`^https?://\S+$`)

// BenchmarkCSVEventPlain is the same work by hand: encoding/csv on the line, fields by
// position, the same checks.
func BenchmarkCSVEventPlain(b *testing.B) {
	_, lines := csvLines(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		line := lines[i%len(lines)]
		i++
		rec, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil || len(rec) != 6 {
			b.Fatal(err)
		}
		for j := range rec {
			rec[j] = strings.TrimSpace(rec[j])
		}
		e := plainEvent{EventID: rec[0], URL: rec[3], Action: strings.ToLower(rec[4])}
		if e.EventID == "" || len(e.EventID) > 64 || !plainURL.MatchString(e.URL) {
			b.Fatal("invalid")
		}
		if e.Duration, err = strconv.ParseInt(rec[5], 10, 64); err != nil || e.Duration < 0 || e.Duration > 86400000 {
			b.Fatal("duration")
		}
		if e.Time, err = time.Parse("2006-01-02 15:04:05", rec[1]); err != nil {
			b.Fatal(err)
		}
	}
}
