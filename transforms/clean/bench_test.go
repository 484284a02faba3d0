package clean_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/gen"
	"github.com/beamline/beamline/internal/dev/orderbench"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	gojson "github.com/goccy/go-json"
)

// The benchmarks compare the library path — Parser, Validator, Normaliser and TimeChecker as
// the ingest job configures them for orders (testdata/sources.yaml) — with the same work
// written by hand as a plain Go loop over a struct, on the same generated records.

func orderTime(tb testing.TB) *clean.TimeChecker {
	tc := &clean.TimeChecker{Field: "created_at", Format: "auto"}
	if err := tc.Init(); err != nil {
		tb.Fatal(err)
	}
	return tc
}

// benchSteps runs spec's steps over lines, as clean.Apply does per record.
func benchSteps(b *testing.B, spec clean.Spec, header []byte, lines [][]byte) {
	st, err := clean.NewSteps(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	i := 0
	for b.Loop() {
		r := record.Record{Source: "bench", Payload: lines[i%len(lines)], Header: header}
		i++
		if stage, err := st.Apply(&r); err != nil {
			b.Fatalf("%s: %v", stage, err)
		}
	}
}

func BenchmarkOrderLibrary(b *testing.B) {
	norm := orderbench.Normalise("")
	benchSteps(b, clean.Spec{Parse: &clean.ParseSpec{Format: "json"}, Rules: orderbench.Rules(), Normalise: &norm,
		EventTime: &clean.TimeField{Field: "created_at", Format: "auto"}}, nil, orderbench.Lines(1024))
}

func benchPlain(b *testing.B, unmarshal func([]byte, any) error) {
	lines := orderbench.Lines(1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	i := 0
	for b.Loop() {
		if _, err := orderbench.PlainClean(lines[i%len(lines)], unmarshal); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkOrderPlainGoccy(b *testing.B) { benchPlain(b, gojson.Unmarshal) }
func BenchmarkOrderPlainStd(b *testing.B)   { benchPlain(b, json.Unmarshal) }

func orderSchema(tb testing.TB) (*clean.Schema[orderbench.Order], *clean.TimeChecker) {
	s, err := clean.NewSchema[orderbench.Order](orderbench.Rules(), orderbench.Normalise("total_minor"))
	if err != nil {
		tb.Fatal(err)
	}
	return s, orderTime(tb)
}

func BenchmarkOrderLibraryTyped(b *testing.B) {
	lines := orderbench.Lines(1024)
	s, tc := orderSchema(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	i := 0
	for b.Loop() {
		o, err := s.Parse(lines[i%len(lines)])
		i++
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tc.TimeOf(o.CreatedAt); err != nil {
			b.Fatal(err)
		}
	}
}

func csvLines(n int) (header []byte, lines [][]byte) {
	all := strings.Split(strings.TrimSpace(string(gen.WebB(7, n))), "\n")
	for _, l := range all[1:] {
		lines = append(lines, []byte(l))
	}
	return []byte(all[0]), lines
}

// BenchmarkCSVEventLibrary is the web_b source of testdata/sources.yaml: CSV mapped by the
// file's header, three rules, trim and lower-case, event time from a "datetime" column.
func BenchmarkCSVEventLibrary(b *testing.B) {
	header, lines := csvLines(1024)
	zero, day := 0.0, 86400000.0
	benchSteps(b, clean.Spec{
		Parse: &clean.ParseSpec{Format: "csv"},
		Rules: []clean.Rule{
			{Field: "event_id", Required: true, MaxLen: 64},
			{Field: "url", Required: true, Regex: `https?://\S+`},
			{Field: "duration_ms", Type: "integer", Min: &zero, Max: &day},
		},
		Normalise: &clean.NormaliseSpec{Trim: true, Lower: []string{"action"}},
		EventTime: &clean.TimeField{Field: "timestamp", Format: "datetime"},
	}, header, lines)
}

type plainEvent struct {
	EventID, URL, Action string
	Duration             int64
	Time                 time.Time
}

var plainURL = regexp.MustCompile(`^https?://\S+$`)

// BenchmarkCSVEventPlain is the same work by hand: encoding/csv on the line, fields by
// position, the same checks.
func BenchmarkCSVEventPlain(b *testing.B) {
	_, lines := csvLines(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		line := lines[i%len(lines)]
		i++
		rec, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil || len(rec) != 6 {
			b.Fatal(err)
		}
		for j := range rec {
			rec[j] = strings.TrimSpace(rec[j])
		}
		e := plainEvent{EventID: rec[0], URL: rec[3], Action: strings.ToLower(rec[4])}
		if e.EventID == "" || len(e.EventID) > 64 || !plainURL.MatchString(e.URL) {
			b.Fatal("invalid")
		}
		if e.Duration, err = strconv.ParseInt(rec[5], 10, 64); err != nil || e.Duration < 0 || e.Duration > 86400000 {
			b.Fatal("duration")
		}
		if e.Time, err = time.Parse("2006-01-02 15:04:05", rec[1]); err != nil {
			b.Fatal(err)
		}
	}
}
