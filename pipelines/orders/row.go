package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"golang.org/x/text/currency"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	beam.RegisterType(reflect.TypeFor[OrderRow]())
	register.DoFn4x0[context.Context, record.Record, func(OrderRow), func(record.Failure)](&toRowFn{})
	register.Emitter1[OrderRow]()
}

// StageRow is the stage of an order that could not be turned into an OrderRow.
const StageRow = "orders.Row"

// ReasonBadRow is the reason of an order whose cleaned fields do not fit an OrderRow.
const ReasonBadRow = "bad_row"

// AmountScale is the NUMERIC scale of the amount columns: 4 decimals hold every ISO 4217
// currency's minor unit (0 for JPY, 2 for EUR, 3 for KWD, 4 for CLF), so one column type
// serves every currency, where numeric:"2" would store 1234 JPY as 12.34.
const AmountScale = 4

// OrderRow is one order of the BigQuery history (--output=bq://…): typed columns, the lines
// as a REPEATED RECORD, the table partitioned by day on created_at (the event time) and
// clustered by country. Amounts are NUMERIC in the currency's major unit (total 12.30 for
// 12.30 EUR) with the exact minor units beside them (total_minor 1230), as clean produced.
//
// id, source, origin and ingest_time trace the row to its input; bigquery.Write reads id and
// source from a refused row for its dead letter.
type OrderRow struct {
	OrderID    string    `json:"order_id"`
	CreatedAt  time.Time `json:"created_at"`
	Customer   Customer  `json:"customer"`
	Country    string    `json:"country"`
	Currency   string    `json:"currency"`
	Total      int64     `json:"total" numeric:"4"` // 10^-4 major units (AmountScale)
	TotalMinor int64     `json:"total_minor"`
	Payment    string    `json:"payment"`
	Items      []Item    `json:"items"`
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	Origin     string    `json:"origin"`
	IngestTime time.Time `json:"ingest_time"`
}

// Customer is the customer of an order.
type Customer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// Item is one line of an order.
type Item struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPrice      int64  `json:"unit_price" numeric:"4"` // 10^-4 major units (AmountScale)
	UnitPriceMinor int64  `json:"unit_price_minor"`
}

// RowOf returns the OrderRow of a cleaned order (Spec: total in minor units, currency
// upper-case, event time set; lines checked by CheckTotal). An error is an *clean.Error
// with reason bad_row naming the field.
func RowOf(r *record.Record) (OrderRow, error) {
	d := r.Data
	str := func(field string) string {
		v, _ := clean.Get(d, field)
		s, _ := v.(string)
		return s
	}
	bad := func(format string, args ...any) (OrderRow, error) {
		return OrderRow{}, &clean.Error{Reason: ReasonBadRow, Msg: fmt.Sprintf(format, args...)}
	}
	row := OrderRow{
		OrderID: str("order_id"), CreatedAt: r.EventTime.UTC(),
		Customer: Customer{ID: str("customer.id"), Email: str("customer.email")},
		Country:  str("country"), Currency: str("currency"), Payment: str("payment"),
		ID: r.ID, Source: r.Source, Origin: r.Origin, IngestTime: r.IngestTime,
	}
	unit, err := currency.ParseISO(row.Currency)
	if err != nil {
		return bad("currency %q is not an ISO 4217 code", row.Currency)
	}
	scale, _ := currency.Standard.Rounding(unit)
	if scale > AmountScale {
		return bad("currency %s has %d decimals, more than the %d of the amount columns", row.Currency, scale, AmountScale)
	}
	up := int64(math.Pow10(AmountScale - scale))
	total, ok := minorUnits(d["total"])
	if !ok {
		return bad("total %v is not integer minor units (run the Money normalisation first)", d["total"])
	}
	if row.Total, ok = scaled(total, up); !ok {
		return bad("total %d %s is out of range", total, row.Currency)
	}
	row.TotalMinor = total
	lines, _ := d["items"].([]any)
	row.Items = make([]Item, 0, len(lines))
	for i, l := range lines {
		m, _ := l.(map[string]any)
		it := Item{}
		it.SKU, _ = m["sku"].(string)
		q, err := clean.MinorUnits(numberText(m["qty"]), 0)
		if err != nil {
			return bad("items line %d: qty %v: %v", i+1, m["qty"], err)
		}
		it.Quantity = q
		p, err := clean.MinorUnits(numberText(m["price"]), scale)
		if err != nil {
			return bad("items line %d: price %v in %s: %v", i+1, m["price"], row.Currency, err)
		}
		it.UnitPriceMinor = p
		if it.UnitPrice, ok = scaled(p, up); !ok {
			return bad("items line %d: price %d %s is out of range", i+1, p, row.Currency)
		}
		row.Items = append(row.Items, it)
	}
	return row, nil
}

// minorUnits reads the minor units the Money normalisation wrote: an int64 in the same
// process, a JSON number after a Beam hand-over (the record coder carries Data as JSON).
func minorUnits(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func scaled(minor, up int64) (int64, bool) {
	if minor > math.MaxInt64/up || minor < math.MinInt64/up {
		return 0, false
	}
	return minor * up, true
}

// numberText is the decimal text of a JSON number or numeric string.
func numberText(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case int64:
		return fmt.Sprint(x)
	case fmt.Stringer: // jsonx.Number
		return x.String()
	}
	return ""
}

// toRowFn turns each cleaned order into an OrderRow and counts it written; an order that does
// not fit goes to dead with its original payload.
type toRowFn struct{ ctr record.Counters }

func (f *toRowFn) ProcessElement(ctx context.Context, r record.Record, emit func(OrderRow), dead func(record.Failure)) {
	row, err := RowOf(&r)
	if err != nil {
		e := clean.AsError(err, "row")
		f.ctr.Inc(ctx, r.Source, StageRow, record.OutcomeDead, e.Reason)
		dead(record.Fail(StageRow, &r, e.Reason, e.Msg))
		return
	}
	f.ctr.Inc(ctx, r.Source, StageWrite, record.OutcomeWritten, "")
	emit(row)
}
