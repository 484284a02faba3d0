package features_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

// TestGoAccessEquivalence parses real access logs with clean's parser, counts them with the
// GoAccess definitions of goaccess.go, runs GoAccess itself on the same files, and requires
// the same numbers: total, valid and failed requests, bandwidth, unique visitors (in total
// and per day), hits per status code, and hits of every request key — in all panels together
// and in the requests panel alone, whose top 10 is the report's "top requests".
//
// GoAccess runs as
//
//	goaccess LOG --no-global-config --log-format=COMBINED --no-ip-validation --max-items=100000 -o report.json
//
// --no-global-config keeps /etc/goaccess/goaccess.conf (whose static-file list and ignored
// panels vary by installation) out; --no-ip-validation lets %h be a host name, as Apache
// logs it with HostnameLookups on (the logstalgia sample has only names); --max-items lifts
// the 366-items-per-panel cut so whole panels compare. COMBINED is GoAccess's
// `%h %^[%d:%t %^] "%r" %s %b "%R" "%u"` with dates %d/%b/%Y and times %H:%M:%S.
func TestGoAccessEquivalence(t *testing.T) {
	bin, err := exec.LookPath("goaccess")
	if err != nil {
		t.Fatal("goaccess is not installed: make test installs it (tools/setup.sh test) (apt-get install -y goaccess, Debian's 1:1.7-1); " +
			"this test compares Beamline's counts with GoAccess's and never skips")
	}
	edge := filepath.Join(t.TempDir(), "edge.log")
	if err := os.WriteFile(edge, []byte(edgeLog), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"../../testdata/logs/logstalgia-example.log", "../../testdata/logs/fail2ban-web.log", edge} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := runGoAccess(t, bin, path)
			got := countLikeGoAccess(t, path)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("counts of %s differ from GoAccess (-goaccess +beamline):\n%s", path, d)
			}
			t.Logf("%s: %d requests (%d failed), %d visitors, %d bytes; top requests: %v",
				path, got.Total, got.Failed, got.Visitors, got.Bandwidth, got.TopRequests)
		})
	}
}

// edgeLog is written for this test: each line probes one definition. GoAccess and Beamline
// must agree on all of them.
const edgeLog = `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a+b%20c?x=1+2 HTTP/1.1" 200 100 "-" "UA one"
1.2.3.4 - - [10/Oct/2000:13:55:37 -0700] "GET /a+b%20c?x=1+2 HTTP/1.1" 200 100 "-" "UAone"
1.2.3.4 - - [10/Oct/2000:13:55:38 -0700] "GET /a+b c?x=1+2 HTTP/1.1" 200 100 "-" "UA%20one"
1.2.3.4 - - [10/Oct/2000:13:55:39 -0700] "HEAD /x.CSS HTTP/2.0" 404 - "-" "UA one"
1.2.3.4 - - [10/Oct/2000:13:55:40 -0700] "GET /img/logo.PNG HTTP/1.1" 200 2048 "-" "UA one"
1.2.3.4 - - [10/Oct/2000:13:55:40 -0700] "GET /app.js HTTP/1.1" 200 1000 "-" "UA one"
1.2.3.4 - - [10/Oct/2000:13:55:40 -0700] "GET /style.css?v=3 HTTP/1.1" 200 500 "-" "UA one"
1.2.3.5 - - [10/Oct/2000:13:55:41 -0700] "-" 408 0 "-" "-"
1.2.3.5 - - [10/Oct/2000:13:55:42 -0700] "" 400 0 "-" ""
1.2.3.6 - - [10/Oct/2000:13:55:43 -0700] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-"
1.2.3.6 - - [10/Oct/2000:13:55:44 -0700] "GET /q\"uote HTTP/1.1" 200 5 "-" "Mo\"zilla"
1.2.3.6 - - [10/Oct/2000:13:55:45 -0700] "GETX /foo HTTP/1.1" 200 5 "-" "x"
1.2.3.6 - - [10/Oct/2000:13:55:46 -0700] "GET /foo HTTP/3" 200 5 "-" "x"
1.2.3.6 - - [10/Oct/2000:13:55:47 -0700] "GET /foo" 200 5 "-" "x"
1.2.3.6 - - [10/Oct/2000:13:55:48 -0700] "get /foo HTTP/1.1" 200 5 "-" "x"
1.2.3.6 - - [10/Oct/2000:13:55:49 -0700] "GET  /foo  HTTP/1.1" 200 5 "-" " x "
1.2.3.6 - - [10/Oct/2000:13:55:50 -0700] "GET /foo HTTP/1.1" - 5 "-" "x"
1.2.3.6 - - [10/Oct/2000:13:55:51 -0700] "GET /foo HTTP/1.1" 999 5 "-" "x"
1.2.3.6 - - [10/Oct/2000:13:55:52 -0700] "GET /foo HTTP/1.1" 444 5 "-" "x"
# a comment line, which GoAccess skips without counting

::1 - - [11/Oct/2000:00:00:01 +0000] "GET /foo HTTP/1.1" 200 5 "-" "x"
2001:db8::1 - - [11/Oct/2000:00:00:01 +0000] "GET /foo HTTP/1.1" 200 5
2001:db8::2 - bob [11/Oct/2000:00:00:02 +0000] "POST /login HTTP/1.1" 302 0 "https://example.com/" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
1.2.3.7 - - [32/Oct/2000:00:00:01 +0000] "GET /foo HTTP/1.1" 200 5 "-" "x"
1.2.3.7 - - [11/Oct/2000:00:00:03 +0000] "GET /foo?a=1 HTTP/1.1" 301 5 "-" "x"
1.2.3.7 - - [11/Oct/2000:23:59:59 -1000] "GET /foo?a=1 HTTP/1.1" 301 5 "-" "x"
1.2.3.7 - - [12/Oct/2000:00:00:00 +0900] "GET /foo?a=1 HTTP/1.1" 301 5 "-" "x"
1.2.3.8 - - [12/Oct/2000:00:00:00 +0900] "GET /p q HTTP/1.1" 400 5 "-" "x"
1.2.3.8 - - [12/Oct/2000:00:00:00 +0900] "OPTIONS * HTTP/1.1" 200 0 "-" "x" "trailing" 1 2 3
`

// counts is what the test compares.
type counts struct {
	Total, Valid, Failed, Bandwidth, Visitors int64
	// PerDay is hits/visitors/bytes per day (YYYYMMDD).
	PerDay map[string][3]int64
	Status map[int]int64
	// Requests is hits per "target|METHOD|protocol" over the requests, static and not-found
	// panels; RequestsPanel over the requests panel alone; TopRequests its 10 largest.
	Requests      map[string]int64
	RequestsPanel map[string]int64
	TopRequests   []string
}

type gaItem struct {
	Hits     struct{ Count int64 } `json:"hits"`
	Visitors struct{ Count int64 } `json:"visitors"`
	Bytes    struct{ Count int64 } `json:"bytes"`
	Data     string                `json:"data"`
	Method   string                `json:"method"`
	Protocol string                `json:"protocol"`
	Items    []gaItem              `json:"items"`
}

type gaPanel struct {
	Data []gaItem `json:"data"`
}

type gaReport struct {
	General struct {
		Total     int64 `json:"total_requests"`
		Valid     int64 `json:"valid_requests"`
		Failed    int64 `json:"failed_requests"`
		Visitors  int64 `json:"unique_visitors"`
		Bandwidth int64 `json:"bandwidth"`
	} `json:"general"`
	Visitors gaPanel `json:"visitors"`
	Requests gaPanel `json:"requests"`
	Static   gaPanel `json:"static_requests"`
	NotFound gaPanel `json:"not_found"`
	Status   gaPanel `json:"status_codes"`
}

func runGoAccess(t *testing.T, bin, log string) counts {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, log, "--no-global-config", "--log-format=COMBINED", "--no-ip-validation",
		"--max-items=100000", "-o", out)
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
		t.Fatalf("GoAccess report %s: %v", out, err)
	}
	c := counts{Total: r.General.Total, Valid: r.General.Valid, Failed: r.General.Failed, Bandwidth: r.General.Bandwidth,
		Visitors: r.General.Visitors, PerDay: map[string][3]int64{}, Status: map[int]int64{},
		Requests: map[string]int64{}, RequestsPanel: map[string]int64{}}
	for _, d := range r.Visitors.Data {
		c.PerDay[d.Data] = [3]int64{d.Hits.Count, d.Visitors.Count, d.Bytes.Count}
	}
	for _, class := range r.Status.Data {
		for _, it := range class.Items {
			code, err := strconv.Atoi(strings.SplitN(it.Data, " ", 2)[0])
			if err != nil {
				t.Fatalf("GoAccess status item %q: %v", it.Data, err)
			}
			c.Status[code] += it.Hits.Count
		}
	}
	key := func(it gaItem) string { return it.Data + "|" + it.Method + "|" + it.Protocol }
	for _, p := range []gaPanel{r.Requests, r.Static, r.NotFound} {
		for _, it := range p.Data {
			c.Requests[key(it)] += it.Hits.Count
		}
	}
	for _, it := range r.Requests.Data {
		c.RequestsPanel[key(it)] += it.Hits.Count
	}
	c.TopRequests = top(c.RequestsPanel, 10)
	return c
}

// countLikeGoAccess parses log with clean.AccessLogParser and counts with the GoAccess
// definitions of package features.
func countLikeGoAccess(t *testing.T, log string) counts {
	t.Helper()
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := clean.AccessLogParser{Format: clean.MustCompileLogFormat("combined")}
	c := counts{PerDay: map[string][3]int64{}, Status: map[int]int64{}, Requests: map[string]int64{}, RequestsPanel: map[string]int64{}}
	visitors := map[string]bool{}
	dayVisitors := map[string]int64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var h clean.Hit
	for n := int64(1); sc.Scan(); n++ {
		r := record.Record{Source: "test", Origin: log, Offset: n, Payload: sc.Bytes()}
		if err := p.ParseRecord(&r, &h); err != nil {
			if err.Reason == clean.ReasonEmpty || err.Reason == clean.ReasonLogComment {
				continue // GoAccess skips these without counting them
			}
			c.Total++
			c.Failed++
			continue
		}
		c.Total++
		c.Valid++
		c.Bandwidth += h.Bytes
		c.Status[h.Status]++
		day := h.Time.Format("20060102")
		d := c.PerDay[day]
		d[0]++
		d[2] += h.Bytes
		if k, ok := features.GoAccessVisitorKey(&h); ok && !visitors[k] {
			visitors[k] = true
			dayVisitors[day]++
		}
		c.PerDay[day] = d
		rk := features.GoAccessRequestKey(&h)
		key := rk.Target + "|" + dash3(rk.Method) + "|" + dash3(rk.Protocol)
		c.Requests[key]++
		if h.Status != 404 && !features.GoAccessIsStatic(rk.Target, features.GoAccessStaticExtensions) {
			c.RequestsPanel[key]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for day, v := range dayVisitors {
		d := c.PerDay[day]
		d[1] = v
		c.PerDay[day] = d
		c.Visitors += v
	}
	c.TopRequests = top(c.RequestsPanel, 10)
	return c
}

// dash3 is how GoAccess's JSON shows a missing method or protocol.
func dash3(s string) string {
	if s == "" {
		return "---"
	}
	return s
}

// top lists the n keys with most hits as "key=hits", ties in key order.
func top(m map[string]int64, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var out []string
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return out
}

func TestAppendDigits(t *testing.T) {
	for _, c := range []struct {
		v, width int
		want     string
	}{{0, 1, "0"}, {0, 2, "00"}, {5, 2, "05"}, {59, 2, "59"}, {123, 2, "123"}, {2026, 4, "2026"}, {7, 4, "0007"}, {12345, 4, "12345"}} {
		if got := string(features.AppendDigits([]byte("x"), c.v, c.width)); got != "x"+c.want {
			t.Errorf("AppendDigits(%d, %d) = %q, want %q", c.v, c.width, got, "x"+c.want)
		}
	}
}

// The visitor key's day is the day as logged, in the line's own zone, as GoAccess keys it.
func TestAppendGoAccessVisitorKey(t *testing.T) {
	zone := time.FixedZone("", -7*3600)
	h := clean.Hit{Time: time.Date(2026, 1, 3, 23, 30, 0, 0, zone), Host: "10.0.0.1", UserAgent: " curl/8%2E5 ", Status: 200}
	got, ok := features.AppendGoAccessVisitorKey([]byte("v|"), &h)
	if want := "v|20260103|10.0.0.1|curl/8.5"; string(got) != want || !ok {
		t.Errorf("AppendGoAccessVisitorKey = %q, %v; want %q, true", got, ok, want)
	}
	if k, _ := features.GoAccessVisitorKey(&h); k != h.Time.Format("20060102")+"|10.0.0.1|curl/8.5" {
		t.Errorf("GoAccessVisitorKey = %q", k)
	}
	h.Status, h.UserAgent = 404, ""
	if got, ok := features.AppendGoAccessVisitorKey(nil, &h); string(got) != "20260103|10.0.0.1|-" || ok {
		t.Errorf("a 404 without agent: %q, %v; want \"20260103|10.0.0.1|-\", false", got, ok)
	}
}
