package jsonx

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The appenders below encode the JSON-like values of parsed records (string, Number, int64,
// float64, bool, nil, []any, map[string]any) with sorted object keys, producing the same text
// as encoding/json without its HTML escaping. They exist for record.Record.AppendJSON: the
// ingest job encodes every record, and encoding a Record by reflection took a quarter of that
// job's time (internal/dev/benchingest profile). On an order's map alone they take about half
// goccy's time without an allocation (BenchmarkAppendObject: 779 against 1447 ns/op), and they
// save more on the record's own fields (BenchmarkRecordJSON).

// AppendValue appends v as JSON. Values of other types go through Marshal.
func AppendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendString(b, x), nil
	case Number:
		if x == "" {
			return append(b, '0'), nil
		}
		return append(b, x...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		return AppendFloat(b, x), nil
	case map[string]any:
		return appendMap(b, x, true)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendValue(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		return appendMap(b, x, true)
	}
	enc, err := Marshal(v)
	return append(b, enc...), err
}

// AppendObject appends m with its keys sorted.
func AppendObject(b []byte, m map[string]any) ([]byte, error) { return appendMap(b, m, true) }

// AppendObjectUnordered appends m with its top-level keys in map order, for bytes that are
// decoded again (coders) rather than compared or read by people.
func AppendObjectUnordered(b []byte, m map[string]any) ([]byte, error) {
	return appendMap(b, m, false)
}

func appendMap[V any](b []byte, m map[string]V, sorted bool) ([]byte, error) {
	// The members are gathered in an array on the stack when they fit (records have tens of
	// fields), saving an allocation and, when sorting, a second look-up per key.
	var arr [32]member
	ms := arr[:0]
	for k, v := range m {
		ms = append(ms, member{k, any(v)})
	}
	if sorted {
		slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.k, b.k) })
	}
	b = append(b, '{')
	for i, e := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendString(b, e.k), ':')
		var err error
		if b, err = AppendValue(b, e.v); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// AppendFloat appends f as encoding/json does; NaN and infinities, which JSON lacks, as null.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// 1e-07 → 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// AppendTime appends t in RFC 3339 with nanoseconds, quoted, as time.Time's MarshalJSON does.
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendBytes appends p as a base64 string, as encoding/json encodes []byte.
func AppendBytes(b, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029 escaped as encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
