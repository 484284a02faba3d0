package main

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// Report renders s as one self-contained HTML page: inline CSS, charts as inline SVG drawn
// here, no script and nothing fetched from anywhere.
func Report(s Summary, now time.Time) ([]byte, error) {
	hours := make([]bar, len(s.HitsPerHour))
	for i, h := range s.HitsPerHour {
		hours[i] = bar{Label: shortTime(h.Time), Value: h.Hits, Errors: h.Errors}
	}
	minutes := make([]bar, len(s.HitsPerMinute))
	for i, m := range s.HitsPerMinute {
		minutes[i] = bar{Label: shortTime(m.Time), Value: m.Hits, Errors: m.Errors}
	}
	days := make([]bar, len(s.Days))
	for i, d := range s.Days {
		days[i] = bar{Label: d.Day, Value: d.Visitors}
	}
	classes := []bar{}
	for _, c := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"} {
		if n := s.StatusClasses[c]; n > 0 {
			classes = append(classes, bar{Label: c, Value: n, Color: classColor(c)})
		}
	}
	codes := []bar{}
	for code, n := range s.Status {
		codes = append(codes, bar{Label: code, Value: n, Color: classColor(code[:1] + "xx")})
	}
	sortBars(codes)
	data := map[string]any{
		"S":        s,
		"Now":      now.Format("2006-01-02 15:04 UTC"),
		"Hours":    columns(hours, "hits per hour"),
		"Minutes":  columns(minutes, "hits per minute (5xx in red)"),
		"Days":     columns(days, "unique visitors per day"),
		"Classes":  rows(classes),
		"Codes":    rows(codes),
		"Browsers": rows(nameBars(s.Browsers, 12)),
		"OS":       rows(nameBars(s.OS, 12)),
	}
	var b bytes.Buffer
	if err := reportTmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("report.html: %w", err)
	}
	return b.Bytes(), nil
}

// thousands formats n as 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// humanBytes formats n bytes as 1.2 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func percent(part, whole int64) string {
	if whole == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func shortTime(t string) string {
	if i := strings.IndexByte(t, 'T'); i >= 0 {
		if len(t) == i+3 { // an hour
			return t[:i] + " " + t[i+1:] + ":00"
		}
		return t[i+1:]
	}
	return t
}

type bar struct {
	Label  string
	Value  int64
	Errors int64
	Color  string
}

func sortBars(b []bar) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j].Label < b[j-1].Label; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}

func nameBars(items []NameHits, n int) []bar {
	out := []bar{}
	for i, it := range items {
		if i == n {
			break
		}
		out = append(out, bar{Label: it.Name, Value: it.Hits})
	}
	return out
}

func classColor(c string) string {
	switch c {
	case "2xx":
		return "#2e9d5b"
	case "3xx":
		return "#3b7dd8"
	case "4xx":
		return "#e2a300"
	case "5xx":
		return "#d64545"
	}
	return "#888"
}

// columns draws a vertical bar chart; a bar's Errors are drawn in red over its base.
func columns(bars []bar, title string) template.HTML {
	if len(bars) == 0 {
		return template.HTML(`<p class="empty">no data</p>`)
	}
	const w, h, left, bottom, top = 900, 240, 56, 42, 12
	var maxV int64 = 1
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	plotW, plotH := float64(w-left-10), float64(h-bottom-top)
	bw := min(plotW/float64(len(bars)), 64) // a few bars stay bars, not slabs
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`, w, h, html.EscapeString(title))
	for i := 0; i <= 4; i++ { // grid and axis labels
		y := float64(top) + plotH*float64(4-i)/4
		fmt.Fprintf(&sb, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="axis" text-anchor="end">%s</text>`,
			left, w-10, y, y, left-6, y+4, thousands(maxV*int64(i)/4))
	}
	every := max(1, len(bars)/12)
	for i, b := range bars {
		x := float64(left) + bw*float64(i)
		bh := plotH * float64(b.Value) / float64(maxV)
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>%s: %s</title></rect>`,
			x+bw*0.1, float64(top)+plotH-bh, bw*0.8, bh, html.EscapeString(b.Label), thousands(b.Value))
		if b.Errors > 0 {
			eh := plotH * float64(b.Errors) / float64(maxV)
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="err"><title>%s: %s 5xx</title></rect>`,
				x+bw*0.1, float64(top)+plotH-eh, bw*0.8, eh, html.EscapeString(b.Label), thousands(b.Errors))
		}
		if i%every == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`, x+bw/2, h-bottom+16, html.EscapeString(b.Label))
		}
		if len(bars) <= 31 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" class="val" text-anchor="middle">%s</text>`, x+bw/2, float64(top)+plotH-bh-3, thousands(b.Value))
		}
	}
	fmt.Fprintf(&sb, `<text x="%d" y="%d" class="axis">%s</text></svg>`, left, h-6, html.EscapeString(title))
	return template.HTML(sb.String())
}

// rows draws a horizontal bar chart with the value and share of each bar.
func rows(bars []bar) template.HTML {
	if len(bars) == 0 {
		return template.HTML(`<p class="empty">no data</p>`)
	}
	const w, rowH, labelW = 440, 24, 150
	var total, maxV int64 = 0, 1
	for _, b := range bars {
		total += b.Value
		maxV = max(maxV, b.Value)
	}
	h := rowH*len(bars) + 4
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg viewBox="0 0 %d %d" width="100%%">`, w, h)
	for i, b := range bars {
		y := i*rowH + 2
		bw := float64(w-labelW-110) * float64(b.Value) / float64(maxV)
		color := b.Color
		if color == "" {
			color = "#5b6ee1"
		}
		label := b.Label
		if len(label) > 24 {
			label = label[:23] + "…"
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" class="lbl" text-anchor="end">%s</text>`, labelW-6, y+16, html.EscapeString(label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s: %s</title></rect>`,
			labelW, y+3, max(bw, 1), rowH-6, color, html.EscapeString(b.Label), thousands(b.Value))
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" class="val2">%s · %s</text>`, float64(labelW)+bw+6, y+16, thousands(b.Value), percent(b.Value, total))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"n": thousands, "inc": func(i int) int { return i + 1 }, "bytes": humanBytes, "pct": percent,
	"rate": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Access log report — {{.S.Input}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b8c0d0}
main{max-width:1100px;margin:0 auto;padding:20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:16px}
.card{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:24px}.card span{color:#667}
section{background:#fff;border-radius:8px;padding:14px 18px;margin-bottom:16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
section h2{font-size:16px;margin:0 0 10px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}.two section{margin:0}
@media (max-width:800px){.two{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceef2}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.path{word-break:break-all;font-family:ui-monospace,monospace;font-size:12.5px}
.grid{stroke:#e6e8ee}.axis{font-size:11px;fill:#667}.val{font-size:10px;fill:#334}.val2{font-size:12px;fill:#334}.lbl{font-size:12px;fill:#1d2330}
.bar{fill:#5b6ee1}.err{fill:#d64545}.empty{color:#889}
.ok{color:#2e9d5b}.alarm{color:#d64545;font-weight:600}
</style></head><body>
<header><h1>Access log report</h1><p>{{.S.Input}} · format {{.S.LogFormat}} · generated {{.Now}}</p></header>
<main>
<div class="cards">
<div class="card"><b id="requests">{{n .S.Requests}}</b><span>requests</span></div>
<div class="card"><b id="visitors">{{n .S.UniqueVisitors}}</b><span>unique visitors</span></div>
<div class="card"><b id="bandwidth" title="{{n .S.Bytes}} bytes">{{bytes .S.Bytes}}</b><span>bandwidth ({{n .S.Bytes}} bytes)</span></div>
<div class="card"><b>{{n .S.DistinctPaths}}</b><span>distinct requests</span></div>
<div class="card"><b>{{n .S.LinesRead}}</b><span>lines read</span></div>
<div class="card"><b>{{n .S.Dead}}</b><span>lines not parsed ({{pct .S.Dead .S.LinesRead}})</span></div>
<div class="card"><b class="{{if .S.Alarms}}alarm{{else}}ok{{end}}">{{len .S.Alarms}}</b><span>error-rate alarms</span></div>
</div>

<section><h2>Hits per hour</h2>{{.Hours}}</section>
<section><h2>Hits per minute</h2>{{.Minutes}}</section>

<div class="two">
<section><h2>Status classes</h2>{{.Classes}}</section>
<section><h2>Status codes</h2>{{.Codes}}</section>
</div>
<br>
<section><h2>Unique visitors per day</h2>{{.Days}}
<table><tr><th>day</th><th class="num">hits</th><th class="num">visitors</th><th class="num">bytes</th></tr>
{{range .S.Days}}<tr><td>{{.Day}}</td><td class="num">{{n .Hits}}</td><td class="num">{{n .Visitors}}</td><td class="num">{{bytes .Bytes}}</td></tr>
{{end}}</table></section>

<section><h2>Error-rate alarms</h2>
<p>A minute alarms when it has at least {{.S.MinRequests}} requests and more than {{rate .S.ErrorRate}} of them are 5xx.</p>
{{if .S.Alarms}}<table><tr><th>minute</th><th class="num">requests</th><th class="num">5xx</th><th class="num">share</th></tr>
{{range .S.Alarms}}<tr class="alarm"><td>{{.Minute}}</td><td class="num">{{n .Requests}}</td><td class="num">{{n .Errors}}</td><td class="num">{{rate .Rate}}</td></tr>
{{end}}</table>{{else}}<p class="ok">No minute crossed the threshold.</p>{{end}}</section>

<section><h2>Top requested paths</h2>
<p>Requests that are neither 404 nor static files, by target (query string included), method and protocol — GoAccess's “requests” panel.</p>
<table><tr><th>#</th><th>path</th><th>method</th><th class="num">hits</th><th class="num">share</th><th class="num">bytes</th></tr>
{{range $i, $p := .S.TopPaths}}<tr><td>{{inc $i}}</td><td class="path">{{$p.Path}}</td><td>{{$p.Method}}</td><td class="num">{{n $p.Hits}}</td><td class="num">{{pct $p.Hits $.S.Requests}}</td><td class="num">{{bytes $p.Bytes}}</td></tr>
{{end}}</table></section>

<div class="two">
<section><h2>Top 404 paths</h2>
{{if .S.Top404}}<table><tr><th>path</th><th class="num">hits</th></tr>
{{range .S.Top404}}<tr><td class="path">{{.Path}}</td><td class="num">{{n .Hits}}</td></tr>
{{end}}</table>{{else}}<p class="empty">no 404s</p>{{end}}</section>
<section><h2>Top static files</h2>
{{if .S.TopStatic}}<table><tr><th>path</th><th class="num">hits</th></tr>
{{range .S.TopStatic}}<tr><td class="path">{{.Path}}</td><td class="num">{{n .Hits}}</td></tr>
{{end}}</table>{{else}}<p class="empty">no static files</p>{{end}}</section>
</div>
<br>
<div class="two">
<section><h2>Browsers</h2>{{.Browsers}}</section>
<section><h2>Operating systems</h2>{{.OS}}</section>
</div>
<br>
<section><h2>Referring sites</h2>
{{if .S.Referrers}}<table><tr><th>site</th><th class="num">hits</th></tr>
{{range .S.Referrers}}<tr><td class="path">{{.Name}}</td><td class="num">{{n .Hits}}</td></tr>
{{end}}</table>{{else}}<p class="empty">no referrers</p>{{end}}</section>

<section><h2>Lines not parsed</h2>
<p>{{n .S.LinesRead}} lines read = {{n .S.Parsed}} parsed + {{n .S.Dead}} dead{{if .S.SinkRefused}} − {{n .S.SinkRefused}} parsed but refused by the table (in dead){{end}}{{if .S.Balanced}} <span class="ok">✓</span>{{else}} <span class="alarm">— does not balance</span>{{end}}. Each dead line is in the dead letters (--dead_letter, by default dead/part-*.jsonl) with its file, line number and reason.</p>
{{if .S.DeadByReason}}<table><tr><th>reason</th><th class="num">lines</th></tr>
{{range $r, $c := .S.DeadByReason}}<tr><td>{{$r}}</td><td class="num">{{n $c}}</td></tr>
{{end}}</table>{{end}}</section>
</main></body></html>
`))
