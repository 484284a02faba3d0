package clean_test

import (
	"testing"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

// The access-log benchmarks parse the 3,260 real combined-format lines of
// testdata/logs/logstalgia-example.log in turn (host names, query strings, long browser user
// agents, a trailing field the format does not name), so branch prediction and caches see a
// real mix rather than one line. lines/s is per core: benchmarks run on one goroutine.

func benchLines(b *testing.B) []string {
	return realLines(b, "../../testdata/logs/logstalgia-example.log", 0)
}

func reportLines(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func avgLen(lines []string) int64 {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return int64(n / len(lines))
}

// BenchmarkAccessLogCombined is the pure parser: a line in, a Hit filled, no allocation.
func BenchmarkAccessLogCombined(b *testing.B) {
	lines := benchLines(b)
	f := clean.MustCompileLogFormat("combined")
	var h clean.Hit
	b.ReportAllocs()
	b.SetBytes(avgLen(lines))
	i := 0
	for b.Loop() {
		if err := f.Parse(lines[i%len(lines)], &h); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportLines(b)
}

// BenchmarkAccessLogCombinedBytes parses from a []byte, as a reader hands lines over: one
// copy of the line so that the Hit owns its strings.
func BenchmarkAccessLogCombinedBytes(b *testing.B) {
	lines := benchLines(b)
	raw := make([][]byte, len(lines))
	for i, l := range lines {
		raw[i] = []byte(l)
	}
	f := clean.MustCompileLogFormat("combined")
	var h clean.Hit
	b.ReportAllocs()
	b.SetBytes(avgLen(lines))
	i := 0
	for b.Loop() {
		if err := f.ParseBytes(raw[i%len(raw)], &h); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportLines(b)
}

// BenchmarkAccessLogRecord is what the Beam DoFn does per record: byte checks, then parse.
func BenchmarkAccessLogRecord(b *testing.B) {
	lines := benchLines(b)
	recs := make([]record.Record, len(lines))
	for i, l := range lines {
		recs[i] = record.Record{Source: "web", Origin: "access.log", Offset: int64(i + 1), Payload: []byte(l)}
	}
	p := clean.AccessLogParser{Format: clean.MustCompileLogFormat("combined")}
	var h clean.Hit
	b.ReportAllocs()
	b.SetBytes(avgLen(lines))
	i := 0
	for b.Loop() {
		if err := p.ParseRecord(&recs[i%len(recs)], &h); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportLines(b)
}

// BenchmarkAccessLogManyFields is a long custom LogFormat with timing, I/O, addresses and a
// header that goes to Extra.
func BenchmarkAccessLogManyFields(b *testing.B) {
	f := clean.MustCompileLogFormat(`%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %D %v %I %O %a %A %p "%{X-Forwarded-For}i"`)
	line := `192.0.2.9 - - [10/Oct/2000:13:55:36 -0700] "GET /items/books/978-0134190440?utm_source=newsletter HTTP/1.1" 200 18213 "https://www.example.com/search?q=go+programming" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36" 15230 www.example.com 512 18700 198.51.100.1 10.0.0.2 443 "203.0.113.1, 10.1.1.1"`
	var h clean.Hit
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if err := f.Parse(line, &h); err != nil {
			b.Fatal(err)
		}
	}
	reportLines(b)
}
