package recommend

import (
	"bytes"
	"fmt"
	"html/template"
)

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) },
	"f3":  func(f float64) string { return fmt.Sprintf("%.3f", f) },
	"ratio": func(a, b float64) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("×%.2f", a/b)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Recommender {{.Name}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th:first-child,td:first-child{text-align:left}
tr.chosen{font-weight:bold}</style></head><body>
<h1>Recommender {{.Name}}</h1>
<p>{{.R.Interactions}} interactions ({{.R.Skipped}} skipped) of {{.R.Users}} users on {{.R.Items}} items,
from {{.R.From.Format "2006-01-02 15:04"}} to {{.R.To.Format "2006-01-02 15:04"}} UTC. Published: <b>{{.R.Chosen}}</b>.</p>
<h2>Evaluation by time</h2>
<p>Each user's last interaction (every line of their last order) is held out; the model trained on the rest
recommends {{(index .R.Results 0).K}} items, training items excluded. {{.R.EvalUsers}} users evaluated;
{{.R.FewInteractions}} had fewer than {{.R.MinInteractions}} interactions, {{.R.RepeatOnly}} held out only items they already had.</p>
<table><tr><th>model</th><th>hit@{{(index .R.Results 0).K}}</th><th>vs popularity</th><th>NDCG@{{(index .R.Results 0).K}}</th>
<th>recall@{{(index .R.Results 0).K}}</th><th>coverage</th><th>training s</th></tr>
{{$pop := index .R.Results 0}}{{$chosen := .R.Chosen}}
{{range .R.Results}}<tr{{if eq .Model $chosen}} class="chosen"{{end}}><td>{{.Model}}</td><td>{{pct .HitRate}}</td>
<td>{{ratio .HitRate $pop.HitRate}}</td><td>{{f3 .NDCG}}</td><td>{{pct .Recall}}</td><td>{{pct .Coverage}}</td><td>{{printf "%.2f" .TrainSeconds}}</td></tr>
{{end}}</table>
</body></html>
`))

// HTML renders the report as a page, for people.
func (r Report) HTML(name string) ([]byte, error) {
	if len(r.Results) == 0 {
		return nil, fmt.Errorf("recommend: report of %s has no results", name)
	}
	var b bytes.Buffer
	err := reportTmpl.Execute(&b, struct {
		Name string
		R    Report
	}{name, r})
	return b.Bytes(), err
}
