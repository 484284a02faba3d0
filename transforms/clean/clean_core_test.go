package clean_test

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

func rec(payload string) *record.Record {
	return &record.Record{ID: "r", Source: "s", Payload: []byte(payload)}
}

func reasonOf(e *clean.Error) string {
	if e == nil {
		return ""
	}
	return e.Reason
}

func TestParserJSON(t *testing.T) {
	p, err := clean.NewParser(clean.ParseSpec{Format: "json", MaxBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, ""},
		{` {"a":"x"}  `, ""},
		{`{"a":}`, "json_syntax"},
		{`{"a":1`, "json_truncated"},
		{`[1,2]`, "json_not_object"},
		{`"s"`, "json_not_object"},
		{`{"a":1} {"b":2}`, "json_trailing_data"},
		{``, "empty_record"},
		{"  \t", "empty_record"},
		{"{\"a\":\"\x00\"}", "nul_byte"},
		{"{\"a\":\"\xff\"}", "invalid_utf8"},
		{"\xEF\xBB\xBF{\"a\":1}", "unexpected_bom"},
		{"{\"a\":\"x\ry\"}", "control_char"},
		{`{"a":"` + string(make([]byte, 100)) + `"}`, "too_large"},
	} {
		r := rec(tc.in)
		if got := reasonOf(p.Parse(r)); got != tc.want {
			t.Errorf("Parse(%q) reason = %q, want %q", tc.in, got, tc.want)
		}
		if tc.want == "" && r.Data == nil {
			t.Errorf("Parse(%q) left Data nil", tc.in)
		}
	}
}

func TestParserJSONKeepsNumbersExact(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "json"})
	r := rec(`{"total":12.30,"id":12345678901234567890}`)
	if err := p.Parse(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"total": jsonx.Number("12.30"), "id": jsonx.Number("12345678901234567890")}
	if diff := cmp.Diff(want, r.Data); diff != "" {
		t.Errorf("Parse numbers (-want +got):\n%s", diff)
	}
}

func TestParserSyntaxErrorHasPosition(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "json"})
	e := p.Parse(rec(`{"a":1,,}`))
	if e == nil {
		t.Fatal("no error")
	}
	var se *jsonx.SyntaxError
	if !asSyntax(e, &se) || se.Offset <= 0 {
		t.Errorf("Parse error %v does not carry a positive byte offset", e)
	}
}

func TestParserCSV(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "csv", Columns: []string{"id", "url", "n"}})
	r := rec(`7,"https://x.example/a,b",3`)
	if err := p.Parse(r); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"id": "7", "url": "https://x.example/a,b", "n": "3"}, r.Data); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
	// The file header wins over configured columns.
	r = rec("1;2")
	r.Header = []byte("a;b")
	p2, _ := clean.NewParser(clean.ParseSpec{Format: "csv", Delimiter: ';'})
	if err := p2.Parse(r); err != nil || r.Data["b"] != "2" {
		t.Errorf("CSV with header: err %v, data %v", err, r.Data)
	}
	for in, want := range map[string]string{`1,"open,3`: "csv_syntax", `1,2`: "csv_field_count", `1,2,3,4`: "csv_field_count"} {
		if got := reasonOf(p.Parse(rec(in))); got != want {
			t.Errorf("Parse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParserText(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "text"})
	r := rec("GET /x\tHTTP/1.1\x1b[0m")
	if err := p.Parse(r); err != nil || r.Data["line"] != "GET /x\tHTTP/1.1\x1b[0m" {
		t.Errorf("text: err %v data %v", err, r.Data)
	}
}

func ptr(f float64) *float64 { return &f }

func TestValidator(t *testing.T) {
	clean.RegisterCheck("even_n", func(d map[string]any) error {
		if n, _ := strconv.Atoi(fmt.Sprint(d["n"])); n%2 != 0 {
			return &clean.Error{Reason: "odd_n", Msg: "n is odd"}
		}
		return nil
	})
	v, err := clean.NewValidator([]clean.Rule{
		{Field: "id", Required: true, Type: "string", Regex: `[a-z]+-\d+`, MaxLen: 10},
		{Field: "n", Type: "integer", Min: ptr(0), Max: ptr(100)},
		{Field: "kind", Enum: []string{"a", "b"}},
		{Field: "user.email", Required: true},
		{Field: "tags", Type: "array", MaxLen: 2},
		{Check: "even_n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		return map[string]any{"id": "ab-1", "n": jsonx.Number("4"), "kind": "a", "user": map[string]any{"email": "x@y"}, "tags": []any{"t"}}
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"valid", func(map[string]any) {}, ""},
		{"missing", func(m map[string]any) { delete(m, "id") }, "missing_field:id"},
		{"null", func(m map[string]any) { m["id"] = nil }, "missing_field:id"},
		{"nested missing", func(m map[string]any) { m["user"] = map[string]any{} }, "missing_field:user.email"},
		{"type", func(m map[string]any) { m["id"] = jsonx.Number("1") }, "wrong_type:id"},
		{"regex", func(m map[string]any) { m["id"] = "AB-1" }, "bad_format:id"},
		{"max len", func(m map[string]any) { m["id"] = "abcdefghij-1" }, "too_long:id"},
		{"not integer", func(m map[string]any) { m["n"] = jsonx.Number("1.5") }, "wrong_type:n"},
		{"numeric string", func(m map[string]any) { m["n"] = "8"; m["kind"] = "b" }, ""},
		{"range", func(m map[string]any) { m["n"] = jsonx.Number("-2") }, "out_of_range:n"},
		{"enum", func(m map[string]any) { m["kind"] = "c" }, "not_allowed:kind"},
		{"array len", func(m map[string]any) { m["tags"] = []any{1, 2, 3} }, "too_long:tags"},
		{"custom", func(m map[string]any) { m["n"] = jsonx.Number("3") }, "odd_n"},
	} {
		d := base()
		tc.edit(d)
		if got := reasonOf(v.Validate(d)); got != tc.want {
			t.Errorf("%s: Validate(%v) = %q, want %q", tc.name, d, got, tc.want)
		}
	}
}

func TestNewValidatorNamesTheField(t *testing.T) {
	for _, rules := range [][]clean.Rule{
		{{Field: "x", Type: "float"}},
		{{Field: "x", Regex: "("}},
		{{Field: "x", Min: ptr(2), Max: ptr(1)}},
		{{Field: "x", Check: "no_such_check"}},
		{{}},
	} {
		if _, err := clean.NewValidator(rules); err == nil {
			t.Errorf("NewValidator(%+v) = nil error, want one", rules)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale int
		want  int64
		bad   bool
	}{
		{"12.30", 2, 1230, false},
		{"12.3", 2, 1230, false},
		{"12", 2, 1200, false},
		{"-0.01", 2, -1, false},
		{"1500", 0, 1500, false},
		{"1.50", 0, 0, true},
		{"1.00", 0, 1, false},
		{"1.234", 3, 1234, false},
		{"1.2345", 3, 0, true},
		{"1e3", 2, 100000, false},
		{"1.5e-1", 2, 15, false},
		{"abc", 2, 0, true},
		{"", 2, 0, true},
		{"99999999999999999999", 2, 0, true},
		{".5", 2, 50, false},
	} {
		got, err := clean.MinorUnits(tc.in, tc.scale)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("MinorUnits(%q, %d) = %d, %v; want %d, error %v", tc.in, tc.scale, got, err, tc.want, tc.bad)
		}
	}
}

func TestNormaliser(t *testing.T) {
	n, err := clean.NewNormaliser(clean.NormaliseSpec{
		Trim:       true,
		Lower:      []string{"kind"},
		Upper:      []string{"country"},
		Emails:     []string{"email"},
		Hosts:      []string{"host"},
		Timestamps: []clean.TimeField{{Field: "at", Format: "auto"}},
		Money:      []clean.MoneyField{{Amount: "total", Currency: "cur"}, {Amount: "fee", Code: "JPY"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := map[string]any{
		"kind": " Web ", "country": "de", "email": " Ana@Example.COM", "host": "WWW.Example.com.",
		"at": "10/Oct/2026:13:55:36 -0700", "total": jsonx.Number("12.5"), "cur": "eur", "fee": "300",
		"nested": map[string]any{"s": "  x  "}, "list": []any{" y "},
	}
	if err := n.Normalise(d); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"kind": "web", "country": "DE", "email": "ana@example.com", "host": "www.example.com",
		"at": "2026-10-10T20:55:36Z", "total": int64(1250), "cur": "EUR", "fee": int64(300),
		"nested": map[string]any{"s": "x"}, "list": []any{"y"},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Normalise (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		edit func(map[string]any)
		want string
	}{
		{func(m map[string]any) { m["cur"] = "XYZ" }, "unknown_currency:cur"},
		{func(m map[string]any) { m["total"] = "12.345" }, "bad_amount:total"},
		{func(m map[string]any) { m["total"] = true }, "bad_amount:total"},
		{func(m map[string]any) { m["email"] = "a@b@c" }, "bad_email:email"},
		{func(m map[string]any) { m["at"] = "soon" }, "bad_timestamp:at"},
	} {
		d := map[string]any{"total": "1.00", "cur": "USD", "email": "a@b.c", "at": "2026-01-01T00:00:00Z"}
		tc.edit(d)
		if got := reasonOf(n.Normalise(d)); got != tc.want {
			t.Errorf("Normalise(%v) = %q, want %q", d, got, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v      any
		format string
	}{
		{"2026-11-20T08:00:00Z", "rfc3339"},
		{"2026-11-20T09:00:00+01:00", "rfc3339"},
		{"2026-11-20 08:00:00", "datetime"},
		{"20/Nov/2026:09:00:00 +0100", "clf"},
		{jsonx.Number("1795161600"), "epoch_s"},
		{jsonx.Number("1795161600000"), "epoch_ms"},
		{"1795161600000000", "epoch_us"},
		{jsonx.Number("1795161600"), "auto"},
		{jsonx.Number("1795161600000"), "auto"},
		{"1795161600000", "auto"},
		{"2026-11-20T08:00:00", "auto"},
		{"Fri, 20 Nov 2026 08:00:00 +0000", "auto"},
		{float64(1795161600), "epoch_s"},
		{jsonx.Number("1795161600.000"), "epoch_s"},
	} {
		got, err := clean.ParseTime(tc.v, tc.format)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%v, %s) = %v, %v; want %v UTC", tc.v, tc.format, got, err, want)
		}
	}
	for _, tc := range []struct {
		v      any
		format string
	}{{"2026-11-20", "rfc3339"}, {"soon", "auto"}, {true, "auto"}, {"x", "epoch_ms"}, {"", "auto"}, {"9e30", "epoch_s"}} {
		if got, err := clean.ParseTime(tc.v, tc.format); err == nil {
			t.Errorf("ParseTime(%v, %s) = %v, want an error", tc.v, tc.format, got)
		}
	}
}

func TestTimeChecker(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	c := clean.TimeChecker{Field: "ts", Format: "rfc3339", Now: func() time.Time { return now }}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"2026-11-21T00:00:00Z": "",
		"2026-11-22T23:00:00Z": "",
		"2026-11-23T00:00:01Z": "time_in_future:ts",
		"1999-12-31T23:59:59Z": "time_too_old:ts",
		"yesterday":            "bad_timestamp:ts",
	} {
		_, err := c.Time(map[string]any{"ts": in})
		if got := reasonOf(err); got != want {
			t.Errorf("Time(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := c.Time(map[string]any{}); reasonOf(err) != "missing_field:ts" {
		t.Errorf("Time(no field) = %v, want missing_field:ts", err)
	}
}

// TestSplitCSVMatchesEncodingCSV checks the hand-written line splitter against encoding/csv.
func TestSplitCSVMatchesEncodingCSV(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "csv"})
	for _, line := range []string{
		`a,b,c`, `"a","b,c",d`, `"say ""hi""",x,`, `,,`, `a,"",b`, `"x"`, `x`,
		`a,"open`, `a,b"c,d`, `"a"b,c`, `"a",b"`, `"",""`, `é,"ü ""x""",ß`,
	} {
		want, wantErr := csv.NewReader(strings.NewReader(line)).Read()
		r := rec(line)
		r.Header = []byte("h1,h2,h3")
		perr := p.Parse(r)
		if wantErr != nil {
			if perr == nil || perr.Reason != "csv_syntax" {
				t.Errorf("Parse(%q) = %v, want csv_syntax like encoding/csv's %v", line, perr, wantErr)
			}
			continue
		}
		if len(want) != 3 {
			if perr == nil || perr.Reason != "csv_field_count" {
				t.Errorf("Parse(%q) = %v, want csv_field_count for %d fields", line, perr, len(want))
			}
			continue
		}
		if perr != nil {
			t.Errorf("Parse(%q) = %v, want %q", line, perr, want)
			continue
		}
		got := []string{r.Data["h1"].(string), r.Data["h2"].(string), r.Data["h3"].(string)}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Parse(%q) = %q, want %q (encoding/csv)", line, got, want)
		}
	}
}

func TestStepsLateness(t *testing.T) {
	hour := time.Hour
	st, err := clean.NewSteps(clean.Spec{Parse: &clean.ParseSpec{Format: "json"}, EventTime: &clean.TimeField{Field: "ts", Format: "rfc3339"}, Lateness: &hour})
	if err != nil {
		t.Fatal(err)
	}
	arrived := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for ts, want := range map[string]string{
		"2026-11-20T11:00:00Z": "",            // exactly the lateness: kept
		"2026-11-20T10:59:59Z": "too_late:ts", // a second more
		"2026-11-20T13:00:00Z": "",            // after its arrival: not late
		"2026-11-19T00:00:00Z": "too_late:ts",
	} {
		r := record.Record{Payload: []byte(`{"ts":"` + ts + `"}`)}
		_, e := st.ApplyArrived(&r, arrived)
		if got := reasonOf(e); got != want {
			t.Errorf("%s arriving at %s: %q, want %q", ts, arrived.Format(time.RFC3339), got, want)
		}
		r = record.Record{Payload: []byte(`{"ts":"` + ts + `"}`)}
		if _, e := st.Apply(&r); e != nil {
			t.Errorf("%s without an arrival time: %v, want kept", ts, e)
		}
	}
	minus := -time.Minute
	if _, err := clean.NewSteps(clean.Spec{EventTime: &clean.TimeField{Field: "ts", Format: "auto"}, Lateness: &minus}); err == nil {
		t.Error("a negative lateness was accepted")
	}
}
