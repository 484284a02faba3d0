// Package orderbench holds the orders workload the benchmarks share: the cleaning spec of the
// orders source (as in testdata/sources.yaml, without its Go check), the struct the typed path
// decodes into, and the same work written by hand as a plain Go function.
package orderbench

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/beamline/beamline/internal/dev/gen"
	"github.com/beamline/beamline/transforms/clean"
	"golang.org/x/text/currency"
)

// Lines returns n generated order lines.
func Lines(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 1))
	out := make([][]byte, n)
	t := gen.Start
	for i := range out {
		t = t.Add(time.Second)
		out[i] = gen.Order(r, i+1, t)
	}
	return out
}

var zero = 0.0

// Rules are the orders source's rules.
func Rules() []clean.Rule {
	return []clean.Rule{
		{Field: "order_id", Required: true, Type: "string", Regex: `O-[0-9]{6,7}`},
		{Field: "created_at", Required: true},
		{Field: "customer.email", Required: true, Type: "string"},
		{Field: "currency", Required: true, Type: "string"},
		{Field: "total", Required: true, Type: "number", Min: &zero},
		{Field: "country", Required: true, Enum: []string{"DE", "FR", "GB", "US", "JP", "SE", "CH", "PL", "de", "fr", "gb", "us", "jp", "se", "ch", "pl"}},
		{Field: "payment", Enum: []string{"card", "paypal", "invoice"}},
		{Field: "items", Required: true, Type: "array", MaxLen: 100},
		{Field: "note", Type: "string", MaxLen: 200},
	}
}

// Normalise is the orders source's normalisation. moneyOut names the int64 field for a Schema;
// the map path leaves it empty and rewrites total in place. The event time is read separately.
func Normalise(moneyOut string) clean.NormaliseSpec {
	return clean.NormaliseSpec{
		Trim: true, Upper: []string{"country"}, Emails: []string{"customer.email"},
		Money: []clean.MoneyField{{Amount: "total", Currency: "currency", Out: moneyOut}},
	}
}

// Order is what the typed path decodes an order into.
type Order struct {
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
	Note      string    `json:"note,omitempty"`
	EventTime time.Time `json:"event_time"`
}

var (
	plainID        = regexp.MustCompile(`^O-[0-9]{6,7}$`)
	plainCountries = map[string]bool{"DE": true, "FR": true, "GB": true, "US": true, "JP": true, "SE": true, "CH": true, "PL": true}
	plainPayments  = map[string]bool{"card": true, "paypal": true, "invoice": true, "": true}
	errInvalid     = errors.New("invalid order")
)

// PlainClean is the hand-written equivalent of Rules, Normalise and the event time: decode with
// unmarshal, check, normalise.
func PlainClean(line []byte, unmarshal func([]byte, any) error) (*Order, error) {
	var o Order
	if err := unmarshal(line, &o); err != nil {
		return nil, err
	}
	if !plainID.MatchString(o.OrderID) || o.CreatedAt == "" || o.Customer.Email == "" || o.Currency == "" || o.Total == "" || len(o.Items) == 0 || len(o.Items) > 100 || len(o.Note) > 200 {
		return nil, errInvalid
	}
	if f, err := json.Number(o.Total).Float64(); err != nil || f < 0 {
		return nil, errInvalid
	}
	o.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	if !plainCountries[o.Country] || !plainPayments[o.Payment] {
		return nil, errInvalid
	}
	o.Customer.Email = strings.ToLower(strings.TrimSpace(o.Customer.Email))
	if strings.Count(o.Customer.Email, "@") != 1 {
		return nil, errInvalid
	}
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	u, err := currency.ParseISO(o.Currency)
	if err != nil {
		return nil, err
	}
	scale, _ := currency.Standard.Rounding(u)
	if o.TotalMinor, err = clean.MinorUnits(o.Total, scale); err != nil {
		return nil, err
	}
	if o.EventTime, err = clean.ParseTime(o.CreatedAt, "auto"); err != nil {
		return nil, err
	}
	return &o, nil
}
