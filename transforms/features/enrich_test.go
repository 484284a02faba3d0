package features_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

func init() {
	register.Function2x1(enrichedSummaryFn)
}

// enrichedSummaryFn shows what the pipeline test checks: line, template and its parameters,
// static, device, bot and referrer host, and the element timestamp.
func enrichedSummaryFn(ts beam.EventTime, e features.Enriched) string {
	var params []string
	for _, p := range e.Params {
		params = append(params, p.Name+"="+p.Value)
	}
	return strings.Join([]string{
		e.Hit.Path, e.Template, strings.Join(params, ","), e.Ext, boolStr(e.Static), e.Browser, e.Device,
		boolStr(e.Bot), e.ReferrerHost, ts.ToTime().UTC().Format(time.RFC3339),
	}, " ")
}

func boolStr(b bool) string {
	if b {
		return "static/bot"
	}
	return "-"
}

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

func TestEnrichPipeline(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	lines := []string{
		`192.0.2.1 - - [01/Mar/2024:12:00:00 +0000] "GET /items/books/42?ref=home HTTP/1.1" 200 1234 "https://www.Example.com/search?q=go" "` + chromeUA + `"`,
		`192.0.2.2 - - [01/Mar/2024:12:00:01 +0000] "GET /static/css/site.css HTTP/1.1" 200 900 "-" "curl/8.5.0"`,
		`192.0.2.3 - - [01/Mar/2024:12:00:02 +0000] "\x16\x03\x01" 400 0 "-" "-"`,
	}
	recs := make([]record.Record, len(lines))
	for i, l := range lines {
		recs[i] = record.Record{Source: "web", Origin: "access.log", Offset: int64(i + 1), Payload: []byte(l)}
	}
	hits, dead := clean.ParseAccessLog(s, "combined", beam.CreateList(s, recs))
	out := features.Enrich(s, hits, "/items/{category}/{item}", "/static/{file...}")
	passert.Empty(s, dead)
	passert.Equals(s, beam.ParDo(s, enrichedSummaryFn, out),
		"/items/books/42?ref=home /items/{category}/{item} category=books,item=42  - Chrome desktop - www.example.com 2024-03-01T12:00:00Z",
		"/static/css/site.css /static/{file...} file=css/site.css css static/bot curl bot static/bot  2024-03-01T12:00:01Z",
		"    -  unknown -  2024-03-01T12:00:02Z",
	)
	ptest.RunAndValidate(t, p)
}

func TestEnrichedCoderRoundTrip(t *testing.T) {
	e := features.Enriched{
		Hit: clean.Hit{Host: "::1", Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("", 3600)), Method: "GET",
			Path: "/items/a/b", Status: 200, Extra: []clean.Field{{Name: "%k", Value: "1"}}},
		Template: "/items/{category}/{item}", Params: []features.Param{{"category", "a"}, {"item", "b"}},
		Browser: "Chrome", Version: "120", OS: "Windows", Device: "desktop", Static: true, Bot: true, ReferrerHost: "example.com",
	}
	b, err := features.EncodeEnriched(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := features.DecodeEnriched(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.String() == b.String() })); d != "" {
		t.Errorf("DecodeEnriched(EncodeEnriched(e)) mismatch (-want +got):\n%s", d)
	}
	for n := range len(b) {
		if _, err := features.DecodeEnriched(b[:n]); err == nil {
			t.Errorf("DecodeEnriched of the first %d of %d bytes = nil error, want one", n, len(b))
		}
	}
}

func TestEnricherDoesNotAllocate(t *testing.T) {
	en, err := features.NewEnricher("/items/{category}/{item}", "/static/{file...}")
	if err != nil {
		t.Fatal(err)
	}
	h := clean.Hit{Path: "/items/books/42?ref=home", UserAgent: chromeUA, Referer: "https://www.example.com/search?q=go"}
	var out features.Enriched
	en.Enrich(&h, &out)
	if a := testing.AllocsPerRun(1000, func() { en.Enrich(&h, &out) }); a != 0 {
		t.Errorf("Enrich allocates %.1f times a hit, want 0", a)
	}
}
