package clean

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/beamline/beamline/internal/jsonx"
	"golang.org/x/text/currency"
)

// ReasonTotalMismatch is the reason of a document whose total is not the sum of its lines.
const ReasonTotalMismatch = "total_mismatch"

// LineTotal describes a document with a money total and lines of quantity × unit price, as an
// order: {"currency":"eur","total":"12.30","items":[{"qty":2,"price":"6.15"}]}. Empty fields
// take the names in brackets.
type LineTotal struct {
	Total    string `json:"total,omitempty"`    // dotted path of the total [total]
	Currency string `json:"currency,omitempty"` // dotted path of the ISO 4217 code [currency]
	Items    string `json:"items,omitempty"`    // dotted path of the array of lines [items]
	Quantity string `json:"quantity,omitempty"` // field of a line: an integer ≥ 1 [qty]
	Price    string `json:"price,omitempty"`    // field of a line: the unit price [price]
}

// LineTotals is the pure core of a total check: it compares a document's total with
// Σ quantity × unit price, both in integer minor units of the document's currency.
//
// The comparison is exact, with no tolerance: amounts are converted with MinorUnits at the
// currency's ISO 4217 scale (the Money normalisation's conversion), so there is no float
// rounding to forgive, and a one-cent difference is a real error of the producer. A unit
// price with more decimals than its currency (0.125 EUR) is rejected as bad_amount rather
// than rounded.
//
// It judges only what it can read: a total or currency that cannot be read is left to the
// rules and the Money normalisation, which reject it with their own reasons. A malformed
// line is rejected here, since nothing else looks inside the lines.
type LineTotals struct {
	total, cur, items, qty, price path
	itemsName, qtyName, priceName string // for reasons: items, items.qty, items.price
}

// NewLineTotals returns the check of spec.
func NewLineTotals(spec LineTotal) *LineTotals {
	def := func(s, d string) path {
		if s == "" {
			s = d
		}
		return splitPath(s)
	}
	lt := &LineTotals{
		total: def(spec.Total, "total"), cur: def(spec.Currency, "currency"), items: def(spec.Items, "items"),
		qty: def(spec.Quantity, "qty"), price: def(spec.Price, "price"),
	}
	lt.itemsName = lt.items.String()
	lt.qtyName, lt.priceName = lt.itemsName+"."+lt.qty.String(), lt.itemsName+"."+lt.price.String()
	return lt
}

// CheckFunc returns lt as a predicate for RegisterCheck.
func (lt *LineTotals) CheckFunc() CheckFunc {
	return func(d map[string]any) error { return lt.Check(d) }
}

// Check returns nil when data's total equals the sum of its lines, else an *Error with reason
// total_mismatch, missing_field:<items>.<qty|price>, wrong_type:…, out_of_range:<items>.<qty>
// or bad_amount:<items>.<price>. A total already normalised to int64 minor units (Normalise
// ran first, in the same process) is taken as it is. After a Beam hand-over the record coder
// turns it back into a JSON number, read as a decimal amount: use the check as a Rule of the
// Spec (clean.Apply), where it runs before the normalisation on the raw amounts.
func (lt *LineTotals) Check(data map[string]any) error {
	if e := lt.check(data); e != nil {
		return e
	}
	return nil
}

func (lt *LineTotals) check(data map[string]any) *Error {
	cv, _ := lt.cur.get(data)
	raw, _ := cv.(string)
	code := strings.ToUpper(strings.TrimSpace(raw))
	unit, err := currency.ParseISO(code)
	if err != nil || len(code) != 3 {
		return nil // the Money normalisation rejects it as unknown_currency
	}
	scale, _ := currency.Standard.Rounding(unit)
	tv, ok := lt.total.get(data)
	if !ok || tv == nil {
		return nil // a required rule rejects it as missing_field
	}
	total, ok := minorOf(tv, scale)
	if !ok {
		return nil // the rules or the normalisation reject it as wrong_type or bad_amount
	}
	iv, ok := lt.items.get(data)
	if !ok || iv == nil {
		return nil // a required rule rejects it as missing_field
	}
	lines, ok := iv.([]any)
	if !ok {
		return reject(fieldReason(ReasonWrongType, lt.itemsName), nil, "field %s is %s, want an array of lines", lt.items, typeName(iv))
	}
	qf, pf := lt.qtyName, lt.priceName
	var sum int64
	for i, l := range lines {
		line, ok := l.(map[string]any)
		if !ok {
			return reject(fieldReason(ReasonWrongType, lt.itemsName), nil, "line %d of %s is %s, want an object", i+1, lt.items, typeName(l))
		}
		q, ok := lt.qty.get(line)
		if !ok || q == nil {
			return reject(fieldReason(ReasonMissingField, qf), nil, "line %d: field %s is required", i+1, qf)
		}
		qty, ok := number(q)
		if !ok || qty != math.Trunc(qty) {
			return reject(fieldReason(ReasonWrongType, qf), nil, "line %d: field %s = %v, want an integer", i+1, qf, q)
		}
		if qty < 1 || qty > 1e9 {
			return reject(fieldReason(ReasonOutOfRange, qf), nil, "line %d: field %s = %v is outside [1, 1e9]", i+1, qf, q)
		}
		p, ok := lt.price.get(line)
		if !ok || p == nil {
			return reject(fieldReason(ReasonMissingField, pf), nil, "line %d: field %s is required", i+1, pf)
		}
		price, ok := minorOf(p, scale)
		if !ok {
			return reject(fieldReason(ReasonBadAmount, pf), nil, "line %d: field %s = %v is not an amount in %s with at most %d decimals", i+1, pf, p, code, scale)
		}
		hi, lo := bits.Mul64(uint64(abs(price)), uint64(qty))
		if hi != 0 || lo > math.MaxInt64/2 {
			return reject(fieldReason(ReasonBadAmount, pf), nil, "line %d: %v × %v is out of range", i+1, q, p)
		}
		line64 := int64(lo)
		if price < 0 {
			line64 = -line64
		}
		if (line64 > 0 && sum > math.MaxInt64/2) || (line64 < 0 && sum < math.MinInt64/2) {
			return reject(fieldReason(ReasonBadAmount, lt.itemsName), nil, "the sum of the lines of %s is out of range", lt.items)
		}
		sum += line64
	}
	if sum != total {
		return reject(ReasonTotalMismatch, nil, "%s = %s %s but the %d lines of %s add up to %s %s (difference %s)",
			lt.total, fmtMinor(total, scale), code, len(lines), lt.items, fmtMinor(sum, scale), code, fmtMinor(total-sum, scale))
	}
	return nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// minorOf reads an amount in minor units: int64 as already converted by the Money
// normalisation, a JSON number or a string as a decimal amount at scale.
func minorOf(v any, scale int) (int64, bool) {
	var text string
	switch x := v.(type) {
	case int64:
		return x, true
	case jsonx.Number:
		text = string(x)
	case string:
		text = strings.TrimSpace(x)
	default:
		return 0, false
	}
	m, err := MinorUnits(text, scale)
	return m, err == nil
}

// fmtMinor formats minor units at scale as a decimal: 1234 at 2 is "12.34".
func fmtMinor(m int64, scale int) string {
	if scale == 0 {
		return fmt.Sprint(m)
	}
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m)
	}
	p := uint64(math.Pow10(scale))
	return fmt.Sprintf("%s%d.%0*d", sign, u/p, scale, u%p)
}
