package textclass

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
)

// JSON is the report as indented JSON (report.json).
func (r Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

//go:embed report.html.tmpl
var reportTmpl string

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"w":   func(v float64) string { return fmt.Sprintf("%.1f", 400*v) },
	"f3":  func(v float64) string { return fmt.Sprintf("%.3f", v) },
}).Parse(reportTmpl))

// HTML renders the report as one self-contained page (report.html): headline figures, bars
// for hit@k and recall@k, per-label F1 bars for the best-supported labels and the
// most-confused pairs. No script and nothing fetched: it opens from a bucket or a mail.
func (r Report) HTML(title string) ([]byte, error) {
	type bar struct {
		Name  string
		Value float64
	}
	var atK []bar
	ks := append([]int(nil), Ks...)
	sort.Ints(ks)
	for _, k := range ks {
		atK = append(atK, bar{fmt.Sprintf("hit@%d", k), r.HitAt[k]}, bar{fmt.Sprintf("recall@%d", k), r.RecallAt[k]})
	}
	labels := r.PerLabel
	if len(labels) > 60 {
		labels = labels[:60]
	}
	var b bytes.Buffer
	err := reportHTML.Execute(&b, map[string]any{"Title": title, "R": r, "AtK": atK, "Labels": labels, "MoreLabels": len(r.PerLabel) - len(labels)})
	return b.Bytes(), err
}
