package clean_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

// TestParserRefusesDuplicateFields: a JSON key or CSV column named twice is a dead letter
// duplicate_field:NAME, never the last value chosen silently.
func TestParserRefusesDuplicateFields(t *testing.T) {
	jp, _ := clean.NewParser(clean.ParseSpec{Format: "json"})
	cp, _ := clean.NewParser(clean.ParseSpec{Format: "csv"})
	withHeader := func(payload, header string) *record.Record {
		r := rec(payload)
		r.Header, r.Origin = []byte(header), "orders.csv"
		return r
	}
	cases := []struct {
		name   string
		p      *clean.Parser
		r      *record.Record
		reason string
		msg    string
	}{
		{"json top level", jp, rec(`{"amount":"x","amount":2}`), "duplicate_field:amount", `key "amount" appears twice`},
		{"json nested", jp, rec(`{"meta":{"src":"a","src":"b"}}`), "duplicate_field:meta.src", "refused rather than keep one value"},
		{"json in an array", jp, rec(`{"items":[{"sku":"A","sku":"B"}]}`), "duplicate_field:items.sku", ""},
		{"json same name at two levels", jp, rec(`{"id":1,"user":{"id":2}}`), "", ""},
		{"csv header", cp, withHeader("1,2,3", "id,amount,id"), "duplicate_field:id",
			`the header of orders.csv names column "id" twice (columns 1 and 3)`},
		{"csv header fine", cp, withHeader("1,2", "id,amount"), "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.p.Parse(c.r)
			if got := reasonOf(e); got != c.reason {
				t.Fatalf("Parse(%q) reason = %q (%v), want %q", c.r.Payload, got, e, c.reason)
			}
			if c.msg != "" && !strings.Contains(e.Msg, c.msg) {
				t.Errorf("Parse(%q) message = %q, want it to contain %q", c.r.Payload, e.Msg, c.msg)
			}
		})
	}
	if _, err := clean.NewParser(clean.ParseSpec{Format: "csv", Columns: []string{"a", "b", "a"}}); err == nil ||
		!strings.Contains(err.Error(), `Columns names "a" twice`) {
		t.Errorf("NewParser with a repeated column = %v, want an error naming it", err)
	}
}

func TestParserCSVFieldsHoldLineEnds(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "csv", Columns: []string{"id", "note"}})
	for in, want := range map[string]string{"7,\"two\nlines\"": "two\nlines", "8,\"crlf\r\nhere\"": "crlf\r\nhere"} {
		r := rec(in)
		if err := p.Parse(r); err != nil || r.Data["note"] != want {
			t.Errorf("Parse(%q) = %v, note %q; want note %q", in, err, r.Data["note"], want)
		}
	}
	// Outside CSV a line end inside a record is still a control character.
	jp, _ := clean.NewParser(clean.ParseSpec{Format: "json"})
	if got := reasonOf(jp.Parse(rec("{\"a\":\n1}"))); got != "control_char" {
		t.Errorf("JSON with a line end: reason %q, want control_char", got)
	}
}

func TestParserTakesTheReadersReason(t *testing.T) {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "json"})
	r := rec(`{"a":1}`) // valid, but the reader marked it
	r.Attributes = map[string]string{record.AttrReadError: "too_large", record.AttrReadMessage: "record is 99 bytes, over the read limit of 7 bytes"}
	e := p.Parse(r)
	if e == nil || e.Reason != "too_large" || e.Msg != "record is 99 bytes, over the read limit of 7 bytes" {
		t.Errorf("Parse(marked record) = %v, want the reader's reason and message", e)
	}
}

func TestMessagesSayWhatWasWrong(t *testing.T) {
	v, _ := clean.NewValidator([]clean.Rule{{Field: "amount", Type: "number"}})
	e := v.Validate(map[string]any{"amount": jsonx.Number("1e400")})
	if reasonOf(e) != "out_of_range:amount" || !strings.Contains(e.Msg, "1e400 is out of range for a 64-bit float") {
		t.Errorf("Validate(1e400) = %v, want out_of_range:amount saying it is out of range for a 64-bit float", e)
	}
	_, err := clean.ParseTime("soon", "auto")
	if err == nil || strings.Contains(err.Error(), "a auto") || !strings.Contains(err.Error(), "tried 2006-01-02T15:04:05") ||
		!strings.Contains(err.Error(), "epoch number") {
		t.Errorf(`ParseTime("soon", auto) = %v, want a message listing the formats tried`, err)
	}
}

func TestCanonicalNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"7", "7"}, {"7.0", "7"}, {"7e0", "7"}, {"70e-1", "7"}, {"0.7E+1", "7"}, {"-0", "0"}, {"0.000", "0"},
		{"1.50", "1.5"}, {"-12.3400", "-12.34"}, {"1e3", "1000"}, {"0.05", "0.05"}, {"5e-3", "0.005"},
		{"12345678901234567890", "12345678901234567890"}, {"1e400", "1e400"}, {"12.5e400", "1.25e401"},
		{"1e-400", "1e-400"},
	} {
		if got, ok := clean.CanonicalNumber(c.in); !ok || got != c.want {
			t.Errorf("CanonicalNumber(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "-", "e5", "1e", "x"} {
		if got, ok := clean.CanonicalNumber(bad); ok {
			t.Errorf("CanonicalNumber(%q) = %q, want not ok", bad, got)
		}
	}
}

// TestDedupeKeysNumbersCanonically: 7, 7.0 and "7" are one key; "7.0" (a string) and
// non-scalar keys are not, and booleans, nulls, objects and arrays go to dead letter.
func TestDedupeKeysNumbersCanonically(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"k":7}`, `{"k":7.0}`, `{"k":"7"}`, `{"k":"7.0"}`, `{"k":70e-1}`,
		`{"k":true}`, `{"k":null}`, `{"k":{"a":1}}`, `{"k":[7]}`))
	parsed, _ := clean.Parse(s, in, clean.ParseSpec{Format: "json"})
	ok, dups := clean.Dedupe(s, parsed, "k")
	passert.Equals(s, beam.ParDo(s, idFn, ok), "a", "d")
	passert.Equals(s, beam.ParDo(s, idReasonFn, dups), "b:duplicate", "c:duplicate", "e:duplicate",
		"f:wrong_type:k", "g:wrong_type:k", "h:wrong_type:k", "i:wrong_type:k")
	ptest.RunAndValidate(t, p)
}

// TestReadParseBalance runs files.Read into clean.Parse: every record read (not every line)
// comes out once, as ok or as a dead letter with the reader's or the parser's reason.
func TestReadParseBalance(t *testing.T) {
	dir := t.TempDir()
	csv := "id,note\r\n1,\"two\r\nlines\"\r\n2,plain\r\n3,\"" + strings.Repeat("x", 100) + "\"\r\n4,\"bad\"x\r\n"
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.csv"), []byte("\xFF\xFEi\x00d\x00\n\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	recs := files.Read(s, filepath.Join(dir, "*.csv"), files.WithCSV(0), files.WithHeader(), files.WithMaxLine(64))
	ok, dead := clean.Parse(s, recs, clean.ParseSpec{Format: "csv"})
	passert.Count(s, recs, "read", 5)
	passert.Equals(s, beam.ParDo(s, offsetFn, ok), "a.csv:2", "a.csv:4")
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "too_large", "csv_syntax", "encoding_utf16")
	ptest.RunAndValidate(t, p)
}

func init() {
	register.Function1x1(idReasonFn)
	register.Function1x1(offsetFn)
}

func idReasonFn(f record.Failure) string { return f.RecordID + ":" + f.Reason }

func offsetFn(r record.Record) string {
	return filepath.Base(r.Origin) + ":" + string(rune('0'+r.Offset))
}
