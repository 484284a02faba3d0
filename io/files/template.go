package files

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// placeholder is one {name} of a path template.
type placeholder uint8

const (
	literal placeholder = iota
	phKey
	phDate
	phHour
	phWindow
	phPane
	phShard
	phShards
)

var placeholders = map[string]placeholder{
	"key": phKey, "date": phDate, "hour": phHour, "window": phWindow,
	"pane": phPane, "shard": phShard, "shards": phShards,
}

const knownPlaceholders = "{key}, {date}, {hour}, {window}, {pane}, {shard}, {shards}"

type templatePart struct {
	ph  placeholder
	lit string
}

// pathTemplate is a parsed WriteWindowed template: literal text and placeholders, in order.
type pathTemplate struct {
	parts []templatePart
	uses  map[placeholder]bool
}

func parseTemplate(s string) (*pathTemplate, error) {
	t := &pathTemplate{uses: map[placeholder]bool{}}
	for rest := s; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, templatePart{lit: rest})
			break
		}
		if rest[open] == '}' {
			return nil, fmt.Errorf("template %q has a } without its {", s)
		}
		if open > 0 {
			t.parts = append(t.parts, templatePart{lit: rest[:open]})
		}
		end := strings.IndexAny(rest[open+1:], "{}") + open + 1
		if end <= open || rest[end] == '{' {
			return nil, fmt.Errorf("template %q has a { without its }", s)
		}
		name := rest[open+1 : end]
		ph, ok := placeholders[name]
		if !ok {
			return nil, fmt.Errorf("template %q has unknown placeholder {%s} (known: %s)", s, name, knownPlaceholders)
		}
		t.parts = append(t.parts, templatePart{ph: ph})
		t.uses[ph] = true
		rest = rest[end+1:]
	}
	return t, nil
}

// fileFields are the values one output file's name is made of.
type fileFields struct {
	Key           string
	Window        typex.Window
	Pane          int64
	Shard, Shards int
}

func (t *pathTemplate) expand(f fileFields) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ph {
		case literal:
			b.WriteString(p.lit)
		case phKey:
			b.WriteString(escapeKey(f.Key))
		case phDate:
			b.WriteString(windowStart(f.Window).Format("2006-01-02"))
		case phHour:
			b.WriteString(windowStart(f.Window).Format("15"))
		case phWindow:
			b.WriteString(formatWindow(f.Window))
		case phPane:
			b.WriteString(strconv.FormatInt(f.Pane, 10))
		case phShard:
			fmt.Fprintf(&b, "%05d", f.Shard)
		case phShards:
			fmt.Fprintf(&b, "%05d", f.Shards)
		}
	}
	return b.String()
}

// windowStart is the UTC start of an interval window. WriteWindowed refuses {date} and {hour}
// over the global window at construction, so the zero time only shows for a window type the
// SDK does not have today.
func windowStart(w typex.Window) time.Time {
	if iw, ok := asInterval(w); ok {
		return iw.Start.ToTime().UTC()
	}
	return time.Time{}
}

func asInterval(w typex.Window) (window.IntervalWindow, bool) {
	switch w := w.(type) {
	case window.IntervalWindow:
		return w, true
	case *window.IntervalWindow:
		return *w, true
	}
	return window.IntervalWindow{}, false
}

// formatWindow renders a window as compact UTC start-end stamps, to the minute when both ends
// fall on a minute (20261122T1000Z-20261122T1100Z), else to the second, else to the
// millisecond: as short as possible while two distinct windows never share a name.
func formatWindow(w typex.Window) string {
	iw, ok := asInterval(w)
	if !ok {
		if _, global := w.(window.GlobalWindow); global {
			return "global"
		}
		return "unknown"
	}
	layout := "20060102T1504Z"
	switch {
	case iw.Start.Milliseconds()%1000 != 0 || iw.End.Milliseconds()%1000 != 0:
		layout = "20060102T150405.000Z"
	case iw.Start.Milliseconds()%60000 != 0 || iw.End.Milliseconds()%60000 != 0:
		layout = "20060102T150405Z"
	}
	return stamp(iw.Start, layout) + "-" + stamp(iw.End, layout)
}

func stamp(t mtime.Time, layout string) string { return t.ToTime().UTC().Format(layout) }

// escapeKey makes a data-supplied key safe as (part of) one path segment: bytes outside
// [A-Za-z0-9-_.=+,@] become %XX, so a key can never add directories, climb out with "..",
// hide a file behind a leading dot or inject glob characters; distinct keys stay distinct.
// The empty key, which would otherwise collapse a segment, becomes a lone "%", which no
// escaped key can produce.
func escapeKey(k string) string {
	if k == "" {
		return "%"
	}
	clean := k[0] != '.'
	for i := 0; clean && i < len(k); i++ {
		clean = keySafe(k[i])
	}
	if clean {
		return k
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if keySafe(c) && (i > 0 || c != '.') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func keySafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.=+,@", c) >= 0
}
