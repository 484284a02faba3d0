package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"golang.org/x/text/currency"
)

func init() { registerFailure() }

// bareOrder and bareFn are the same per-record work written by hand in one DoFn.
type bareOrder struct {
	OrderID   string `json:"order_id"`
	CreatedAt string `json:"created_at"`
	Customer  struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"customer"`
	Country    string       `json:"country"`
	Currency   string       `json:"currency"`
	Total      jsonx.Number `json:"total"`
	TotalMinor int64        `json:"total_minor"`
	Payment    string       `json:"payment"`
	Items      []struct {
		SKU   string       `json:"sku"`
		Qty   int          `json:"qty"`
		Price jsonx.Number `json:"price"`
	} `json:"items"`
	EventTime time.Time `json:"event_time"`
}

var (
	bareID        = regexp.MustCompile(`^O-[0-9]{6,7}$`)
	bareCountries = map[string]bool{"DE": true, "FR": true, "GB": true, "US": true, "JP": true, "SE": true, "CH": true, "PL": true}
	errBad        = errors.New("bad order")
)

type bareFn struct{}

func (bareFn) ProcessElement(_ context.Context, r record.Record) ([]byte, error) {
	var o bareOrder
	if err := jsonx.Unmarshal(r.Payload, &o); err != nil {
		return nil, err
	}
	if !bareID.MatchString(o.OrderID) || o.CreatedAt == "" || o.Customer.Email == "" || len(o.Items) == 0 {
		return nil, errBad
	}
	o.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	o.Customer.Email = strings.ToLower(strings.TrimSpace(o.Customer.Email))
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	if !bareCountries[o.Country] {
		return nil, errBad
	}
	u, err := currency.ParseISO(o.Currency)
	if err != nil {
		return nil, err
	}
	scale, _ := currency.Standard.Rounding(u)
	if o.TotalMinor, err = clean.MinorUnits(string(o.Total), scale); err != nil {
		return nil, err
	}
	if o.EventTime, err = clean.ParseTime(o.CreatedAt, "auto"); err != nil {
		return nil, err
	}
	return jsonx.Marshal(o)
}
