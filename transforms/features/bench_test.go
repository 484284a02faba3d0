package features_test

import (
	"bufio"
	"os"
	"testing"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
)

// The benchmarks run on the hits of the real log testdata/logs/logstalgia-example.log.

func benchHits(b *testing.B) []clean.Hit {
	f, err := os.Open("../../testdata/logs/logstalgia-example.log")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	lf := clean.MustCompileLogFormat("combined")
	var hits []clean.Hit
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var h clean.Hit
		if err := lf.Parse(sc.Text(), &h); err != nil {
			b.Fatal(err)
		}
		hits = append(hits, h)
	}
	return hits
}

// The site's own URL scheme: /images/photos/455.jpg, /gallery.php?section=…, /adclick.php?c=…
var siteTemplates = []string{"/images/{kind}/{file}", "/js/{file}", "/{page}"}

func BenchmarkTemplatesMatch(b *testing.B) {
	hits := benchHits(b)
	tpl := features.MustCompileTemplates(siteTemplates...)
	params := make([]features.Param, 0, 4)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, params = tpl.Match(hits[i%len(hits)].Path, params[:0])
		i++
	}
}

func BenchmarkParseUserAgent(b *testing.B) {
	hits := benchHits(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		features.ParseUserAgent(hits[i%len(hits)].UserAgent)
		i++
	}
}

// BenchmarkEnrich is the whole per-hit work of features.Enrich.
func BenchmarkEnrich(b *testing.B) {
	hits := benchHits(b)
	en, err := features.NewEnricher(siteTemplates...)
	if err != nil {
		b.Fatal(err)
	}
	var out features.Enriched
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		en.Enrich(&hits[i%len(hits)], &out)
		i++
	}
}

func BenchmarkGoAccessKeys(b *testing.B) {
	hits := benchHits(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h := &hits[i%len(hits)]
		features.GoAccessRequestKey(h)
		features.GoAccessVisitorKey(h)
		i++
	}
}
