package bigquery

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/beamline/beamline/internal/jsonx"
	"google.golang.org/protobuf/encoding/protowire"
)

// Rows are encoded straight from the struct into protobuf wire bytes by a plan compiled once
// per type, without building a dynamicpb message. BenchmarkEncode compares this with
// reflection into dynamicpb followed by proto.Marshal (the route adapt's descriptors suggest)
// and with a JSON round trip; the figures are in bench_test.go. TestEncodeMatchesDynamicpb
// decodes the bytes with the descriptor sent to BigQuery, so the two cannot drift apart.

// ValueError is a row value BigQuery would refuse, found before sending it.
type ValueError struct {
	Field string
	Err   error
}

func (e *ValueError) Error() string { return fmt.Sprintf("field %s: %v", e.Field, e.Err) }
func (e *ValueError) Unwrap() error { return e.Err }

// Sentinels wrapped by ValueError.
var (
	ErrInvalidUTF8    = errors.New("string is not valid UTF-8")
	ErrOutOfRange     = errors.New("value out of the column type's range")
	ErrNilElement     = errors.New("nil element in a repeated field (BigQuery arrays cannot hold NULL)")
	ErrInvalidJSON    = errors.New("not valid JSON")
	ErrNotEncodable   = errors.New("value cannot be encoded")
	minTimestamp      = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTimestamp      = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	numericLimit      = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(29), nil))
	numericNegLimit   = new(big.Rat).Neg(numericLimit)
	emulatorTimestamp = "2006-01-02T15:04:05.999999Z07:00"
)

// encoding chooses between BigQuery's and the emulator's wire forms of TIMESTAMP.
type encoding struct {
	// emulator sends TIMESTAMP as RFC 3339 text: go-zetasqlite (TimestampFromInt64Value,
	// internal/value.go:2424 in v0.19.3) reads the microsecond remainder of an int64 as
	// milliseconds, so 07:08:09.123456 would be stored as 07:10:12.456.
	emulator bool
}

func (c *column) field(v reflect.Value) reflect.Value {
	if len(c.index) == 1 {
		return v.Field(c.index[0])
	}
	return v.FieldByIndex(c.index)
}

// appendProto appends the protobuf encoding of struct value v (of p.typ).
func (p *plan) appendProto(b []byte, v reflect.Value, enc encoding) ([]byte, error) {
	for i := range p.cols {
		c := &p.cols[i]
		fv := c.field(v)
		var err error
		switch {
		case c.repeated:
			for j := range fv.Len() {
				ev := fv.Index(j)
				if c.elemPtr {
					if ev.IsNil() {
						return b, &ValueError{Field: c.name, Err: ErrNilElement}
					}
					ev = ev.Elem()
				}
				if b, err = c.appendProtoValue(b, ev, enc, true); err != nil {
					return b, err
				}
			}
			continue
		case c.ptr:
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		if b, err = c.appendProtoValue(b, fv, enc, false); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (c *column) appendProtoValue(b []byte, v reflect.Value, enc encoding, inArray bool) ([]byte, error) {
	num := protowire.Number(c.num)
	switch c.kind {
	case kString:
		s := v.String()
		if !utf8.ValidString(s) {
			return b, &ValueError{Field: c.name, Err: ErrInvalidUTF8}
		}
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, s), nil
	case kBool:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool())), nil
	case kInt:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.Int())), nil
	case kUint:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, v.Uint()), nil
	case kFloat:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.Float())), nil
	case kBytes:
		if v.IsNil() && !inArray {
			return b, nil
		}
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes()), nil
	case kTimestamp:
		t := timeOf(v)
		if t.IsZero() {
			if inArray {
				return b, &ValueError{Field: c.name, Err: fmt.Errorf("%w: zero time in an array", ErrNilElement)}
			}
			return b, nil
		}
		if t.Before(minTimestamp) || !t.Before(maxTimestamp) {
			return b, &ValueError{Field: c.name, Err: fmt.Errorf("%w: TIMESTAMP %v is outside years 1-9999", ErrOutOfRange, t)}
		}
		if enc.emulator {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			return protowire.AppendString(b, t.UTC().Format(emulatorTimestamp)), nil
		}
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(t.UnixMicro())), nil
	case kRecord:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		start := len(b)
		b = append(b, 0) // one-byte length, widened below if the message is longer
		b, err := c.sub.appendProto(b, v, enc)
		if err != nil {
			return b, err
		}
		n := len(b) - start - 1
		if n < 0x80 {
			b[start] = byte(n)
			return b, nil
		}
		extra := protowire.SizeVarint(uint64(n)) - 1
		b = append(b, make([]byte, extra)...)
		copy(b[start+1+extra:], b[start+1:len(b)-extra])
		protowire.AppendVarint(b[start:start], uint64(n))
		return b, nil
	}
	// The rest are sent as text, which BigQuery accepts for their column types.
	s, null, err := c.text(v, inArray)
	if err != nil || null {
		return b, err
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s), nil
}

func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *(*time.Time)(v.Addr().UnsafePointer())
	}
	return v.Interface().(time.Time)
}

// text renders the values sent as strings in both the protobuf and the JSON forms: DATE,
// DATETIME, TIME, NUMERIC and JSON.
func (c *column) text(v reflect.Value, inArray bool) (s string, null bool, err error) {
	switch c.kind {
	case kDate:
		d := v.Interface().(civil.Date)
		if !d.IsValid() || d.Year < 1 || d.Year > 9999 {
			return "", false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: DATE %v", ErrOutOfRange, d)}
		}
		return d.String(), false, nil
	case kDateTime:
		dt := v.Interface().(civil.DateTime)
		if !dt.IsValid() || dt.Date.Year < 1 || dt.Date.Year > 9999 {
			return "", false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: DATETIME %v", ErrOutOfRange, dt)}
		}
		return bigquery.CivilDateTimeString(dt), false, nil
	case kTime:
		t := v.Interface().(civil.Time)
		if !t.IsValid() {
			return "", false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: TIME %v", ErrOutOfRange, t)}
		}
		return bigquery.CivilTimeString(t), false, nil
	case kNumericInt:
		return formatMinor(v.Int(), c.scale), false, nil
	case kRat:
		var r *big.Rat
		if v.CanAddr() {
			r = v.Addr().Interface().(*big.Rat)
		} else {
			rr := v.Interface().(big.Rat)
			r = &rr
		}
		if r.Cmp(numericLimit) >= 0 || r.Cmp(numericNegLimit) <= 0 {
			return "", false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: NUMERIC %s has more than 29 integer digits", ErrOutOfRange, r.FloatString(9))}
		}
		return bigquery.NumericString(r), false, nil
	case kRawJSON:
		raw := v.Bytes()
		if len(raw) == 0 {
			return "", !inArray, nil
		}
		if !json.Valid(raw) {
			return "", false, &ValueError{Field: c.name, Err: ErrInvalidJSON}
		}
		return string(raw), false, nil
	case kJSON:
		if (v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.IsNil() && !inArray {
			return "", true, nil
		}
		var b []byte
		var err error
		if m, ok := v.Interface().(map[string]any); ok {
			b, err = jsonx.AppendObject(nil, m) // sorted keys, json.Number kept exact
		} else {
			b, err = json.Marshal(v.Interface())
		}
		if err != nil {
			return "", false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: %v", ErrNotEncodable, err)}
		}
		return string(b), false, nil
	}
	return "", false, &ValueError{Field: c.name, Err: ErrNotEncodable}
}

// formatMinor renders minor units at scale as a decimal: (-1234, 2) → "-12.34".
func formatMinor(units int64, scale int) string {
	if scale == 0 {
		return strconv.FormatInt(units, 10)
	}
	neg := units < 0
	u := uint64(units)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	for len(digits) <= scale {
		digits = "0" + digits
	}
	s := digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	if neg {
		return "-" + s
	}
	return s
}

// appendJSON appends v as one line of newline-delimited JSON as BigQuery load jobs read it:
// TIMESTAMP in RFC 3339 with microseconds, NUMERIC as a string, BYTES in base64, JSON columns
// inline. NULLs are left out.
func (p *plan) appendJSON(b []byte, v reflect.Value) ([]byte, error) {
	b = append(b, '{')
	first := true
	for i := range p.cols {
		c := &p.cols[i]
		fv := c.field(v)
		if c.ptr {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, c.name)
		b = append(b, ':')
		var err error
		var null bool
		if c.repeated && c.kind != kRawJSON {
			b = append(b, '[')
			for j := range fv.Len() {
				if j > 0 {
					b = append(b, ',')
				}
				ev := fv.Index(j)
				if c.elemPtr {
					if ev.IsNil() {
						return b, &ValueError{Field: c.name, Err: ErrNilElement}
					}
					ev = ev.Elem()
				}
				if b, null, err = c.appendJSONValue(b, ev, true); err != nil {
					return b, err
				}
			}
			b = append(b, ']')
		} else if b, null, err = c.appendJSONValue(b, fv, false); err != nil {
			return b, err
		}
		if null {
			b = b[:mark]
			continue
		}
		first = false
	}
	return append(b, '}'), nil
}

func (c *column) appendJSONValue(b []byte, v reflect.Value, inArray bool) ([]byte, bool, error) {
	switch c.kind {
	case kString:
		s := v.String()
		if !utf8.ValidString(s) {
			return b, false, &ValueError{Field: c.name, Err: ErrInvalidUTF8}
		}
		return jsonx.AppendString(b, s), false, nil
	case kBool:
		return strconv.AppendBool(b, v.Bool()), false, nil
	case kInt:
		return strconv.AppendInt(b, v.Int(), 10), false, nil
	case kUint:
		return strconv.AppendUint(b, v.Uint(), 10), false, nil
	case kFloat:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(b, `"NaN"`...), false, nil
		case math.IsInf(f, 1):
			return append(b, `"Infinity"`...), false, nil
		case math.IsInf(f, -1):
			return append(b, `"-Infinity"`...), false, nil
		}
		return jsonx.AppendFloat(b, f), false, nil
	case kBytes:
		if v.IsNil() && !inArray {
			return b, true, nil
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), false, nil
	case kTimestamp:
		t := timeOf(v)
		if t.IsZero() {
			if inArray {
				return b, false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: zero time in an array", ErrNilElement)}
			}
			return b, true, nil
		}
		if t.Before(minTimestamp) || !t.Before(maxTimestamp) {
			return b, false, &ValueError{Field: c.name, Err: fmt.Errorf("%w: TIMESTAMP %v is outside years 1-9999", ErrOutOfRange, t)}
		}
		b = append(b, '"')
		b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
		return append(b, '"'), false, nil
	case kRecord:
		b, err := c.sub.appendJSON(b, v)
		return b, false, err
	case kJSON, kRawJSON:
		s, null, err := c.text(v, inArray)
		if err != nil || null {
			return b, null, err
		}
		return append(b, s...), false, nil
	}
	s, null, err := c.text(v, inArray)
	if err != nil || null {
		return b, null, err
	}
	return jsonx.AppendString(b, s), false, nil
}
