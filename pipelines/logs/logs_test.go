package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	testenv.StopShared() // the Pub/Sub emulator, if TestStreaming started it
	os.Exit(code)
}

const logstalgia = "../../testdata/logs/logstalgia-example.log"

// runJob runs the batch job on prism over input into a new directory and returns the
// directory and its summary.json.
func runJob(t *testing.T, input string, mod func(*Options)) (string, Summary) {
	t.Helper()
	out := t.TempDir()
	o := Options{Input: input, Output: out, Format: "combined", Top: 50, ErrorRate: 0.05, MinRequests: 20, WriteHits: true}
	if mod != nil {
		mod(&o)
	}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, o)
	if err := ptest.Run(p); err != nil {
		t.Fatalf("running the job over %s: %v", input, err)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return out, sum
}

// The part of GoAccess 1.7's JSON report the test compares.
type gaItem struct {
	Hits     struct{ Count int64 } `json:"hits"`
	Visitors struct{ Count int64 } `json:"visitors"`
	Bytes    struct{ Count int64 } `json:"bytes"`
	Data     string                `json:"data"`
	Method   string                `json:"method"`
	Protocol string                `json:"protocol"`
	Items    []gaItem              `json:"items"`
}

type gaReport struct {
	General struct {
		Total     int64 `json:"total_requests"`
		Valid     int64 `json:"valid_requests"`
		Failed    int64 `json:"failed_requests"`
		Visitors  int64 `json:"unique_visitors"`
		Bandwidth int64 `json:"bandwidth"`
	} `json:"general"`
	Visitors struct{ Data []gaItem } `json:"visitors"`
	Requests struct{ Data []gaItem } `json:"requests"`
	NotFound struct{ Data []gaItem } `json:"not_found"`
	Status   struct{ Data []gaItem } `json:"status_codes"`
}

// compared is what must be equal between summary.json and GoAccess's report.
type compared struct {
	LinesRead, Requests, Dead, Bytes, Visitors int64
	Status                                     map[string]int64
	VisitorsByDay                              map[string]int64
	TopPaths, Top404                           []PathHits
}

// goAccess runs GoAccess 1.7 on log exactly as transforms/features/goaccess_test.go does.
func goAccess(t *testing.T, log string) compared {
	t.Helper()
	bin, err := exec.LookPath("goaccess")
	if err != nil {
		t.Fatal("goaccess is not installed: make test installs it (tools/setup.sh test) (apt-get install -y goaccess, Debian's 1:1.7-1); " +
			"this test compares the job's summary.json with GoAccess's report and never skips")
	}
	out := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, log, "--no-global-config", "--log-format=COMBINED", "--no-ip-validation", "--max-items=100000", "-o", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r gaReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("GoAccess report: %v", err)
	}
	c := compared{LinesRead: r.General.Total, Requests: r.General.Valid, Dead: r.General.Failed, Bytes: r.General.Bandwidth,
		Visitors: r.General.Visitors, Status: map[string]int64{}, VisitorsByDay: map[string]int64{}}
	for _, d := range r.Visitors.Data { // data is YYYYMMDD
		c.VisitorsByDay[d.Data[:4]+"-"+d.Data[4:6]+"-"+d.Data[6:]] = d.Visitors.Count
	}
	for _, class := range r.Status.Data {
		for _, it := range class.Items {
			c.Status[strings.SplitN(it.Data, " ", 2)[0]] += it.Hits.Count
		}
	}
	c.TopPaths = gaTop(r.Requests.Data, 10)
	c.Top404 = gaTop(r.NotFound.Data, 10)
	return c
}

// gaTop is a GoAccess panel's n items with most hits, ties cut by path, method and protocol
// as the job cuts them (GoAccess's own order of ties is its hash table's).
func gaTop(items []gaItem, n int) []PathHits {
	undash := func(s string) string {
		if s == "---" {
			return ""
		}
		return s
	}
	var l []PathHits
	for _, it := range items {
		l = append(l, PathHits{Path: it.Data, Method: undash(it.Method), Protocol: undash(it.Protocol), Hits: it.Hits.Count, Bytes: it.Bytes.Count})
	}
	sort.Slice(l, func(i, j int) bool { return pathLess(l[i], l[j]) })
	return l[:min(n, len(l))]
}

func fromSummary(s Summary) compared {
	return compared{LinesRead: s.LinesRead, Requests: s.Requests, Dead: s.Dead, Bytes: s.Bytes, Visitors: s.UniqueVisitors,
		Status: s.Status, VisitorsByDay: s.VisitorsByDay, TopPaths: s.TopPaths[:min(10, len(s.TopPaths))], Top404: s.Top404[:min(10, len(s.Top404))]}
}

// TestSummaryMatchesGoAccess runs the job and GoAccess 1.7 on the same real logs and requires
// summary.json to hold GoAccess's numbers: lines, valid requests, failed lines, bandwidth,
// unique visitors (in total and per day), hits per status code, and the top 10 of the
// requests panel and of the not-found panel with their hits and bytes.
func TestSummaryMatchesGoAccess(t *testing.T) {
	for _, log := range []string{logstalgia, "../../testdata/logs/fail2ban-web.log"} {
		t.Run(filepath.Base(log), func(t *testing.T) {
			want := goAccess(t, log)
			_, sum := runJob(t, log, nil)
			if d := cmp.Diff(want, fromSummary(sum)); d != "" {
				t.Errorf("summary.json of %s differs from GoAccess (-goaccess +job):\n%s", log, d)
			}
			if len(sum.TopPaths) < 10 && sum.DistinctPaths >= 10 {
				t.Errorf("top_paths has %d items, want 10", len(sum.TopPaths))
			}
			if !sum.Balanced || sum.LinesRead != sum.Parsed+sum.Dead {
				t.Errorf("lines read %d != parsed %d + dead %d", sum.LinesRead, sum.Parsed, sum.Dead)
			}
			t.Logf("%s: %d requests, %d visitors, %d bytes, top path %+v", log, sum.Requests, sum.UniqueVisitors, sum.Bytes, sum.TopPaths[0])
		})
	}
	// A run that found nothing would make the comparison above empty on both sides.
	if want := goAccess(t, logstalgia); want.Requests != 3260 || len(want.TopPaths) != 10 {
		t.Fatalf("GoAccess read %d requests and %d top paths of %s, want 3260 and 10", want.Requests, len(want.TopPaths), logstalgia)
	}
}

// badLog has 42 lines: a bad line at line 3, a comment at line 5, a minute (12:00) with 30 hits of
// which 5 are 500s — a 16.7% error rate, above 5% with at least 20 requests — and a minute
// (12:01) with 10 hits, all 503, which has too few requests to alarm.
func badLog() string {
	var b strings.Builder
	line := func(min, sec, status int) {
		fmt.Fprintf(&b, "10.0.0.%d - - [01/Mar/2024:12:%02d:%02d +0000] \"GET /api/x?id=%d HTTP/1.1\" %d 100 \"-\" \"curl/8.0\"\n", sec%7, min, sec, sec%3, status)
	}
	line(0, 0, 200)
	line(0, 1, 200)
	b.WriteString("this is not an access log line\n")
	line(0, 2, 200)
	b.WriteString("# a comment\n")
	for i := 3; i < 30; i++ {
		status := 200
		if i < 8 {
			status = 500
		}
		line(0, i, status)
	}
	for i := range 10 {
		line(1, i, 503)
	}
	return b.String()
}

// TestDeadLettersAndAlarm checks that a bad line reaches dead/part-*.jsonl with its file and
// line number and a reason, that lines read = parsed + dead, and that the error-rate alarm
// fires for the minute above the threshold and not for the one with too few requests.
func TestDeadLettersAndAlarm(t *testing.T) {
	log := filepath.Join(t.TempDir(), "bad.log")
	if err := os.WriteFile(log, []byte(badLog()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, sum := runJob(t, log, nil)

	if sum.LinesRead != 42 || sum.Parsed != 40 || sum.Dead != 2 || !sum.Balanced {
		t.Errorf("lines read %d, parsed %d, dead %d, balanced %v; want 42 = 40 + 2, true", sum.LinesRead, sum.Parsed, sum.Dead, sum.Balanced)
	}
	var dead []record.Failure
	names, _ := filepath.Glob(filepath.Join(out, "dead", "part-*.jsonl"))
	if len(names) == 0 {
		t.Fatalf("no dead/part-*.jsonl under %s", out)
	}
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
			dead = append(dead, fl)
		}
		f.Close()
	}
	sort.Slice(dead, func(i, j int) bool { return dead[i].Offset < dead[j].Offset })
	type got struct {
		Origin  string
		Line    int64
		Reason  string
		Payload string
	}
	var gots []got
	for _, d := range dead {
		gots = append(gots, got{filepath.Base(d.Origin), d.Offset, d.Reason, d.PayloadString})
	}
	want := []got{
		{"bad.log", 3, "*", "this is not an access log line"}, // the parser's reason, whichever
		{"bad.log", 5, "log_comment", "# a comment"},
	}
	if d := cmp.Diff(want, gots, cmp.Comparer(func(a, b string) bool {
		// "*" stands for any reason but none.
		return a == b || (a == "*" && b != "") || (b == "*" && a != "")
	})); d != "" {
		t.Errorf("dead letters (-want +got):\n%s", d)
	}
	if sum.DeadByReason["log_comment"] != 1 {
		t.Errorf("dead_by_reason = %v, want log_comment 1 and one other", sum.DeadByReason)
	}

	wantAlarms := []Alarm{{Minute: "2024-03-01T12:00", Requests: 30, Errors: 5, Rate: 5.0 / 30}}
	if d := cmp.Diff(wantAlarms, sum.Alarms); d != "" {
		t.Errorf("alarms (-want +got):\n%s", d)
	}
	hits, _ := filepath.Glob(filepath.Join(out, "hits", "part-*.jsonl"))
	var n int
	for _, h := range hits {
		b, _ := os.ReadFile(h)
		n += bytes.Count(b, []byte("\n"))
	}
	if n != 40 {
		t.Errorf("hits/part-*.jsonl hold %d lines, want 40", n)
	}
}

// TestReport checks that report.html is produced, self-contained (no script, no external
// stylesheet, image or font) and shows the numbers of summary.json.
func TestReport(t *testing.T) {
	out, sum := runJob(t, logstalgia, nil)
	b, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
	if m := external.FindString(page); m != "" {
		t.Errorf("report.html refers to an external resource: %q", m)
	}
	for _, bad := range []string{"<script", "<link", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("report.html contains %q; it must be self-contained", bad)
		}
	}
	for _, want := range []string{
		`<b id="requests">3,260</b>`,
		`<b id="visitors">255</b>`,
		"35,001,272",
		"<svg", "Hits per hour", "Status classes", "Browsers", "Operating systems", "Error-rate alarms",
		"/news.html", "/latest.php?category=national",
		"2009-04-22",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if sum.Requests != 3260 || sum.UniqueVisitors != 255 || sum.Bytes != 35001272 {
		t.Errorf("summary = %d requests, %d visitors, %d bytes; the report assertions above assume 3260, 255, 35001272", sum.Requests, sum.UniqueVisitors, sum.Bytes)
	}
	for code, n := range sum.Status {
		if !strings.Contains(page, ">"+code+"<") || !strings.Contains(page, thousands(n)) {
			t.Errorf("report.html lacks status %s with %s hits", code, thousands(n))
		}
	}
}

func TestAlarms(t *testing.T) {
	minutes := map[string]Tally{
		"2024-01-01T00:00": {Hits: 20, Errors: 1},   // exactly 5%: not above
		"2024-01-01T00:01": {Hits: 20, Errors: 2},   // 10%
		"2024-01-01T00:02": {Hits: 19, Errors: 19},  // too few requests
		"2024-01-01T00:03": {Hits: 1000, Errors: 0}, // fine
	}
	got := Alarms(minutes, 0.05, 20)
	want := []Alarm{{Minute: "2024-01-01T00:01", Requests: 20, Errors: 2, Rate: 0.1}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Alarms (-want +got):\n%s", d)
	}
}

// TestTopListsAreExact feeds keys in random order to several accumulators, merges them as
// a runner would, and requires the bounded top list to equal a full sort.
func TestTopListsAreExact(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var all []PathHits
	for i := range 500 {
		all = append(all, PathHits{Path: "/p" + strconv.Itoa(i), Method: "GET", Protocol: "HTTP/1.1", Hits: int64(r.Intn(40))})
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	accs := []Accumulator{newAccumulator(), newAccumulator(), newAccumulator()}
	for i, p := range all {
		accs[i%3].add(Metric{Key: kindRequest + sep + p.Method + sep + p.Protocol + sep + p.Path, Tally: Tally{Hits: p.Hits}}, 10)
	}
	accs[0].merge(accs[2], 10)
	accs[1].merge(accs[0], 10)
	sort.Slice(all, func(i, j int) bool { return pathLess(all[i], all[j]) })
	if d := cmp.Diff(all[:10], accs[1].Requests); d != "" {
		t.Errorf("top 10 (-full sort +accumulators):\n%s", d)
	}
	if accs[1].DistinctRequests != 500 {
		t.Errorf("distinct requests = %d, want 500", accs[1].DistinctRequests)
	}
}

func TestOptionsCheck(t *testing.T) {
	ok := Options{Input: "x.log", Output: "out", Format: "combined", Top: 10, ErrorRate: 0.05, MinRequests: 20}
	for _, tc := range []struct {
		mod  func(*Options)
		flag string
	}{
		{func(o *Options) { o.Input = "" }, "--input"},
		{func(o *Options) { o.Input = "pubsub://projects/p/topics/t" }, "--input"},
		{func(o *Options) { o.Output = "" }, "--output"},
		{func(o *Options) { o.Output = "bq://p.d.t" }, "--output"},
		{func(o *Options) { o.Format = "%h %Z" }, "--log_format"},
		{func(o *Options) { o.Top = 0 }, "--top"},
		{func(o *Options) { o.ErrorRate = 5 }, "--error_rate"},
		{func(o *Options) { o.MinRequests = 0 }, "--min_requests"},
	} {
		o := ok
		tc.mod(&o)
		err := o.check()
		if err == nil || !strings.HasPrefix(err.Error(), tc.flag) {
			t.Errorf("check(%+v) = %v, want an error naming %s", o, err, tc.flag)
		}
	}
	if err := ok.check(); err != nil {
		t.Errorf("check(%+v) = %v, want nil", ok, err)
	}
}

func TestReportFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 35001272: "35,001,272", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := humanBytes(35001272); got != "33.4 MiB" {
		t.Errorf("humanBytes(35001272) = %q, want 33.4 MiB", got)
	}
}

// hitKeys writes the time keys as time.Format would, in the zone the line was logged in, and
// counts a hit without allocating.
func TestHitKeysTimeAndAllocs(t *testing.T) {
	p := clean.AccessLogParser{Format: clean.MustCompileLogFormat("combined")}
	var h clean.Hit
	line := `dyn-530.optus.com.au - - [02/Apr/2009:08:05:51 +1200] "GET /latest.php HTTP/1.1" 200 244 "-" "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)"`
	r := record.Record{Source: "b", Payload: []byte(line)}
	if err := p.ParseRecord(&r, &h); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	uas := features.NewUserAgentCache(0)
	hitKeys(&h, nil, uas, func(k []byte, _ Tally) { got[string(k)] = true })
	for _, want := range []string{
		kindDay + sep + h.Time.Format("2006-01-02"), kindHour + sep + h.Time.Format("2006-01-02T15"),
		kindMinute + sep + h.Time.Format("2006-01-02T15:04"), kindVisitor + sep + "20090402|dyn-530.optus.com.au|Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)",
	} {
		if !got[want] {
			t.Errorf("hitKeys did not emit %q; got %v", want, got)
		}
	}
	if !got[kindHour+sep+"2009-04-02T08"] {
		t.Errorf("the hour key is not the logged hour 08 (+1200): %v", got)
	}
	buf := make([]byte, 0, 256)
	if a := testing.AllocsPerRun(100, func() { buf = hitKeys(&h, buf, uas, func([]byte, Tally) {}) }); a != 0 {
		t.Errorf("hitKeys allocates %.1f times per hit, want 0", a)
	}
}

// The hand-written hit encoder writes what encoding/json writes for hitRow: the same fields,
// omitted when empty, and strings that need escaping decoded back as they were.
func TestHitRowJSON(t *testing.T) {
	for _, r := range []hitRow{
		{Host: "h", Request: "", Origin: "o"},
		{Time: "2009-04-22T18:52:51+12:00", Host: "2001:db8::1", User: "bob", Method: "GET", Path: "/a?b=<1>&c=\"d\"",
			Protocol: "HTTP/1.1", Request: "GET /a HTTP/1.1", Status: 404, Bytes: 1 << 40, Referer: "http://x/\u00e9",
			UserAgent: "Mozilla\t\x01 \u2028 é", VHost: "v", DurationS: "1.5ms", Origin: "logs/a.log", Line: 7},
		{Host: "bad utf-8 \xff", Request: "\x16\x03\x01", Status: 400, Origin: "o", Line: -1},
	} {
		got := r.appendJSON(nil)
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("appendJSON wrote %s: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("appendJSON(%+v) differs from encoding/json (-want +got):\n%s", r, diff)
		}
	}
}

// BenchmarkHitKeys is the per-hit work of the aggregation: the keys of one real hit and
// their per-bundle sums.
func BenchmarkHitKeys(b *testing.B) {
	p := clean.AccessLogParser{Format: clean.MustCompileLogFormat("combined")}
	var h clean.Hit
	line := `dyn-530.optus.com.au - - [22/Apr/2009:18:52:51 +1200] "GET /latest.php?category=national HTTP/1.1" 200 244 "http://www.example.com/news.html" "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; .NET CLR 1.1.4322)" "-"`
	r := record.Record{Source: "b", Payload: []byte(line)}
	if err := p.ParseRecord(&r, &h); err != nil {
		b.Fatal(err)
	}
	sums := bundleSums{MaxKeys: defaultMaxKeys}
	sums.StartBundle(nil)
	emit := func(string, Tally) {}
	add := func(k []byte, t Tally) { sums.add(k, t, emit) }
	var buf []byte
	uas := features.NewUserAgentCache(0)
	b.ReportAllocs()
	for b.Loop() {
		buf = hitKeys(&h, buf, uas, add)
	}
}

// TestUnbalancedFails checks the step that writes the summary fails the job, naming the
// numbers, when lines read != parsed + dead (here a summary built to be wrong), after
// writing summary.json for the post-mortem.
func TestUnbalancedFails(t *testing.T) {
	out := t.TempDir()
	a := newAccumulator()
	a.add(Metric{Key: kindRead, Tally: Tally{Hits: 5}}, 10)
	a.add(Metric{Key: kindStatus + sep + "200", Tally: Tally{Hits: 3}}, 10)
	a.add(Metric{Key: kindDead + sep + "bad_time", Tally: Tally{Hits: 1}}, 10)
	s := summarize(a, 0.05, 20)
	if s.Balanced {
		t.Fatalf("summarize(read 5, parsed 3, dead 1).Balanced = true")
	}
	err := (&writeOutputsFn{Output: out, Input: "x.log", Format: "combined"}).ProcessElement(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "lines read 5 != parsed 3 + dead 1") {
		t.Errorf("writing an unbalanced summary: err = %v, want lines read 5 != parsed 3 + dead 1", err)
	}
	if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
		t.Errorf("summary.json not written before failing: %v", err)
	}
}

// TestEmptyInput: an empty file still gives a summary (of zeros) and a report.
func TestEmptyInput(t *testing.T) {
	log := filepath.Join(t.TempDir(), "empty.log")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, sum := runJob(t, log, nil)
	if sum.LinesRead != 0 || sum.Requests != 0 || !sum.Balanced {
		t.Errorf("summary of an empty file = %+v, want zeros, balanced", sum)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}
