package clean_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

// Fuzz targets of clean.Parse's core (JSON, CSV, text) and of ParseTime. Every payload ends
// in exactly one outcome, Data or a rejection with a known reason code; what the parsers
// accept and refuse is checked against the standard library's encoding/json and
// encoding/csv, which define the formats here.

// byteReasons are the rejections CheckBytes gives before any format is read.
var byteReasons = []string{clean.ReasonEmpty, clean.ReasonTooLarge, clean.ReasonNUL, clean.ReasonControlChar,
	clean.ReasonBOM, clean.ReasonInvalidUTF8}

func reasons(extra ...string) map[string]bool {
	m := map[string]bool{}
	for _, r := range append(byteReasons, extra...) {
		m[r] = true
	}
	return m
}

var (
	jsonReasons = reasons(clean.ReasonJSONSyntax, clean.ReasonJSONTruncated, clean.ReasonJSONNotObject,
		clean.ReasonJSONTrailing, clean.ReasonJSONType, "duplicate_field")
	csvReasons  = reasons(clean.ReasonCSVSyntax, clean.ReasonCSVFieldCount)
	textReasons = reasons()
)

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	p, err := clean.NewParser(clean.ParseSpec{Format: "json"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		payload = bytes.Clone(payload) // Data shares memory with the payload
		r := record.Record{Payload: payload}
		std, stdErr := stdDecodeObject(payload)
		if rej := p.Parse(&r); rej != nil {
			checkRejection(t, rej, jsonReasons)
			if r.Data != nil {
				t.Fatalf("Parse(%q) rejected (%v) and set Data %v", payload, rej, r.Data)
			}
			// A JSON reason for an object encoding/json reads is a disagreement about JSON;
			// a duplicate key is refused on purpose.
			if b := record.BaseReason(rej.Reason); stdErr == nil && b != "duplicate_field" && isJSONReason(b) {
				t.Fatalf("Parse(%q) = %v, but encoding/json reads it as %v", payload, rej, std)
			}
			return
		}
		if r.Data == nil {
			t.Fatalf("Parse(%q) accepted it with no Data", payload)
		}
		if stdErr != nil {
			t.Fatalf("Parse(%q) = %v, but encoding/json refuses it: %v", payload, r.Data, stdErr)
		}
		if diff := cmp.Diff(std, r.Data); diff != "" {
			t.Fatalf("Parse(%q) and encoding/json differ (-std +Parse):\n%s", payload, diff)
		}
		// Data written back as JSON reads back the same.
		b, err := jsonx.AppendObject(nil, r.Data)
		if err != nil {
			t.Fatalf("AppendObject(Data of %q): %v", payload, err)
		}
		back, err := jsonx.DecodeObject(b)
		if err != nil {
			t.Fatalf("Data of %q written as %q does not decode: %v", payload, b, err)
		}
		if diff := cmp.Diff(r.Data, back); diff != "" {
			t.Fatalf("Data of %q written as %q reads back differently (-first +second):\n%s", payload, b, diff)
		}
	})
}

func isJSONReason(r string) bool {
	switch r {
	case clean.ReasonJSONSyntax, clean.ReasonJSONTruncated, clean.ReasonJSONNotObject, clean.ReasonJSONTrailing,
		clean.ReasonJSONType:
		return true
	}
	return false
}

// stdDecodeObject is DecodeObject as encoding/json does it: one object, numbers exact,
// nothing but white space after it.
func stdDecodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, jsonx.ErrTrailing
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, jsonx.ErrNotObject
	}
	return m, nil
}

// csvDelims are the delimiters FuzzParseCSV picks from, a multi-byte one included.
var csvDelims = []rune{',', ';', '\t', '|', '§'}

func FuzzParseCSV(f *testing.F) {
	for _, s := range csvSeeds {
		for d := range csvDelims {
			f.Add(uint8(d), []byte(s))
		}
	}
	parsers := make([]*clean.Parser, len(csvDelims))
	for i, d := range csvDelims {
		p, err := clean.NewParser(clean.ParseSpec{Format: "csv", Delimiter: d, Columns: []string{"a", "b", "c"}})
		if err != nil {
			f.Fatal(err)
		}
		parsers[i] = p
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		i := int(which) % len(csvDelims)
		r := record.Record{Payload: payload}
		std, stdErr := stdSplitCSV(payload, csvDelims[i])
		if rej := parsers[i].Parse(&r); rej != nil {
			checkRejection(t, rej, csvReasons)
			switch record.BaseReason(rej.Reason) {
			case clean.ReasonCSVSyntax:
				if stdErr == nil {
					t.Fatalf("delimiter %q: Parse(%q) = %v, but encoding/csv reads %q", csvDelims[i], payload, rej, std)
				}
			case clean.ReasonCSVFieldCount:
				if stdErr == nil && len(std) == 3 {
					t.Fatalf("delimiter %q: Parse(%q) = %v, but encoding/csv reads 3 fields %q", csvDelims[i], payload, rej, std)
				}
			}
			return
		}
		if stdErr != nil {
			t.Fatalf("delimiter %q: Parse(%q) = %v, but encoding/csv refuses it: %v", csvDelims[i], payload, r.Data, stdErr)
		}
		want := map[string]any{}
		for j, c := range []string{"a", "b", "c"} {
			if j < len(std) {
				want[c] = std[j]
			}
		}
		if diff := cmp.Diff(want, r.Data); diff != "" {
			t.Fatalf("delimiter %q: Parse(%q) and encoding/csv differ (-std +Parse):\n%s", csvDelims[i], payload, diff)
		}
	})
}

// stdSplitCSV reads one CSV record with encoding/csv's default strictness.
func stdSplitCSV(b []byte, comma rune) ([]string, error) {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if _, err := cr.Read(); err != io.EOF {
		return nil, csv.ErrFieldCount // a second record on the line
	}
	return rec, nil
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"a line", "\tlog\x1b[0m", " ", "", "caf\xc3\xa9", "\xef\xbb\xbfbom", "a\x00b", "\xff"} {
		f.Add([]byte(s))
	}
	p, err := clean.NewParser(clean.ParseSpec{Format: "text"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		r := record.Record{Payload: payload}
		if rej := p.Parse(&r); rej != nil {
			checkRejection(t, rej, textReasons)
			return
		}
		if got := r.Data["line"]; got != string(payload) || len(r.Data) != 1 {
			t.Fatalf("Parse(%q).Data = %v, want line: the payload", payload, r.Data)
		}
		if !utf8.Valid(payload) {
			t.Fatalf("Parse(%q) accepted invalid UTF-8, which cannot cross the runner as a string", payload)
		}
	})
}

// timeRender writes t back in each format, where a format can hold t exactly.
var timeRender = map[string]func(t time.Time) (string, bool){
	"auto":     func(t time.Time) (string, bool) { return t.Format(time.RFC3339Nano), fourDigitYear(t) },
	"rfc3339":  func(t time.Time) (string, bool) { return t.Format(time.RFC3339Nano), fourDigitYear(t) },
	"datetime": func(t time.Time) (string, bool) { return t.Format("2006-01-02 15:04:05.999999999"), fourDigitYear(t) },
	"clf":      func(t time.Time) (string, bool) { return t.Format(clfTime), fourDigitYear(t) && t.Nanosecond() == 0 },
	"epoch_s": func(t time.Time) (string, bool) {
		return strconv.FormatInt(t.Unix(), 10), t.Nanosecond() == 0
	},
	"epoch_ms": func(t time.Time) (string, bool) {
		return strconv.FormatInt(t.UnixMilli(), 10), t.Nanosecond()%1e6 == 0
	},
	"epoch_us": func(t time.Time) (string, bool) {
		return strconv.FormatInt(t.UnixMicro(), 10), t.Nanosecond()%1e3 == 0
	},
}

func fourDigitYear(t time.Time) bool { return t.Year() >= 0 && t.Year() <= 9999 }

// FuzzParseTime reads a string, an integer and a float in every format of TimeFormats. A
// time read is in UTC and, written back in its format, reads back the same.
func FuzzParseTime(f *testing.F) {
	for _, s := range timeSeeds {
		for i := range clean.TimeFormats {
			f.Add(uint8(i), s, int64(1764288000), 1764288000.5)
		}
	}
	f.Add(uint8(2), "", int64(math.MaxInt64), math.Inf(1))
	f.Add(uint8(3), "", int64(math.MinInt64), math.NaN())
	f.Add(uint8(0), "", int64(1e17), 1e300)
	f.Fuzz(func(t *testing.T, which uint8, s string, n int64, x float64) {
		format := clean.TimeFormats[int(which)%len(clean.TimeFormats)]
		for _, v := range []any{s, n, x, jsonx.Number(s)} {
			tm, err := clean.ParseTime(v, format)
			if err != nil {
				if !tm.IsZero() {
					t.Fatalf("ParseTime(%#v, %s) = %v with error %v", v, format, tm, err)
				}
				continue
			}
			if tm.Location() != time.UTC {
				t.Fatalf("ParseTime(%#v, %s) = %v, not in UTC", v, format, tm)
			}
			if n2, isInt := v.(int64); isInt {
				if want := map[string]int64{"epoch_s": tm.Unix(), "epoch_ms": tm.UnixMilli(), "epoch_us": tm.UnixMicro()}; format != "auto" && want[format] != n2 {
					t.Fatalf("ParseTime(int64 %d, %s) = %v, which is %d in its unit", n2, format, tm, want[format])
				}
			}
			render := timeRender[format]
			str, exact := render(tm)
			if !exact {
				continue
			}
			back, err := clean.ParseTime(str, format)
			if err != nil || !back.Equal(tm) {
				t.Fatalf("ParseTime(%#v, %s) = %v; written back as %q it reads %v, %v", v, format, tm, str, back, err)
			}
		}
	})
}

var jsonSeeds = []string{
	`{"order_id":"O-900001","created_at":"2026-11-20T08:00:00Z","customer":{"id":"C-1","email":"ana@example.com"},"country":"DE","currency":"EUR","total":"10.00","payment":"card","items":[{"sku":"SKU-0001","qty":2,"price":5.00}]}`,
	`{"order_id" "O-900002", "total": "1.00"}`,
	`{"order_id":"O-900003","created_at":"2026-11-20T08:00:00Z","`,
	`{"a":1,"a":2}`, `{"a":1e400}`, `{"a":-0.0}`, `{"a":"\ud800"}`, `{"a":"\u00e9\n"}`, `{"":null}`,
	`[]`, `"x"`, `null`, `{} {}`, `{}x`, `{"a":[1,2,{"b":true}]}`, `{"a":01}`, `{"a":1.}`, `{,}`, `{"a":1,}`,
	"\xef\xbb\xbf{}", `{"a":"` + "\xff" + `"}`, ` {"a" : 1 } `,
}

var csvSeeds = []string{
	"1,two,3", `"a ""q"" b",,c`, `a,b`, `a,b,c,d`, `"open,b,c`, `a"b,c,d`, `"a"x,b,c`, "a;b;c", "a\tb\tc",
	"a|b|c", "a§b§c", `"",""," "`, " , , ", "\xef\xbb\xbfa,b,c", "a,b,c\r", "a,\x00,c",
}

var timeSeeds = []string{
	"2026-11-20T08:00:00Z", "2026-11-20T08:00:00.123456789+05:30", "2026-11-20 08:00:00", "2026-11-20T08:00:00",
	"10/Oct/2000:13:55:36 -0700", "Mon, 02 Jan 2006 15:04:05 -0700", "Mon Jan  2 15:04:05 2006",
	"1764288000", "1764288000123", "1764288000123456", "1764288000.5", "-1", "1e3", "9e99", "NaN", "", " ",
	"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999-23:59", "2026-02-30T00:00:00Z",
}
