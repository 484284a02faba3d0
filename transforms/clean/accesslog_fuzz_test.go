package clean_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

// The access-log fuzz targets. Each input line must end in exactly one outcome, a Hit or a
// rejection with a stable reason code; a Hit must survive its Beam coder, and a line rebuilt
// from a Hit of a named format must parse back to the same Hit. tools/fuzz.sh runs them.

// fuzzLogFormats are the named formats FuzzAccessLog picks from, with how to write a Hit
// back as a line of that format.
var fuzzLogFormats = []struct {
	name   string
	render func(h *clean.Hit) string
}{
	{"common", func(h *clean.Hit) string {
		return h.Host + " " + orDash(h.Ident) + " " + orDash(h.User) + " [" + h.Time.Format(clfTime) + `] "` +
			h.Request + `" ` + strconv.Itoa(h.Status) + " " + strconv.FormatInt(h.Bytes, 10)
	}},
	{"combined", func(h *clean.Hit) string {
		return h.Host + " " + orDash(h.Ident) + " " + orDash(h.User) + " [" + h.Time.Format(clfTime) + `] "` +
			h.Request + `" ` + strconv.Itoa(h.Status) + " " + strconv.FormatInt(h.Bytes, 10) +
			` "` + orDash(h.Referer) + `" "` + orDash(h.UserAgent) + `"`
	}},
	{"vhost_combined", func(h *clean.Hit) string {
		return orDash(h.VHost) + ":" + strconv.Itoa(h.Port) + " " + h.Host + " " + orDash(h.Ident) + " " +
			orDash(h.User) + " [" + h.Time.Format(clfTime) + `] "` + h.Request + `" ` + strconv.Itoa(h.Status) +
			" " + strconv.FormatInt(h.BytesOut, 10) + ` "` + orDash(h.Referer) + `" "` + orDash(h.UserAgent) + `"`
	}},
}

const clfTime = "02/Jan/2006:15:04:05 -0700"

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// accessLogReasons are the base reason codes ParseRecord may give.
var accessLogReasons = map[string]bool{
	clean.ReasonEmpty: true, clean.ReasonTooLarge: true, clean.ReasonNUL: true, clean.ReasonControlChar: true,
	clean.ReasonBOM: true, clean.ReasonInvalidUTF8: true, clean.ReasonLogComment: true, clean.ReasonLogSyntax: true,
	clean.ReasonBadTime: true, clean.ReasonBadStatus: true, clean.ReasonBadNumber: true,
}

// hitStrings are the parts of a Hit that Parse cuts out of the line.
func hitStrings(h *clean.Hit) []string {
	s := []string{h.Host, h.Ident, h.User, h.Request, h.Method, h.Protocol, h.Referer, h.UserAgent, h.VHost,
		h.RemoteIP, h.LocalIP}
	for _, f := range h.Extra {
		s = append(s, f.Value)
	}
	return s
}

func FuzzAccessLog(f *testing.F) {
	for _, l := range accessLogSeeds {
		for i := range fuzzLogFormats {
			f.Add(uint8(i), []byte(l))
		}
	}
	parsers := make([]clean.AccessLogParser, len(fuzzLogFormats))
	for i, lf := range fuzzLogFormats {
		parsers[i] = clean.AccessLogParser{Format: clean.MustCompileLogFormat(lf.name)}
	}
	f.Fuzz(func(t *testing.T, which uint8, line []byte) {
		i := int(which) % len(fuzzLogFormats)
		p, lf := &parsers[i], fuzzLogFormats[i]
		r := record.Record{ID: "id", Source: "s", Origin: "o", Offset: 7, Payload: line}
		var h clean.Hit
		if err := p.ParseRecord(&r, &h); err != nil {
			checkRejection(t, err, accessLogReasons)
			return
		}
		if h.Host == "" || h.Status < 100 || h.Status > 599 || h.Time.IsZero() {
			t.Fatalf("%s: ParseRecord(%q) accepted a Hit without host, status or time: %+v", lf.name, line, h)
		}
		if h.Source != "s" || h.Origin != "o" || h.Line != 7 || h.RecordID != "id" {
			t.Fatalf("%s: ParseRecord(%q) did not stamp the record's source, origin, line and id: %+v", lf.name, line, h)
		}
		for _, s := range hitStrings(&h) {
			if !strings.Contains(string(line), s) {
				t.Fatalf("%s: ParseRecord(%q) made up %q, which is not in the line", lf.name, line, s)
			}
		}
		if m, tgt, proto := clean.SplitRequestLine(h.Request); m != h.Method || tgt != h.Path || proto != h.Protocol {
			t.Fatalf("%s: Hit of %q has method/path/protocol %q %q %q, SplitRequestLine(Request) says %q %q %q",
				lf.name, line, h.Method, h.Path, h.Protocol, m, tgt, proto)
		}
		checkHitCoder(t, &h)

		// Written back in the same format, the Hit parses to itself. A leap second (:60,
		// which parses as the next minute) in 9999-12-31T23:59 has no four-digit year to go back to.
		if h.Time.Year() > 9999 {
			return
		}
		again := lf.render(&h)
		r2 := record.Record{ID: "id", Source: "s", Origin: "o", Offset: 7, Payload: []byte(again)}
		var h2 clean.Hit
		if err := p.ParseRecord(&r2, &h2); err != nil {
			t.Fatalf("%s: %q parsed, but written back as %q it does not: %v", lf.name, line, again, err)
		}
		if diff := cmp.Diff(h, h2); diff != "" {
			t.Fatalf("%s: %q written back as %q parses differently (-first +second):\n%s", lf.name, line, again, diff)
		}
		_, o1 := h.Time.Zone()
		if _, o2 := h2.Time.Zone(); o1 != o2 {
			t.Fatalf("%s: %q written back as %q changes the time's offset from %d to %d", lf.name, line, again, o1, o2)
		}
	})
}

// FuzzLogFormat fuzzes the format string as well as the line: any format either compiles or
// is refused with an error, and a compiled one parses any line or says where it does not.
func FuzzLogFormat(f *testing.F) {
	for _, fm := range logFormatSeeds {
		for _, l := range accessLogSeeds[:4] {
			f.Add(fm, l)
		}
	}
	f.Fuzz(func(t *testing.T, format, line string) {
		lf, err := clean.CompileLogFormat(format)
		if err != nil {
			if lf != nil || err.Error() == "" {
				t.Fatalf("CompileLogFormat(%q) = %v, %q: want nil and a message", format, lf, err)
			}
			return
		}
		if lf.String() != format {
			t.Fatalf("CompileLogFormat(%q).String() = %q", format, lf.String())
		}
		var h, hb clean.Hit
		err = lf.Parse(line, &h)
		errb := lf.ParseBytes([]byte(line), &hb)
		if (err == nil) != (errb == nil) || (err != nil && err.Error() != errb.Error()) {
			t.Fatalf("format %q, line %q: Parse says %v, ParseBytes says %v", format, line, err, errb)
		}
		if err != nil {
			var le *clean.LogError
			if !errors.As(err, &le) {
				t.Fatalf("format %q, line %q: error %v (%T) is not a *LogError", format, line, err, err)
			}
			if le.Column < 1 || le.Column > len(line)+1 || le.ReasonCode() == "" || le.Field == "" {
				t.Fatalf("format %q, line %q: LogError %+v has no column in the line, reason or field", format, line, le)
			}
			if !utf8.ValidString(le.Msg) {
				t.Fatalf("format %q, line %q: LogError message %q is not UTF-8", format, line, le.Msg)
			}
			return
		}
		if diff := cmp.Diff(h, hb); diff != "" {
			t.Fatalf("format %q, line %q: Parse and ParseBytes differ (-Parse +ParseBytes):\n%s", format, line, diff)
		}
		for _, s := range hitStrings(&h) {
			if !strings.Contains(line, s) {
				t.Fatalf("format %q: Parse(%q) made up %q, which is not in the line", format, line, s)
			}
		}
		checkHitCoder(t, &h)
	})
}

// FuzzHitCoder feeds DecodeHit arbitrary bytes: it returns a Hit or an error, never panics,
// and what it returns encodes back to a Hit equal to it.
func FuzzHitCoder(f *testing.F) {
	lf := clean.MustCompileLogFormat("combined")
	for _, l := range accessLogSeeds {
		var h clean.Hit
		if lf.Parse(l, &h) == nil {
			b, err := clean.EncodeHit(h)
			if err != nil {
				f.Fatalf("EncodeHit(%q): %v", l, err)
			}
			f.Add(b)
			f.Add(b[:len(b)/2])
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := clean.DecodeHit(b)
		if err != nil {
			return
		}
		checkHitCoder(t, &h)
	})
}

// checkHitCoder checks that h survives EncodeHit and DecodeHit, its time's offset included.
func checkHitCoder(t *testing.T, h *clean.Hit) {
	t.Helper()
	b, err := clean.EncodeHit(*h)
	if err != nil {
		t.Fatalf("EncodeHit(%+v): %v", h, err)
	}
	back, err := clean.DecodeHit(b)
	if err != nil {
		t.Fatalf("DecodeHit(EncodeHit(%+v)): %v", h, err)
	}
	if diff := cmp.Diff(*h, back); diff != "" {
		t.Fatalf("Hit coder round trip (-in +out):\n%s", diff)
	}
	_, o1 := h.Time.Zone()
	if _, o2 := back.Time.Zone(); o1 != o2 {
		t.Fatalf("Hit coder round trip moves %v from offset %d to %d", h.Time, o1, o2)
	}
}

// checkRejection checks that a rejection has a known base reason and UTF-8 text, which
// crosses the runner in a record.Failure.
func checkRejection(t *testing.T, err *clean.Error, known map[string]bool) {
	t.Helper()
	if err.Reason == "" || !known[record.BaseReason(err.Reason)] {
		t.Fatalf("rejection %q (%v) has no known reason code", err.Reason, err)
	}
	if !utf8.ValidString(err.Reason) || !utf8.ValidString(err.Msg) {
		t.Fatalf("rejection %q: %q is not UTF-8", err.Reason, err.Msg)
	}
}

// FuzzUnescape checks Unescape against what it promises: s itself without a backslash, and
// never longer than s.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`a\"b`, `\\`, `\x41\x4`, `\xzz`, `\`, `plain`, `\n\r\t\v\b`, `\x0`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u := clean.Unescape(s)
		if !strings.Contains(s, `\`) && u != s {
			t.Fatalf("Unescape(%q) = %q, want it unchanged", s, u)
		}
		if len(u) > len(s) {
			t.Fatalf("Unescape(%q) = %q, longer than its input", s, u)
		}
	})
}

// FuzzSplitRequestLine: the parts of an HTTP request line come from it, or all three are empty.
func FuzzSplitRequestLine(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1", "GET /x", "POST /a b HTTP/1.0", "-", "\x16\x03\x01", "GET  HTTP/1.1", "G\x00T / HTTP/1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, r string) {
		m, tgt, p := clean.SplitRequestLine(r)
		if m == "" {
			if tgt != "" || p != "" {
				t.Fatalf("SplitRequestLine(%q) = %q %q %q: a target or protocol without a method", r, m, tgt, p)
			}
			return
		}
		if tgt == "" || !strings.HasPrefix(r, m+" ") || !strings.Contains(r, tgt) || !strings.HasSuffix(r, p) {
			t.Fatalf("SplitRequestLine(%q) = %q %q %q: parts that are not the line's", r, m, tgt, p)
		}
		if p != "" && !strings.HasPrefix(p, "HTTP/") {
			t.Fatalf("SplitRequestLine(%q): protocol %q", r, p)
		}
	})
}

// accessLogSeeds are real lines (testdata/logs) and the bad ones access logs hold.
var accessLogSeeds = []string{
	`1.2.3.4 - - [05/Mar/2007:14:39:21 +0100] "POST /123.html/trackback/ HTTP/1.0" 301 459 "http://www.mydomain.tld/123.html/trackback" "TrackBack/1.02"`,
	`12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "GET //phpMyAdmin-2.8.2.3/scripts/setup.php HTTP/1.1" 404 47 "-" "-" "-"`,
	`www.example.com:443 10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 "-" "curl/8.0"`,
	`::1 - - [29/Feb/2024:00:00:60 +0545] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 0 "-" "-"`,
	`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.1" 200 - "-" "Mozilla/5.0 (X11; \"quoted\")"`,
	`10.0.0.1 - - [31/Dec/9999:23:59:59 +2359] "GET / HTTP/1.1" 599 999999999999999999 "-" "-"`,
	`10.0.0.1 - - [01/Jan/0000:00:00:00 -2359] "-" 100 0`,
	`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326`,
	`# comment`,
	``,
	`10.0.0.1 - - [30/Feb/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1`,
	`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 999 1`,
	`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 x "-" "-"`,
	`10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1`,
	"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\xff HTTP/1.1\" 200 1\r",
}

// logFormatSeeds are the named formats, Apache and nginx strings with every kind of
// directive, and broken ones.
var logFormatSeeds = []string{
	"common", "combined", "vhost_combined", "combinedio", "nginx",
	clean.FormatCombined, clean.FormatNginxCombined,
	`%h %l %u %{%d/%b/%Y:%H:%M:%S %z}t \"%r\" %>s %B %D %{ms}T %{X-Forwarded-For}i %k %^ti`,
	`%a %A %p %{remote}p %m %U%q %H %s %I %O %v %{c}a %{sec}t %{msec_frac}t`,
	`%{begin:%Y-%m-%dT%H:%M:%S}t %{usec}t %T %{us}T %400,501{User-agent}i %!200e %%`,
	`$remote_addr [$time_iso8601] $msec "$request_method $request_uri $server_protocol" $status $request_time ${upstream_response_time} $args`,
	`%h%l`, `%{x`, `%`, `%{X}T`, `%Q`, `%{%Q}t`, `$`, `${`, `literal only`, ` `,
}
