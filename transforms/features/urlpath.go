package features

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Param is a named value taken from a URL: a path-template parameter or a query parameter.
type Param struct {
	Name  string
	Value string
}

// Templates matches URL paths against path templates such as "/items/{category}/{item}" and
// says what a path means: which template, and the value of each {parameter}.
//
// A template is a list of segments between slashes; a segment is literal text or {name},
// which matches any one non-empty segment, and the last segment may be {name...}, which
// matches the rest of the path (possibly nothing). When several templates match a path, the
// one listed first wins, so list specific templates before general ones. Matching walks a
// trie of segments once per path — no regular expression per request, no allocation — and
// its cost grows with the path's depth, not with the number of templates.
//
// Paths are matched as logged: without the query string, a trailing slash ignored, and
// without percent-decoding (so an encoded slash %2F stays inside its segment).
type Templates struct {
	root      *tnode
	templates []template
}

type template struct {
	text string
	segs []tseg
}

type tseg struct {
	lit   string
	param string // name of {param}, or of {param...} when rest
	rest  bool
}

type tnode struct {
	lits  map[string]*tnode
	param *tnode
	end   int // index of the template ending here, -1 if none
	rest  int // index of a {x...} template whose rest starts here, -1 if none
}

func newNode() *tnode { return &tnode{end: -1, rest: -1} }

// CompileTemplates compiles templates in priority order. A template starts with "/";
// parameter names are unique within a template; a duplicate template is an error.
func CompileTemplates(templates ...string) (*Templates, error) {
	if len(templates) == 0 {
		return nil, errors.New("features: no path templates")
	}
	t := &Templates{root: newNode()}
	for i, text := range templates {
		tp, err := parseTemplate(text)
		if err != nil {
			return nil, fmt.Errorf("features: path template %d %q: %w", i+1, text, err)
		}
		n := t.root
		for _, s := range tp.segs {
			switch {
			case s.rest:
				if n.rest >= 0 {
					return nil, fmt.Errorf("features: path template %d %q repeats template %q", i+1, text, templates[n.rest])
				}
				n.rest = i
			case s.param != "":
				if n.param == nil {
					n.param = newNode()
				}
				n = n.param
			default:
				if n.lits == nil {
					n.lits = map[string]*tnode{}
				}
				c := n.lits[s.lit]
				if c == nil {
					c = newNode()
					n.lits[s.lit] = c
				}
				n = c
			}
		}
		if last := tp.segs; len(last) == 0 || !last[len(last)-1].rest {
			if n.end >= 0 {
				return nil, fmt.Errorf("features: path template %d %q repeats template %q", i+1, text, templates[n.end])
			}
			n.end = i
		}
		t.templates = append(t.templates, tp)
	}
	return t, nil
}

// MustCompileTemplates is CompileTemplates that panics, for templates fixed in code.
func MustCompileTemplates(templates ...string) *Templates {
	t, err := CompileTemplates(templates...)
	if err != nil {
		panic(err)
	}
	return t
}

func parseTemplate(text string) (template, error) {
	if !strings.HasPrefix(text, "/") {
		return template{}, errors.New(`does not start with "/"`)
	}
	tp := template{text: text}
	seen := map[string]bool{}
	body := strings.TrimSuffix(text[1:], "/")
	if body == "" {
		return tp, nil // "/" itself
	}
	parts := strings.Split(body, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			if strings.ContainsAny(p, "{}") {
				return template{}, fmt.Errorf("segment %q mixes text and a {parameter}", p)
			}
			if p == "" {
				return template{}, errors.New("has an empty segment (//)")
			}
			tp.segs = append(tp.segs, tseg{lit: p})
			continue
		}
		if !strings.HasSuffix(p, "}") {
			return template{}, fmt.Errorf("segment %q mixes text and a {parameter}", p)
		}
		name := p[1 : len(p)-1]
		rest := strings.HasSuffix(name, "...")
		name = strings.TrimSuffix(name, "...")
		if name == "" || strings.ContainsAny(name, "{}/") {
			return template{}, fmt.Errorf("segment %q is not a {name}", p)
		}
		if seen[name] {
			return template{}, fmt.Errorf("parameter {%s} appears twice", name)
		}
		seen[name] = true
		if rest && i != len(parts)-1 {
			return template{}, fmt.Errorf("{%s...} is not the last segment", name)
		}
		tp.segs = append(tp.segs, tseg{param: name, rest: rest})
	}
	return tp, nil
}

// Len is the number of templates.
func (t *Templates) Len() int { return len(t.templates) }

// Template returns the text of template i.
func (t *Templates) Template(i int) string { return t.templates[i].text }

// maxDepth bounds the segments kept on the stack; deeper paths are split into a slice.
const maxDepth = 32

// splitSegments splits path (no query) into segments, into buf when they fit.
func splitSegments(path string, buf *[maxDepth]string) []string {
	path = strings.TrimPrefix(path, "/")
	if len(path) > 0 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if path == "" {
		return buf[:0]
	}
	segs := buf[:0]
	for {
		i := strings.IndexByte(path, '/')
		if i < 0 {
			return append(segs, path)
		}
		segs = append(segs, path[:i])
		path = path[i+1:]
	}
}

// Lookup returns the index of the first template that matches path (a query string, if
// any, is ignored), or -1.
func (t *Templates) Lookup(path string) int {
	var buf [maxDepth]string
	return t.root.lookup(splitSegments(stripQuery(path), &buf))
}

// lookup returns the lowest template index matching segs from n, or -1.
func (n *tnode) lookup(segs []string) int {
	best := n.rest
	if len(segs) == 0 {
		return minIndex(best, n.end)
	}
	if c := n.lits[segs[0]]; c != nil {
		best = minIndex(best, c.lookup(segs[1:]))
	}
	if n.param != nil && segs[0] != "" {
		best = minIndex(best, n.param.lookup(segs[1:]))
	}
	return best
}

func minIndex(a, b int) int {
	if a < 0 || (b >= 0 && b < a) {
		return b
	}
	return a
}

// Match returns the first template matching path and its parameters appended to params
// (pass params[:0] of a reused slice to match without allocating), or -1 and params. The
// values are substrings of path, not percent-decoded.
func (t *Templates) Match(path string, params []Param) (int, []Param) {
	path = stripQuery(path)
	var buf [maxDepth]string
	segs := splitSegments(path, &buf)
	i := t.root.lookup(segs)
	if i < 0 {
		return -1, params
	}
	for k, s := range t.templates[i].segs {
		switch {
		case s.rest:
			params = append(params, Param{Name: s.param, Value: restOf(path, segs, k)})
		case s.param != "":
			params = append(params, Param{Name: s.param, Value: segs[k]})
		}
	}
	return i, params
}

// restOf is the part of path from segment k on, as one string (a substring of path).
func restOf(path string, segs []string, k int) string {
	if k >= len(segs) {
		return ""
	}
	// segs are substrings of path in order: find where segment k starts.
	off := 0
	p := strings.TrimPrefix(path, "/")
	off = len(path) - len(p)
	for j := 0; j < k; j++ {
		off += len(segs[j]) + 1
	}
	return strings.TrimSuffix(path[off:], "/")
}

func stripQuery(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}

// SplitPath splits a request target into its path and its query string (without "?").
// A fragment, which browsers never send but scanners do, is dropped.
func SplitPath(target string) (path, query string) {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	path, query, _ = strings.Cut(target, "?")
	return path, query
}

// Ext is the extension of the path's last segment, lower case and without the dot ("" when
// it has none). A query string is ignored.
func Ext(path string) string {
	path = stripQuery(path)
	last := path[strings.LastIndexByte(path, '/')+1:]
	i := strings.LastIndexByte(last, '.')
	if i < 0 || i == len(last)-1 {
		return ""
	}
	return lowerASCII(last[i+1:])
}

// lowerASCII lower-cases s, returning s itself (no allocation) when it has no upper case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// StaticExtensions are the extensions IsStatic treats as static resources: style sheets,
// scripts, images, fonts, media, documents and archives a site serves as files.
var StaticExtensions = []string{
	"css", "js", "mjs", "map",
	"jpg", "jpeg", "png", "gif", "ico", "svg", "webp", "avif", "bmp", "tif", "tiff",
	"woff", "woff2", "ttf", "otf", "eot",
	"mp3", "mp4", "m4a", "m4v", "ogg", "oga", "ogv", "webm", "wav", "flac", "avi", "mov", "mpeg", "mpg", "flv", "swf",
	"pdf", "txt", "csv", "xls", "xlsx", "doc", "docx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
	"zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "exe", "msi", "dmg", "iso", "apk", "deb", "rpm",
}

var staticSet = func() map[string]bool {
	m := make(map[string]bool, len(StaticExtensions))
	for _, e := range StaticExtensions {
		m[e] = true
	}
	return m
}()

// IsStatic reports whether path (query ignored) names a static resource by its extension
// (StaticExtensions, case-insensitive). Everything else — pages, API calls, directories —
// is dynamic. GoAccess decides differently (see GoAccessIsStatic).
func IsStatic(path string) bool {
	e := Ext(path)
	return e != "" && staticSet[e]
}

// QueryValue returns the first value of key in a raw query string (a=1&b=2), percent- and
// plus-decoded, and whether key is present. It does not allocate unless the value is encoded.
func QueryValue(query, key string) (string, bool) {
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key || (strings.ContainsAny(k, "%+") && unescapeQuery(k) == key) {
			return unescapeQuery(v), true
		}
	}
	return "", false
}

// QueryParams lists the parameters of a raw query string in order, decoded; a parameter
// without "=" has an empty value, and empty pieces (a&&b) are skipped.
func QueryParams(query string) []Param {
	var out []Param
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, Param{Name: unescapeQuery(k), Value: unescapeQuery(v)})
	}
	return out
}

// unescapeQuery decodes %xx and + as url.QueryUnescape does, keeping s as logged when it
// is not valid encoding (scanners send broken escapes, and the evidence is worth keeping).
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// ReferrerHost is the host of a referrer URL, lower case, without user info or port: ""
// for an empty or "-" referrer and for one with no "//" (a relative or garbled value).
func ReferrerHost(ref string) string {
	i := strings.Index(ref, "//")
	if i < 0 {
		return ""
	}
	h := ref[i+2:]
	if j := strings.IndexAny(h, "/?#"); j >= 0 {
		h = h[:j]
	}
	if j := strings.LastIndexByte(h, '@'); j >= 0 {
		h = h[j+1:]
	}
	if strings.HasPrefix(h, "[") { // [IPv6]:port
		if j := strings.IndexByte(h, ']'); j >= 0 {
			return lowerASCII(h[:j+1])
		}
	} else if j := strings.LastIndexByte(h, ':'); j >= 0 {
		h = h[:j]
	}
	return lowerASCII(h)
}
