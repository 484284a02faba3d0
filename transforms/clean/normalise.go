package clean

import (
	"fmt"
	"strings"
	"time"

	"github.com/beamline/beamline/internal/jsonx"
	"golang.org/x/text/currency"
)

// NormaliseSpec lists the normalisations to apply. Fields are dotted paths; a field that is
// absent is left alone (use a required Rule to demand it).
type NormaliseSpec struct {
	// Trim removes leading and trailing white space from every string, nested ones included.
	Trim bool `json:"trim,omitempty" yaml:"trim,omitempty"`
	// Lower and Upper case-fold string fields.
	Lower []string `json:"lower,omitempty" yaml:"lower,omitempty"`
	Upper []string `json:"upper,omitempty" yaml:"upper,omitempty"`
	// Emails are trimmed and lower-cased, and must hold exactly one @ with text on both sides.
	Emails []string `json:"emails,omitempty" yaml:"emails,omitempty"`
	// Hosts are lower-cased, with a trailing dot removed.
	Hosts []string `json:"hosts,omitempty" yaml:"hosts,omitempty"`
	// Timestamps are rewritten as RFC 3339 strings in UTC.
	Timestamps []TimeField `json:"timestamps,omitempty" yaml:"timestamps,omitempty"`
	// Money amounts become integer minor units of their ISO 4217 currency.
	Money []MoneyField `json:"money,omitempty" yaml:"money,omitempty"`
}

// TimeField is a time-valued field and its format (see ParseTime).
type TimeField struct {
	Field  string `json:"field" yaml:"field"`
	Format string `json:"format" yaml:"format"`
}

// MoneyField is an amount and where its currency comes from.
type MoneyField struct {
	// Amount is a decimal number or a string holding one ("12.30"): it is replaced by the
	// int64 count of minor units (1230 for USD, 12 for JPY "12").
	Amount string `json:"amount" yaml:"amount"`
	// Currency is the field holding the ISO 4217 code; it is rewritten upper-case.
	Currency string `json:"currency,omitempty" yaml:"currency,omitempty"`
	// Code is a fixed ISO 4217 code, for sources whose amounts are all in one currency.
	Code string `json:"code,omitempty" yaml:"code,omitempty"`
	// Out is, for a Schema (struct type), the int64 field that receives the minor units.
	// The map path ignores it and rewrites Amount in place.
	Out string `json:"out,omitempty" yaml:"out,omitempty"`
}

// Normaliser is the pure core of Normalise.
type Normaliser struct {
	spec                 NormaliseSpec
	lower, upper, emails []path
	hosts                []path
	times                []path
	amounts, currencies  []path
	codes                []currency.Unit
}

// NewNormaliser checks spec and returns a Normaliser.
func NewNormaliser(spec NormaliseSpec) (*Normaliser, error) {
	n := &Normaliser{spec: spec}
	for _, f := range spec.Lower {
		n.lower = append(n.lower, splitPath(f))
	}
	for _, f := range spec.Upper {
		n.upper = append(n.upper, splitPath(f))
	}
	for _, f := range spec.Emails {
		n.emails = append(n.emails, splitPath(f))
	}
	for _, f := range spec.Hosts {
		n.hosts = append(n.hosts, splitPath(f))
	}
	for _, t := range spec.Timestamps {
		if t.Field == "" {
			return nil, fmt.Errorf("clean: NormaliseSpec.Timestamps: field is required")
		}
		if err := CheckTimeFormat(t.Format); err != nil {
			return nil, fmt.Errorf("clean: NormaliseSpec.Timestamps %s: %v", t.Field, err)
		}
		n.times = append(n.times, splitPath(t.Field))
	}
	for _, m := range spec.Money {
		if m.Amount == "" || (m.Currency == "") == (m.Code == "") {
			return nil, fmt.Errorf("clean: NormaliseSpec.Money %q: amount and exactly one of currency or code are required", m.Amount)
		}
		var u currency.Unit
		if m.Code != "" {
			var err error
			if u, err = currency.ParseISO(m.Code); err != nil {
				return nil, fmt.Errorf("clean: NormaliseSpec.Money %s: code %q is not an ISO 4217 currency", m.Amount, m.Code)
			}
		}
		n.amounts = append(n.amounts, splitPath(m.Amount))
		var cp path
		if m.Currency != "" {
			cp = splitPath(m.Currency)
		}
		n.currencies = append(n.currencies, cp)
		n.codes = append(n.codes, u)
	}
	return n, nil
}

// Normalise rewrites data in place.
func (n *Normaliser) Normalise(data map[string]any) *Error {
	if n.spec.Trim {
		trimAll(data)
	}
	for _, p := range n.lower {
		mapString(data, p, strings.ToLower)
	}
	for _, p := range n.upper {
		mapString(data, p, strings.ToUpper)
	}
	for _, p := range n.hosts {
		mapString(data, p, normHost)
	}
	for _, p := range n.emails {
		v, ok := p.get(data)
		if !ok || v == nil {
			continue
		}
		s, isStr := v.(string)
		e, good := normEmail(s)
		if !isStr || !good {
			return reject(fieldReason(ReasonBadEmail, p.String()), nil, "field %s = %v is not an e-mail address", p, v)
		}
		if e != s {
			p.set(data, e)
		}
	}
	for i, p := range n.times {
		v, ok := p.get(data)
		if !ok || v == nil {
			continue
		}
		t, err := ParseTime(v, n.spec.Timestamps[i].Format)
		if err != nil {
			return reject(fieldReason(ReasonBadTimestamp, p.String()), err, "field %s: %v", p, err)
		}
		p.set(data, t.Format(time.RFC3339Nano))
	}
	for i, p := range n.amounts {
		if err := n.money(data, i, p); err != nil {
			return err
		}
	}
	return nil
}

func (n *Normaliser) money(data map[string]any, i int, p path) *Error {
	v, ok := p.get(data)
	if !ok || v == nil {
		return nil
	}
	u := n.codes[i]
	if cp := n.currencies[i]; cp != nil {
		cv, _ := cp.get(data)
		raw, _ := cv.(string)
		code, unit, err := currencyCode(cp.String(), raw)
		if err != nil {
			return err
		}
		u = unit
		if code != raw {
			cp.set(data, code)
		}
	}
	var text string
	switch x := v.(type) {
	case jsonx.Number:
		text = string(x)
	case string:
		text = strings.TrimSpace(x)
	case int64:
		text = fmt.Sprint(x)
	default:
		return reject(fieldReason(ReasonBadAmount, p.String()), nil, "field %s is %s, want an amount", p, typeName(v))
	}
	minor, err := minorUnitsOf(p.String(), text, u)
	if err != nil {
		return err
	}
	p.set(data, minor)
	return nil
}

// currencyCode reads the ISO 4217 code held by field: trimmed and upper-cased, or rejected as
// unknown_currency.
func currencyCode(field, raw string) (string, currency.Unit, *Error) {
	code := strings.ToUpper(strings.TrimSpace(raw))
	u, err := currency.ParseISO(code)
	if err != nil || len(code) != 3 {
		return "", u, reject(fieldReason(ReasonUnknownCurr, field), err, "field %s = %q is not an ISO 4217 currency code", field, clip(raw))
	}
	return code, u, nil
}

// minorUnitsOf converts the amount text of field into minor units of u, or rejects it as
// bad_amount.
func minorUnitsOf(field, text string, u currency.Unit) (int64, *Error) {
	scale, _ := currency.Standard.Rounding(u)
	minor, err := MinorUnits(text, scale)
	if err != nil {
		return 0, reject(fieldReason(ReasonBadAmount, field), err, "field %s = %q in %s: %v", field, clip(text), u, err)
	}
	return minor, nil
}

// MinorUnits converts a decimal amount ("-12.30", "1e3") to an integer count of 10^-scale units,
// exactly: digits beyond scale are accepted only when they are zeros.
func MinorUnits(s string, scale int) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var e int
		if _, err := fmt.Sscanf(s[i+1:], "%d", &e); err != nil || e > 30 || e < -30 {
			return 0, fmt.Errorf("bad exponent")
		}
		exp, s = e, s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("no digits")
	}
	digits := intPart + frac
	shift := scale + exp - len(frac) // power of ten to multiply the digit string by
	var v int64
	for i, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", c)
		}
		if shift < 0 && i >= len(digits)+shift {
			if c != '0' {
				return 0, fmt.Errorf("more decimal places than the currency's %d", scale)
			}
			continue
		}
		if v > (1<<63-1-int64(c-'0'))/10 {
			return 0, fmt.Errorf("amount out of range")
		}
		v = v*10 + int64(c-'0')
	}
	for ; shift > 0; shift-- {
		if v > (1<<63-1)/10 {
			return 0, fmt.Errorf("amount out of range")
		}
		v *= 10
	}
	if neg {
		v = -v
	}
	return v, nil
}

// mapString replaces the string at p by fn of it. Only a changed value is written back:
// setting a string into the map boxes it anew, an allocation per field per record.
func mapString(data map[string]any, p path, fn func(string) string) {
	if v, ok := p.get(data); ok {
		if s, ok := v.(string); ok {
			if t := fn(s); t != s {
				p.set(data, t)
			}
		}
	}
}

func trimAll(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				if t := strings.TrimSpace(s); len(t) != len(s) {
					x[k] = t
				}
			} else {
				trimAll(e)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok {
				if t := strings.TrimSpace(s); len(t) != len(s) {
					x[i] = t
				}
			} else {
				trimAll(e)
			}
		}
	}
}
