package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

func ptrTo[T any](v T) *T { return &v }

func TestNewHitRow(t *testing.T) {
	for _, tc := range []struct {
		format, line string
		want         HitRow
	}{
		{
			format: "combined",
			line:   `proxy-435.dialup.xtra.co.nz - - [22/Apr/2009:18:52:51 +1200] "GET /images/photos/455.jpg HTTP/1.1" 200 986 "-" "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_4_11; en) AppleWebKit/525.13 (KHTML, like Gecko) Version/3.1 Safari/525.13"`,
			want: HitRow{Time: time.Date(2009, 4, 22, 6, 52, 51, 0, time.UTC), Host: "proxy-435.dialup.xtra.co.nz",
				Method: "GET", Path: "/images/photos/455.jpg", Protocol: "HTTP/1.1", Request: "GET /images/photos/455.jpg HTTP/1.1",
				Status: 200, Bytes: 986,
				UserAgent: "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_4_11; en) AppleWebKit/525.13 (KHTML, like Gecko) Version/3.1 Safari/525.13",
				Browser:   "Safari", OS: "macOS", Static: true},
		},
		{
			// A 404 of a static file is not static for GoAccess (it is in the 404 panel);
			// a crawler is a bot; the referrer's host is kept.
			format: "combined",
			line:   `66.249.66.1 - bob [01/Mar/2024:12:00:00 +0000] "GET /x.png?v=1 HTTP/1.1" 404 0 "https://www.example.com/a?b" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"`,
			want: HitRow{Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), Host: "66.249.66.1", User: "bob",
				Method: "GET", Path: "/x.png?v=1", Protocol: "HTTP/1.1", Request: "GET /x.png?v=1 HTTP/1.1",
				Status: 404, Referer: "https://www.example.com/a?b",
				UserAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
				Browser:   "Googlebot", Bot: true, ReferrerHost: "www.example.com"},
		},
		{
			// %D (microseconds) becomes duration_s; a non-HTTP request has no method.
			format: `%h %l %u %t "%r" %>s %b %D`,
			line:   `10.0.0.1 - - [01/Mar/2024:12:00:00 +0100] "\x16\x03\x01" 400 226 1500`,
			want: HitRow{Time: time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC), Host: "10.0.0.1", Request: `\x16\x03\x01`,
				Status: 400, Bytes: 226, DurationS: ptrTo(0.0015)},
		},
	} {
		var h clean.Hit
		if err := clean.MustCompileLogFormat(tc.format).Parse(tc.line, &h); err != nil {
			t.Fatalf("Parse(%q): %v", tc.line, err)
		}
		got := NewHitRow(&h, nil)
		if d := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
			t.Errorf("NewHitRow(%q) (-want +got):\n%s", tc.line, d)
		}
	}
}

// TestHitRowSchema pins the column types the table is created with: the partitioning needs
// time to be a TIMESTAMP, the clustering needs status and host.
func TestHitRowSchema(t *testing.T) {
	schema, err := bigquery.InferSchema[HitRow]()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range schema {
		got[f.Name] = string(f.Type)
	}
	want := map[string]string{"time": "TIMESTAMP", "host": "STRING", "user": "STRING", "method": "STRING",
		"path": "STRING", "protocol": "STRING", "request": "STRING", "status": "INTEGER", "bytes": "INTEGER",
		"referer": "STRING", "user_agent": "STRING", "vhost": "STRING", "duration_s": "FLOAT",
		"browser": "STRING", "os": "STRING", "bot": "BOOLEAN", "referrer_host": "STRING", "static": "BOOLEAN",
		"origin": "STRING", "line": "INTEGER"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("InferSchema[HitRow]() (-want +got):\n%s", d)
	}
}

func TestRowOrigin(t *testing.T) {
	for _, tc := range []struct {
		payload string
		origin  string
		line    int64
	}{
		{`{"origin":"a.log","line":42,"status":200}`, "a.log", 42}, // Load's JSON
		{`{"origin":"a.log","line":"42"}`, "a.log", 42},            // protojson of a refused Write row
		{`not json`, "", 0},
	} {
		if o, l := rowOrigin([]byte(tc.payload)); o != tc.origin || l != tc.line {
			t.Errorf("rowOrigin(%q) = %q, %d, want %q, %d", tc.payload, o, l, tc.origin, tc.line)
		}
	}
}

func TestOptionsCheckBigQuery(t *testing.T) {
	base := Options{Input: "x.log", Output: "bq://my-project.web.hits", ReportDir: "out", Format: "combined",
		Top: 10, ErrorRate: 0.05, MinRequests: 20, WriteHits: true}
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		flag string // "" when the options are valid
	}{
		{"table output", func(o *Options) {}, ""},
		{"table dead letter", func(o *Options) { o.DeadLetter = "bq://my-project.web.errors" }, ""},
		{"gs report dir", func(o *Options) { o.ReportDir, o.Staging = "gs://b/r", "gs://b/tmp" }, ""},
		{"dir output, table dead letter", func(o *Options) { o.Output, o.ReportDir, o.DeadLetter = "out", "", "bq://my-project.web.errors" }, ""},
		{"no report dir", func(o *Options) { o.ReportDir = "" }, "--report_dir is required with --output=bq://"},
		{"bad table", func(o *Options) { o.Output = "bq://my-project:web.hits" }, "--output"},
		{"hits off", func(o *Options) { o.WriteHits = false }, "--hits=false"},
		{"report dir a table", func(o *Options) { o.ReportDir = "bq://my-project.web.r" }, "--report_dir"},
		{"dead letter a topic", func(o *Options) { o.DeadLetter = "pubsub://projects/p/topics/t" }, "--dead_letter"},
		{"bad dead letter table", func(o *Options) { o.DeadLetter = "bq://web.errors" }, "--dead_letter"},
		{"staging a table", func(o *Options) { o.Staging = "bq://my-project.web.s" }, "--staging"},
		{"streaming to a table", func(o *Options) { o.Input = "pubsub://projects/my-project/subscriptions/web-logs" }, ""},
		{"streaming, no report dir", func(o *Options) { o.Input, o.ReportDir = "pubsub://projects/my-project/subscriptions/web-logs", "" }, "--report_dir"},
	} {
		o := base
		tc.mod(&o)
		err := o.check()
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%s: check(%+v) = %v, want nil", tc.name, o, err)
		case tc.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.flag)):
			t.Errorf("%s: check(%+v) = %v, want an error starting %q", tc.name, o, err, tc.flag)
		}
	}
}

func TestOutputDefaults(t *testing.T) {
	for _, tc := range []struct {
		o                     Options
		report, dead, staging string
	}{
		{Options{Output: "out"}, "out", "out/dead", "out/staging"},
		{Options{Output: "bq://my-project.web.hits", ReportDir: "gs://b/r"}, "gs://b/r", "gs://b/r/dead", "gs://b/r/staging"},
		{Options{Output: "bq://my-project.web.hits", ReportDir: "r", DeadLetter: "bq://my-project.web.e", Staging: "s"}, "r", "bq://my-project.web.e", "s"},
	} {
		if r, d, s := tc.o.reportDir(), tc.o.deadLetter(), tc.o.staging(); r != tc.report || d != tc.dead || s != tc.staging {
			t.Errorf("%+v: report dir, dead letter, staging = %q, %q, %q, want %q, %q, %q", tc.o, r, d, s, tc.report, tc.dead, tc.staging)
		}
	}
}

// bqLog is the first n lines of the logstalgia sample, then a line that is no log line, a
// comment, and a hit (status 418, 0 bytes) whose path is not UTF-8: the parser refuses it
// (invalid_utf8), as BigQuery would, so it never reaches the table.
func bqLog(t *testing.T, n int) (path string, lines int) {
	t.Helper()
	b, err := os.ReadFile(logstalgia)
	if err != nil {
		t.Fatal(err)
	}
	head := strings.SplitAfter(string(b), "\n")[:n]
	text := strings.Join(head, "") +
		"this is not an access log line\n" +
		"# a comment\n" +
		"10.0.0.9 - - [22/Apr/2009:19:00:00 +1200] \"GET /caf\xe9 HTTP/1.1\" 418 - \"-\" \"curl/8.0\"\n"
	path = filepath.Join(t.TempDir(), "bq.log")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, n + 3
}

// TestBatchToBigQuery runs the batch job with --output=bq:// against the BigQuery emulator,
// dead letters once to a table and once to the default directory, and requires the table to
// hold every parsed hit but the refused one, with summary.json's status counts and bytes, the
// values of a known line, and the dead letters to hold the two bad lines and the refused hit.
func TestBatchToBigQuery(t *testing.T) {
	b := testenv.BigQuery(t)
	b.Env(t)
	const head = 300
	log, lines := bqLog(t, head)

	for _, deadToTable := range []bool{true, false} {
		name := "dead_letter=dir"
		if deadToTable {
			name = "dead_letter=table"
		}
		t.Run(name, func(t *testing.T) {
			suffix := strconv.FormatBool(deadToTable)
			hitsTable := bigquery.Table{Project: b.Project, Dataset: b.Dataset, Table: "hits_" + suffix}
			deadTable := bigquery.Table{Project: b.Project, Dataset: b.Dataset, Table: "dead_" + suffix}
			reports := t.TempDir()
			o := Options{Input: log, Output: hitsTable.String(), ReportDir: reports, Format: "combined",
				Top: 50, ErrorRate: 0.05, MinRequests: 20, WriteHits: true}
			if deadToTable {
				o.DeadLetter = deadTable.String()
			}
			if err := o.check(); err != nil {
				t.Fatal(err)
			}
			p, s := beam.NewPipelineWithRoot()
			Build(s, o)
			if err := ptest.Run(p); err != nil {
				t.Fatalf("running the job into %s: %v", hitsTable, err)
			}
			sum := readSummary(t, filepath.Join(reports, "summary.json"))
			if _, err := os.Stat(filepath.Join(reports, "report.html")); err != nil {
				t.Error(err)
			}
			if sum.LinesRead != int64(lines) || sum.Parsed != head || sum.SinkRefused != 0 || sum.Dead != 3 || !sum.Balanced {
				t.Errorf("summary: read %d, parsed %d, refused by the table %d, dead %d, balanced %v; want %d, %d, 0, 3, true",
					sum.LinesRead, sum.Parsed, sum.SinkRefused, sum.Dead, sum.Balanced, lines, head)
			}

			if n := b.Query(t, "SELECT COUNT(*) FROM "+hitsTable.SQL())[0][0].(int64); n != sum.Parsed-sum.SinkRefused {
				t.Errorf("%s has %d rows, want parsed %d - refused %d", hitsTable, n, sum.Parsed, sum.SinkRefused)
			}
			gotStatus := map[string]int64{}
			for _, r := range b.Query(t, "SELECT status, COUNT(*) FROM "+hitsTable.SQL()+" GROUP BY status") {
				gotStatus[strconv.FormatInt(r[0].(int64), 10)] = r[1].(int64)
			}
			if d := cmp.Diff(sum.Status, gotStatus); d != "" || len(gotStatus) < 2 {
				t.Errorf("status counts of %s (-summary.json +table):\n%s", hitsTable, d)
			}
			if n := b.Query(t, "SELECT SUM(bytes) FROM "+hitsTable.SQL())[0][0].(int64); n != sum.Bytes {
				t.Errorf("SUM(bytes) of %s = %d, want summary.json's %d", hitsTable, n, sum.Bytes)
			}
			row := b.Query(t, "SELECT host, path, status, bytes, time, browser, os, static, origin FROM "+hitsTable.SQL()+" WHERE line = 1")
			if len(row) != 1 {
				t.Fatalf("%s has %d rows of line 1, want 1", hitsTable, len(row))
			}
			r := row[0]
			if r[0] != "proxy-435.dialup.xtra.co.nz" || r[1] != "/images/photos/455.jpg" || r[2] != int64(200) || r[3] != int64(986) ||
				!r[4].(time.Time).Equal(time.Date(2009, 4, 22, 6, 52, 51, 0, time.UTC)) || r[5] != "Safari" || r[6] != "macOS" ||
				r[7] != true || !strings.HasSuffix(r[8].(string), "bq.log") {
				t.Errorf("line 1 in %s = %v, want proxy-435.dialup.xtra.co.nz /images/photos/455.jpg 200 986 2009-04-22 06:52:51 UTC Safari macOS true …/bq.log", hitsTable, r)
			}

			var dead []deadLetter
			if deadToTable {
				for _, r := range b.Query(t, "SELECT stage, reason, `offset`, payload_string FROM "+deadTable.SQL()) {
					payload, _ := r[3].(string)
					dead = append(dead, deadLetter{Stage: r[0].(string), Reason: r[1].(string), Line: r[2].(int64), Payload: payload})
				}
			} else {
				for _, f := range readFailures(t, filepath.Join(reports, "dead", "part-*.jsonl")) {
					dead = append(dead, deadLetter{Stage: f.Stage, Reason: f.Reason, Line: f.Offset, Payload: f.PayloadString})
				}
			}
			checkDead(t, dead, head)

			if left, _ := filepath.Glob(filepath.Join(reports, "staging", "beamline-load-*")); len(left) != 0 {
				t.Errorf("staged files left after the load: %v", left)
			}
		})
	}
}

type deadLetter struct {
	Stage, Reason string
	Line          int64
	Payload       string
}

// checkDead requires the dead letters of the three bad lines, in order.
func checkDead(t *testing.T, dead []deadLetter, head int) {
	t.Helper()
	sort.Slice(dead, func(i, j int) bool { return dead[i].Line < dead[j].Line })
	if len(dead) != 3 {
		t.Fatalf("dead letters = %+v, want 3", dead)
	}
	if d := dead[0]; d.Line != int64(head+1) || d.Reason == "" || d.Payload != "this is not an access log line" {
		t.Errorf("dead letter of the bad line = %+v", d)
	}
	if d := dead[1]; d.Line != int64(head+2) || d.Reason != "log_comment" || d.Payload != "# a comment" {
		t.Errorf("dead letter of the comment = %+v", d)
	}
	if d := dead[2]; d.Line != int64(head+3) || d.Reason != "invalid_utf8" {
		t.Errorf("dead letter of the hit that is not UTF-8 = %+v, want line %d, invalid_utf8", d, head+3)
	}
}

func readSummary(t *testing.T, path string) Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sum
}

func readFailures(t *testing.T, glob string) []record.Failure {
	t.Helper()
	names, _ := filepath.Glob(glob)
	if len(names) == 0 {
		t.Fatalf("no %s", glob)
	}
	var out []record.Failure
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var fl record.Failure
			if err := json.Unmarshal(sc.Bytes(), &fl); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			out = append(out, fl)
		}
		f.Close()
	}
	return out
}

func init() {
	register.Function1x1(failureDigest)
}

// failureDigest is what TestHitsTableRefusal compares of a refused hit.
func failureDigest(f record.Failure) string {
	return fmt.Sprintf("%s %s %s %s:%d row=%v", f.Stage, f.Reason, f.Source, f.Origin, f.Offset, strings.Contains(f.PayloadString, `"status":418`))
}

// TestHitsTableRefusal loads two hits, one with a path that is not UTF-8 (the parser never
// lets one through, so it is built here), into the emulator: the good one lands, the other
// comes back from the sink as a dead letter with the job's source, its file and line read
// from the row, and the row as JSON; the summary then moves it from written to dead.
func TestHitsTableRefusal(t *testing.T) {
	b := testenv.BigQuery(t)
	b.Env(t)
	table := bigquery.Table{Project: b.Project, Dataset: b.Dataset, Table: "hits"}
	o := Options{Input: "x.log", Output: table.String(), ReportDir: t.TempDir(), Format: "combined", WriteHits: true}
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	good := clean.Hit{Host: "10.0.0.1", Time: at, Request: "GET / HTTP/1.1", Method: "GET", Path: "/", Protocol: "HTTP/1.1", Status: 200, Origin: "a.log", Line: 1}
	bad := clean.Hit{Host: "10.0.0.2", Time: at, Request: "GET /caf\xe9 HTTP/1.1", Method: "GET", Path: "/caf\xe9", Protocol: "HTTP/1.1", Status: 418, Origin: "a.log", Line: 2}

	p, s := beam.NewPipelineWithRoot()
	refused := writeHitsTable(s, o, beam.Create(s, good, bad), false)
	passert.Equals(s, beam.ParDo(s, failureDigest, refused),
		fmt.Sprintf("%s %s %s a.log:2 row=true", bigquery.StageLoad, bigquery.ReasonInvalidRow, SourceName))
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	if n := b.Query(t, "SELECT COUNT(*) FROM "+table.SQL()+" WHERE line = 1 AND status = 200")[0][0].(int64); n != 1 {
		t.Errorf("%s has %d rows of the good hit, want 1", table, n)
	}
	if n := b.Query(t, "SELECT COUNT(*) FROM "+table.SQL())[0][0].(int64); n != 1 {
		t.Errorf("%s has %d rows, want 1", table, n)
	}
	c, err := bq.NewClient(context.Background(), b.Project, b.RESTOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	md, err := c.Dataset(b.Dataset).Table(table.Table).Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if md.TimePartitioning == nil || md.TimePartitioning.Field != "time" || md.Clustering == nil || !cmp.Equal(md.Clustering.Fields, []string{"status", "host"}) {
		t.Errorf("%s: partitioning %+v, clustering %+v; want by day on time, clustered by status, host", table, md.TimePartitioning, md.Clustering)
	}
}

// TestSinkRefusedBalances: a hit the table refuses is parsed and dead at once, and the
// summary balances lines read = parsed - refused + dead; an unbalanced one names the refused.
func TestSinkRefusedBalances(t *testing.T) {
	a := newAccumulator()
	keys := map[string]int64{kindRead: 4, kindStatus + sep + "200": 3, kindDead + sep + "log_comment": 1,
		kindDead + sep + bigquery.ReasonInvalidRow: 1}
	var refused []string
	(refusedStatsFn{}).ProcessElement(record.Failure{}, func(k string, tl Tally) { refused = append(refused, k); keys[k] += tl.Hits })
	for k, n := range keys {
		a.add(Metric{Key: k, Tally: Tally{Hits: n}}, 10)
	}
	s := summarize(a, 0.05, 20)
	if len(refused) != 1 || s.SinkRefused != 1 || s.Parsed != 3 || s.Dead != 2 || !s.Balanced {
		t.Errorf("summary: refused keys %q, sink_refused %d, parsed %d, dead %d, balanced %v; want one, 1, 3, 2, true",
			refused, s.SinkRefused, s.Parsed, s.Dead, s.Balanced)
	}
	s.LinesRead = 5
	s.Balanced = false
	err := (&writeOutputsFn{Output: t.TempDir()}).ProcessElement(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "lines read 5 != parsed 3 + dead 2 - refused by the table 1") {
		t.Errorf("writing an unbalanced summary: err = %v, want lines read 5 != parsed 3 + dead 2 - refused by the table 1", err)
	}
}

// BenchmarkNewHitRow is the per-hit work of the table output before encoding: a real hit's
// user agent, referrer and static classification.
func BenchmarkNewHitRow(b *testing.B) {
	var h clean.Hit
	line := `dyn-530.optus.com.au - - [22/Apr/2009:18:52:51 +1200] "GET /latest.php?category=national HTTP/1.1" 200 244 "http://www.example.com/news.html" "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; .NET CLR 1.1.4322)" "-"`
	if err := clean.MustCompileLogFormat("combined").Parse(line, &h); err != nil {
		b.Fatal(err)
	}
	var r HitRow
	b.ReportAllocs()
	for b.Loop() {
		r = NewHitRow(&h, nil)
	}
	if r.Browser == "" {
		b.Fatalf("NewHitRow(%q).Browser is empty", line)
	}
}
