package clean_test

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

func init() {
	register.Function1x1(hitSummaryFn)
	register.Function2x1(hitStampFn)
	register.Function1x1(failureLineFn)
}

// hitSummaryFn shows what a pipeline test checks of a Hit: its line, status and path.
func hitSummaryFn(h clean.Hit) string {
	return h.Origin + ":" + itoa(h.Line) + " " + itoa(int64(h.Status)) + " " + h.Method + " " + h.Path
}

// hitStampFn pairs a hit's line with its element timestamp, to check it is the hit's time.
func hitStampFn(ts beam.EventTime, h clean.Hit) string {
	return itoa(h.Line) + "@" + ts.ToTime().UTC().Format(time.RFC3339)
}

func failureLineFn(f record.Failure) string { return itoa(f.Offset) + " " + f.Reason }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func zone(h int) *time.Location { return time.FixedZone("", h*3600) }

func TestLogFormatParse(t *testing.T) {
	oct10 := time.Date(2000, 10, 10, 13, 55, 36, 0, zone(-7))
	for _, c := range []struct {
		name, format, line string
		want               clean.Hit
	}{{
		name:   "combined, Apache's own example",
		format: "combined",
		line:   `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
		want: clean.Hit{Host: "127.0.0.1", User: "frank", Time: oct10, Request: "GET /apache_pb.gif HTTP/1.0",
			Method: "GET", Path: "/apache_pb.gif", Protocol: "HTTP/1.0", Status: 200, Bytes: 2326,
			Referer: "http://www.example.com/start.html", UserAgent: "Mozilla/4.08 [en] (Win98; I ;Nav)"},
	}, {
		name:   "common, host name, dash bytes",
		format: "common",
		line:   `proxy-435.dialup.xtra.co.nz - - [22/Apr/2009:18:52:51 +1200] "HEAD /a?b=1&c=2 HTTP/1.1" 304 -`,
		want: clean.Hit{Host: "proxy-435.dialup.xtra.co.nz", Time: time.Date(2009, 4, 22, 18, 52, 51, 0, zone(12)),
			Request: "HEAD /a?b=1&c=2 HTTP/1.1", Method: "HEAD", Path: "/a?b=1&c=2", Protocol: "HTTP/1.1", Status: 304},
	}, {
		name:   "IPv6 host, escaped quotes and backslashes in quoted fields",
		format: FormatCombinedRaw,
		line:   `2001:db8::1 - - [01/Jan/2024:00:00:00 +0000] "GET /q\"x HTTP/2.0" 200 5 "-" "a \"quoted\" ua \\"`,
		want: clean.Hit{Host: "2001:db8::1", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Request: `GET /q\"x HTTP/2.0`,
			Method: "GET", Path: `/q\"x`, Protocol: "HTTP/2.0", Status: 200, Bytes: 5, UserAgent: `a \"quoted\" ua \\`},
	}, {
		name:   "TLS handshake on the HTTP port: a hit, not HTTP",
		format: "combined",
		line:   `203.0.113.9 - - [01/Jan/2024:00:00:01 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-"`,
		want: clean.Hit{Host: "203.0.113.9", Time: time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC),
			Request: `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03`, Status: 400, Bytes: 226},
	}, {
		name:   "no request at all, and trailing fields the format does not name",
		format: "combined",
		line:   `203.0.113.9 - - [01/Jan/2024:00:00:02 +0000] "-" 408 0 "-" "-" "-" extra 42`,
		want:   clean.Hit{Host: "203.0.113.9", Time: time.Date(2024, 1, 1, 0, 0, 2, 0, time.UTC), Request: "-", Status: 408},
	}, {
		name:   "HTTP/0.9 request",
		format: "common",
		line:   `10.0.0.1 - - [01/Jan/2024:00:00:02 +0000] "GET /" 200 10`,
		want:   clean.Hit{Host: "10.0.0.1", Time: time.Date(2024, 1, 1, 0, 0, 2, 0, time.UTC), Request: "GET /", Method: "GET", Path: "/", Status: 200, Bytes: 10},
	}, {
		name:   "vhost_combined",
		format: "vhost_combined",
		line:   `www.example.org:443 192.0.2.7 - - [01/Feb/2024:10:00:00 +0100] "POST /api/v1/items HTTP/1.1" 201 512 "https://www.example.org/new" "curl/8.5.0"`,
		want: clean.Hit{VHost: "www.example.org", Port: 443, Host: "192.0.2.7", Time: time.Date(2024, 2, 1, 10, 0, 0, 0, zone(1)),
			Request: "POST /api/v1/items HTTP/1.1", Method: "POST", Path: "/api/v1/items", Protocol: "HTTP/1.1", Status: 201,
			Bytes: 512, BytesOut: 512, Referer: "https://www.example.org/new", UserAgent: "curl/8.5.0"},
	}, {
		name:   "nginx combined",
		format: "nginx",
		line:   `192.0.2.8 - alice [29/Feb/2024:23:59:59 -0500] "GET /items/books/42?ref=home HTTP/1.1" 200 1234 "-" "Mozilla/5.0"`,
		want: clean.Hit{Host: "192.0.2.8", User: "alice", Time: time.Date(2024, 2, 29, 23, 59, 59, 0, zone(-5)),
			Request: "GET /items/books/42?ref=home HTTP/1.1", Method: "GET", Path: "/items/books/42?ref=home", Protocol: "HTTP/1.1",
			Status: 200, Bytes: 1234, UserAgent: "Mozilla/5.0"},
	}, {
		name:   "every field directive, as httpd.conf writes it",
		format: `%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %D %v %T %I %O %a %A %p %m %U%q %H %{X-Forwarded-For}i %k`,
		line:   `192.0.2.9 - - [10/Oct/2000:13:55:36 -0700] "GET /p?x=1 HTTP/1.1" 200 100 "-" "ua" 1500 example.com 0 300 450 198.51.100.1 10.0.0.2 8080 GET /p?x=1 HTTP/1.1 203.0.113.1,10.1.1.1 3`,
		want: clean.Hit{Host: "192.0.2.9", Time: oct10, Request: "GET /p?x=1 HTTP/1.1", Method: "GET", Path: "/p?x=1", Protocol: "HTTP/1.1",
			Status: 200, Bytes: 100, UserAgent: "ua", Duration: 1500 * time.Microsecond, VHost: "example.com", BytesIn: 300, BytesOut: 450,
			RemoteIP: "198.51.100.1", LocalIP: "10.0.0.2", Port: 8080,
			Extra: []clean.Field{{Name: "%{X-Forwarded-For}i", Value: "203.0.113.1,10.1.1.1"}, {Name: "%k", Value: "3"}}},
	}, {
		name:   "%U%q without a query, %{ms}T, a strftime time",
		format: `%a [%{%Y-%m-%d %H:%M:%S %z}t] "%m %U%q %H" %s %{ms}T`,
		line:   `192.0.2.10 [2024-03-01 12:00:00 +0000] "DELETE /cart/7 HTTP/1.1" 204 12`,
		want: clean.Hit{RemoteIP: "192.0.2.10", Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), Method: "DELETE", Path: "/cart/7",
			Protocol: "HTTP/1.1", Status: 204, Duration: 12 * time.Millisecond},
	}, {
		name:   "nginx with timing and request_uri",
		format: `$remote_addr [$time_local] "$request_method $request_uri $server_protocol" $status $bytes_sent $request_time "$http_user_agent"`,
		line:   `192.0.2.11 [01/Mar/2024:12:00:00 +0000] "GET /s?q=go HTTP/2.0" 200 800 0.042 "Go-http-client/2.0"`,
		want: clean.Hit{Host: "192.0.2.11", Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), Method: "GET", Path: "/s?q=go",
			Protocol: "HTTP/2.0", Status: 200, Bytes: 800, BytesOut: 800, Duration: 42 * time.Millisecond, UserAgent: "Go-http-client/2.0"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			f, err := clean.CompileLogFormat(c.format)
			if err != nil {
				t.Fatal(err)
			}
			var got clean.Hit
			if err := f.Parse(c.line, &got); err != nil {
				t.Fatalf("Parse(%q) = %v, want nil", c.line, err)
			}
			if got.Extra == nil && c.want.Extra == nil {
				got.Extra = nil
			}
			if d := cmp.Diff(c.want, got, cmp.Comparer(sameTime)); d != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", c.line, d)
			}
		})
	}
}

// FormatCombinedRaw is combined spelled out, to check that a literal format and the name agree.
const FormatCombinedRaw = `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`

// sameTime compares instants and offsets: the offset the server logged is part of the value.
func sameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

func TestLogFormatErrors(t *testing.T) {
	const good = `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "ua"`
	for _, c := range []struct {
		name, line string
		reason     string // LogError.ReasonCode()
		column     int
		sentinel   error
	}{
		{"common line read as combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5`, "log_syntax:referer", 64, clean.ErrLogSyntax},
		{"user agent cut off", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "Mozil`, "log_syntax:user_agent", 70, clean.ErrLogSyntax},
		{"request quote never closed", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1\" 200`, "log_syntax:request", 43, clean.ErrLogSyntax},
		{"no time", `1.2.3.4 - - "GET / HTTP/1.1" 200 5 "-" "ua"`, "bad_time", 13, clean.ErrBadTime},
		{"31 February", `1.2.3.4 - - [31/Feb/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "ua"`, "bad_time", 13, clean.ErrBadTime},
		{"month in lower case", `1.2.3.4 - - [10/oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "ua"`, "bad_time", 13, clean.ErrBadTime},
		{"status dash", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" - 5 "-" "ua"`, "bad_status", 59, clean.ErrBadStatus},
		{"status 999", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 999 5 "-" "ua"`, "bad_status", 59, clean.ErrBadStatus},
		{"bytes not a number", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5k "-" "ua"`, "bad_number:bytes", 63, clean.ErrBadNumber},
		{"empty line", ``, "log_syntax:host", 1, clean.ErrLogSyntax},
		{"not a log line", `hello world`, "log_syntax:user", 12, clean.ErrLogSyntax},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h clean.Hit
			err := clean.MustCompileLogFormat("combined").Parse(c.line, &h)
			var le *clean.LogError
			if !errors.As(err, &le) {
				t.Fatalf("Parse(%q) = %v, want a *LogError", c.line, err)
			}
			if le.ReasonCode() != c.reason || le.Column != c.column || !errors.Is(err, c.sentinel) {
				t.Errorf("Parse(%q) = %v (reason %s, column %d), want reason %s, column %d, wrapping %v",
					c.line, err, le.ReasonCode(), le.Column, c.reason, c.column, c.sentinel)
			}
		})
	}
	var h clean.Hit
	if err := clean.MustCompileLogFormat("combined").Parse(good, &h); err != nil {
		t.Errorf("Parse(%q) = %v, want nil", good, err)
	}
}

func TestCompileLogFormatRejects(t *testing.T) {
	for _, f := range []string{"", "just text", "%h%u", "%{Referer", "%Z", `%{%Q}t`, `%{min}T`} {
		if _, err := clean.CompileLogFormat(f); err == nil {
			t.Errorf("CompileLogFormat(%q) = nil error, want one", f)
		}
	}
}

func TestSplitRequestLine(t *testing.T) {
	for _, c := range []struct{ in, method, target, proto string }{
		{"GET /a?b=1 HTTP/1.1", "GET", "/a?b=1", "HTTP/1.1"},
		{"OPTIONS * HTTP/1.1", "OPTIONS", "*", "HTTP/1.1"},
		{"CONNECT example.com:443 HTTP/1.1", "CONNECT", "example.com:443", "HTTP/1.1"},
		{"GET http://example.com/x HTTP/1.0", "GET", "http://example.com/x", "HTTP/1.0"},
		{"PROPFIND /dav/ HTTP/2", "PROPFIND", "/dav/", "HTTP/2"},
		{"GET  /two  HTTP/1.1", "GET", "/two", "HTTP/1.1"},
		{"GET /p q HTTP/1.1", "GET", "/p q", "HTTP/1.1"},
		{"GET /", "GET", "/", ""},
		{"POST /", "", "", ""},
		{"-", "", "", ""},
		{"", "", "", ""},
		{"HELP", "", "", ""},
		{"GET / FTP/1.0", "", "", ""},
		{`\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`, "", "", ""},
		{`\x03\x00\x00/*\xE0\x00\x00\x00\x00\x00Cookie: mstshash=Administr`, "", "", ""},
		{"GET  HTTP/1.1", "", "", ""},
	} {
		m, tg, p := clean.SplitRequestLine(c.in)
		if m != c.method || tg != c.target || p != c.proto {
			t.Errorf("SplitRequestLine(%q) = %q, %q, %q, want %q, %q, %q", c.in, m, tg, p, c.method, c.target, c.proto)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`plain`, `plain`},
		{`a \"b\" \\c`, `a "b" \c`},
		{`\x16\x03\x01`, "\x16\x03\x01"},
		{`tab\there`, "tab\there"},
		{`nginx \x22q\x22`, `nginx "q"`},
		{`bad \xZZ end\`, `bad \xZZ end\`},
	} {
		if got := clean.Unescape(c.in); got != c.want {
			t.Errorf("Unescape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestParseDoesNotAllocate pins the zero-allocation contract of LogFormat.Parse on a reused Hit.
func TestParseDoesNotAllocate(t *testing.T) {
	lines := realLines(t, "../../testdata/logs/logstalgia-example.log", 64)
	f := clean.MustCompileLogFormat("combined")
	var h clean.Hit
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if err := f.Parse(lines[i%len(lines)], &h); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times a line, want 0", allocs)
	}
}

func TestHitCoderRoundTrip(t *testing.T) {
	h := clean.Hit{Host: "::1", User: "u", Time: time.Date(2024, 2, 29, 23, 59, 59, 0, zone(-5)), Request: "GET /a HTTP/1.1",
		Method: "GET", Path: "/a", Protocol: "HTTP/1.1", Status: 200, Bytes: 1 << 40, UserAgent: "ua", Duration: time.Second,
		Port: 443, Extra: []clean.Field{{Name: "%k", Value: "2"}}, Source: "web", Origin: "access.log", Line: 7, RecordID: "id"}
	if d := cmp.Diff(h, h.Clone(), cmp.Comparer(sameTime)); d != "" {
		t.Errorf("h.Clone() mismatch (-want +got):\n%s", d)
	}
	for _, in := range []clean.Hit{h, {}} {
		b, err := clean.EncodeHit(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := clean.DecodeHit(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(in, out, cmp.Comparer(sameTime)); d != "" {
			t.Errorf("DecodeHit(EncodeHit(h)) mismatch (-want +got):\n%s", d)
		}
		if _, err := clean.DecodeHit(b[:len(b)/2]); err == nil && len(b) > 20 {
			t.Errorf("DecodeHit of a truncated encoding = nil error, want one")
		}
	}
}

func TestAccessLogParserRecord(t *testing.T) {
	p := clean.AccessLogParser{Format: clean.MustCompileLogFormat("combined")}
	for _, c := range []struct{ payload, reason string }{
		{"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\r", ""},
		{"# a comment", "log_comment"},
		{"   ", "empty_record"},
		{"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\x00 HTTP/1.1\" 200 5 \"-\" \"ua\"", "nul_byte"},
		{"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5", "log_syntax:referer"},
	} {
		r := record.Record{Source: "web", Origin: "a.log", Offset: 3, ID: "x", Payload: []byte(c.payload)}
		var h clean.Hit
		err := p.ParseRecord(&r, &h)
		got := ""
		if err != nil {
			got = err.Reason
		}
		if got != c.reason {
			t.Errorf("ParseRecord(%q) = %v, want reason %q", c.payload, err, c.reason)
		}
		if err == nil && (h.Source != "web" || h.Origin != "a.log" || h.Line != 3 || h.RecordID != "x" || h.UserAgent != "ua") {
			t.Errorf("ParseRecord(%q) = %+v, want the record's lineage and UserAgent ua", c.payload, h)
		}
	}
}

func TestParseAccessLog(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	lines := []string{
		`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a?x=1 HTTP/1.1" 200 5 "-" "ua"`,
		`1.2.3.4 - - [10/Oct/2000:13:55:37 -0700] "GET /b HTTP/1.1" 200 5`,
		`1.2.3.4 - - [10/Oct/2000:13:55:38 -0700] "\x16\x03\x01" 400 0 "-" "-"`,
		`1.2.3.4 - - [10/Oct/2000:13:55:39 -0700] "GET /c HTTP/1.1" 0 5 "-" "ua"`,
		`1.2.3.4 - - [99/Oct/2000:13:55:39 -0700] "GET /d HTTP/1.1" 200 5 "-" "ua"`,
	}
	recs := make([]record.Record, len(lines))
	for i, l := range lines {
		recs[i] = record.Record{ID: itoa(int64(i)), Source: "web", Origin: "access.log", Offset: int64(i + 1), Payload: []byte(l)}
	}
	ok, dead := clean.ParseAccessLog(s, "combined", beam.CreateList(s, recs))
	passert.Equals(s, beam.ParDo(s, hitSummaryFn, ok), "access.log:1 200 GET /a?x=1", "access.log:3 400  ")
	passert.Equals(s, beam.ParDo(s, hitStampFn, ok), "1@2000-10-10T20:55:36Z", "3@2000-10-10T20:55:38Z")
	passert.Equals(s, beam.ParDo(s, failureLineFn, dead), "2 log_syntax:referer", "4 bad_status", "5 bad_time")
	ptest.RunAndValidate(t, p)
}

// realLines reads up to n lines of a test log.
func realLines(tb testing.TB, path string, n int) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && (n <= 0 || len(out) < n) {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestRealLogsParse parses every line of the real logs in testdata/logs: none may fail.
func TestRealLogsParse(t *testing.T) {
	f := clean.MustCompileLogFormat("combined")
	for _, path := range []string{"../../testdata/logs/logstalgia-example.log", "../../testdata/logs/fail2ban-web.log"} {
		var h clean.Hit
		notHTTP := 0
		lines := realLines(t, path, 0)
		for i, l := range lines {
			if err := f.Parse(l, &h); err != nil {
				t.Errorf("%s:%d: Parse = %v", path, i+1, err)
			}
			if !h.IsHTTP() {
				notHTTP++
			}
		}
		t.Logf("%s: %d lines, %d not HTTP", path, len(lines), notHTTP)
	}
}
