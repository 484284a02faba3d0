package files

import (
	"context"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/reflectx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn1x2[[]byte, string, []byte](&shardBytesFn{})
	register.DoFn1x2[string, string, []byte](&shardStringFn{})
	register.DoFn2x2[string, []byte, string, []byte](&shardKVBytesFn{})
	register.DoFn2x2[string, string, string, []byte](&shardKVStringFn{})
	register.DoFn6x1[context.Context, typex.PaneInfo, typex.Window, string, func(*[]byte) bool, func(string), error](&windowedWriteFn{})
	register.Iter1[[]byte]()
}

// DefaultFileName is the file name WriteWindowed gives a template that ends in "/".
const DefaultFileName = "part-{window}-{pane}-{shard}-of-{shards}"

// WindowedOption adjusts WriteWindowed.
type WindowedOption func(*windowedConfig)

type windowedConfig struct {
	shards int
	suffix string
	header *string
}

// Shards sets how many files each key, window and pane is spread over (default 1). Lines
// go to shards by a hash of their content, so more shards mean more writers in parallel.
func Shards(n int) WindowedOption { return func(c *windowedConfig) { c.shards = n } }

// Suffix is appended to every file name (".jsonl", ".csv.gz"). A name ending in .gz is
// gzip-compressed.
func Suffix(s string) WindowedOption { return func(c *windowedConfig) { c.suffix = s } }

// FileHeader writes line (without its newline) first in every file, e.g. a CSV header.
func FileHeader(line string) WindowedOption { return func(c *windowedConfig) { c.header = &line } }

// WriteWindowed writes each window's lines, per key, per pane and per shard, to one file
// named by template + suffix, and returns the names of the files it wrote, in their windows.
// Placeholders, all taken from the group a file holds:
//
//	{key}     the element's key (KV input only), with bytes other than [A-Za-z0-9-_.=+,@]
//	          and a leading dot %XX-escaped, so data cannot add or climb directories
//	{date}    the window's start in UTC as 2006-01-02; {hour} as 15
//	{window}  the window's start and end in UTC, 20261122T1000Z-20261122T1100Z (seconds or
//	          milliseconds are added when a window boundary needs them); "global" in the global window
//	{pane}    the pane's index: 0 for the first firing of the window, 1 for the next, ...
//	{shard}   the shard, 00000 .. {shards}-1; {shards} the shard count
//
// A template ending in "/" gets DefaultFileName. Every file name a WriteWindowed can make is
// distinct for distinct (key, window, pane, shard): the template must carry {window} and {pane},
// {key} for KV input and {shard} when Shards > 1, and {date} or {hour} need windowed input
// (beam.WindowInto). Breaking these rules, or Shards < 1, panics at construction.
//
// Each file is written under a hidden temporary name in its final directory
// (.<name>.tmp-<16 hex digits>, which globs ending in the suffix do not match and List and
// Read skip) and then renamed to its final name: readers never see a partial file, and a
// retried bundle rewrites the same final name with the same lines. A worker that dies
// between the two steps can leave a temporary file behind; one that fails cleanly removes it.
// Late data (within the allowed lateness) fires a further pane, so it adds a file. Each pane gets its own file, so
// with an accumulating trigger later panes repeat earlier lines: use discarding mode
// (the default) for files that partition the input. Lines within a file are in the order
// the runner grouped them.
//
//	in:  PCollection<[]byte> or PCollection<string>: one line each, without its newline;
//	     or PCollection<KV<string, []byte>> / PCollection<KV<string, string>>: the key fills {key}
//	out: PCollection<string>: the final file names, one per file written
//
// Example, hourly files per source of events keyed by source:
//
//	hourly := beam.WindowInto(s, window.NewFixedWindows(time.Hour), bySource) // KV<string, []byte>
//	files.WriteWindowed(s, "gs://lake/raw/source={key}/dt={date}/hour={hour}/", hourly,
//		files.Suffix(".jsonl.gz"), files.Shards(3))
//	// gs://lake/raw/source=web/dt=2026-11-22/hour=10/part-20261122T1000Z-20261122T1100Z-0-00001-of-00003.jsonl.gz
func WriteWindowed(s beam.Scope, template string, in beam.PCollection, opts ...WindowedOption) beam.PCollection {
	c := windowedConfig{shards: 1}
	for _, o := range opts {
		o(&c)
	}
	keyed, byteValues := windowedInputType(in)
	full, err := checkWindowed(template, c, keyed, in.WindowingStrategy())
	if err != nil {
		panic("files.WriteWindowed: " + err.Error())
	}
	s = s.Scope(fmt.Sprintf("files.WriteWindowed(%s)", full))

	var sharded beam.PCollection
	switch {
	case keyed && byteValues:
		sharded = beam.ParDo(s, &shardKVBytesFn{Shards: c.shards}, in)
	case keyed:
		sharded = beam.ParDo(s, &shardKVStringFn{Shards: c.shards}, in)
	case byteValues:
		sharded = beam.ParDo(s, &shardBytesFn{Shards: c.shards}, in)
	default:
		sharded = beam.ParDo(s, &shardStringFn{Shards: c.shards}, in)
	}
	w := &windowedWriteFn{Template: full, Shards: c.shards}
	if c.header != nil {
		w.Header, w.HasHeader = *c.header, true
	}
	return beam.ParDo(s, w, beam.GroupByKey(s, sharded))
}

// windowedInputType tells the four element types WriteWindowed takes apart, and panics on any other.
func windowedInputType(in beam.PCollection) (keyed, byteValues bool) {
	t := in.Type()
	line := func(ft typex.FullType) (bytes, ok bool) {
		switch ft.Type() {
		case reflectx.ByteSlice:
			return true, true
		case reflectx.String:
			return false, true
		}
		return false, false
	}
	if typex.IsKV(t) {
		k, v := t.Components()[0], t.Components()[1]
		b, ok := line(v)
		if k.Type() != reflectx.String || !ok {
			panic(fmt.Sprintf("files.WriteWindowed: in holds %v; want KV<string, []byte> or KV<string, string> (the key fills {key})", t))
		}
		return true, b
	}
	b, ok := line(t)
	if !ok {
		panic(fmt.Sprintf("files.WriteWindowed: in holds %v; want []byte or string lines, or KV<string, []byte|string>", t))
	}
	return false, b
}

// checkWindowed validates a WriteWindowed configuration and returns the full file template.
func checkWindowed(template string, c windowedConfig, keyed bool, ws *window.WindowingStrategy) (string, error) {
	if template == "" {
		return "", fmt.Errorf("template is empty; give a path such as raw/dt={date}/hour={hour}/")
	}
	if c.shards < 1 {
		return "", fmt.Errorf("Shards(%d): the shard count must be at least 1", c.shards)
	}
	if strings.ContainsAny(c.suffix, "{}/") {
		return "", fmt.Errorf("Suffix(%q): a suffix holds no placeholder and no /", c.suffix)
	}
	if c.header != nil && strings.ContainsAny(*c.header, "\r\n") {
		return "", fmt.Errorf("FileHeader(%q): the header is one line, without its newline", *c.header)
	}
	full := template
	if strings.HasSuffix(full, "/") {
		full += DefaultFileName
	}
	full += c.suffix
	t, err := parseTemplate(full)
	if err != nil {
		return "", err
	}
	need := func(ph placeholder, why string) error {
		if !t.uses[ph] {
			return fmt.Errorf("template %q lacks %s", full, why)
		}
		return nil
	}
	switch {
	case keyed:
		if err := need(phKey, "{key}: KV input needs it so that keys never share a file"); err != nil {
			return "", err
		}
	case t.uses[phKey]:
		return "", fmt.Errorf("template %q uses {key} but in is not keyed; pass KV<string, []byte|string>", full)
	}
	if err := need(phWindow, "{window}: each window needs files of its own"); err != nil {
		return "", err
	}
	if err := need(phPane, "{pane}: each firing of a window needs files of its own"); err != nil {
		return "", err
	}
	if c.shards > 1 {
		if err := need(phShard, fmt.Sprintf("{shard}: Shards(%d) writes several files per group", c.shards)); err != nil {
			return "", err
		}
	}
	if (t.uses[phDate] || t.uses[phHour]) && ws != nil && ws.Fn != nil && ws.Fn.Kind == window.GlobalWindows {
		return "", fmt.Errorf("template %q uses {date} or {hour} but in is in the global window; apply beam.WindowInto first", full)
	}
	base := full[strings.LastIndexByte(full, '/')+1:]
	if base == "" || base == "." || base == ".." {
		return "", fmt.Errorf("template %q names no file", full)
	}
	if strings.HasPrefix(full, "{") {
		// A relative local path; ValidateScheme below would read the placeholder as part of a scheme.
		return full, nil
	}
	filesystem.ValidateScheme(full)
	return full, nil
}

// Grouping key: "<shard>/<key>". A string keeps the GroupByKey coder simple and deterministic.

func groupKeyParts(k string) (shard int, key string) {
	i := strings.IndexByte(k, '/')
	shard, _ = strconv.Atoi(k[:i])
	return shard, k[i+1:]
}

// groupKeys caches the grouping keys of recent partition keys, so the per-line path does not
// build a string per element. It is dropped when it grows past maxCachedKeys.
type groupKeys map[string][]string

const maxCachedKeys = 4096

func (g *groupKeys) of(key string, shard, shards int) string {
	ks, ok := (*g)[key]
	if !ok {
		if *g == nil || len(*g) >= maxCachedKeys {
			*g = groupKeys{}
		}
		ks = make([]string, shards)
		(*g)[key] = ks
	}
	if ks[shard] == "" {
		ks[shard] = strconv.Itoa(shard) + "/" + key
	}
	return ks[shard]
}

// shardOf picks a line's shard from a CRC-32C of its bytes: the same on every worker and
// retry, free of allocation, and computed in hardware on amd64 and arm64 (FNV-1a, byte by
// byte, took several times longer on a 200-byte line).
func shardOf(line []byte, shards int) int {
	if shards == 1 {
		return 0
	}
	return int(crc32.Checksum(line, castagnoli) % uint32(shards))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type shardBytesFn struct {
	Shards int `json:"shards"`
	keys   groupKeys
}

func (f *shardBytesFn) ProcessElement(line []byte) (string, []byte) {
	return f.keys.of("", shardOf(line, f.Shards), f.Shards), line
}

type shardStringFn struct {
	Shards int `json:"shards"`
	keys   groupKeys
}

func (f *shardStringFn) ProcessElement(line string) (string, []byte) {
	b := []byte(line)
	return f.keys.of("", shardOf(b, f.Shards), f.Shards), b
}

type shardKVBytesFn struct {
	Shards int `json:"shards"`
	keys   groupKeys
}

func (f *shardKVBytesFn) ProcessElement(key string, line []byte) (string, []byte) {
	return f.keys.of(key, shardOf(line, f.Shards), f.Shards), line
}

type shardKVStringFn struct {
	Shards int `json:"shards"`
	keys   groupKeys
}

func (f *shardKVStringFn) ProcessElement(key string, line string) (string, []byte) {
	b := []byte(line)
	return f.keys.of(key, shardOf(b, f.Shards), f.Shards), b
}

type windowedWriteFn struct {
	Template  string `json:"template"` // with DefaultFileName and suffix applied
	Shards    int    `json:"shards"`
	Header    string `json:"header,omitempty"`
	HasHeader bool   `json:"has_header,omitempty"`

	tmpl *pathTemplate
	fs   filesystem.Interface
	out  lineFile
}

func (f *windowedWriteFn) Setup(ctx context.Context) error {
	t, err := parseTemplate(f.Template)
	if err != nil {
		return err
	}
	f.tmpl = t
	f.fs, err = filesystem.New(ctx, f.Template)
	return err
}

func (f *windowedWriteFn) Teardown() error {
	if f.fs != nil {
		return f.fs.Close()
	}
	return nil
}

// ProcessElement writes one group: the lines of one key and shard in one window and pane.
func (f *windowedWriteFn) ProcessElement(ctx context.Context, pane typex.PaneInfo, w typex.Window, group string, lines func(*[]byte) bool, emit func(string)) error {
	var line []byte
	if !lines(&line) {
		return nil // an empty pane writes no file
	}
	shard, key := groupKeyParts(group)
	final := f.tmpl.expand(fileFields{Key: key, Window: w, Pane: pane.Index, Shard: shard, Shards: f.Shards})
	tmp := tempNameFor(final)
	if err := f.write(ctx, tmp, strings.HasSuffix(final, ".gz"), line, lines); err != nil {
		f.discard(ctx, tmp)
		return fmt.Errorf("files.WriteWindowed: %w", err)
	}
	// Local: rename(2), atomic, replacing what a previous attempt left. gs://: a server-side
	// copy (the object appears whole) and a delete of the temporary object.
	if err := filesystem.Rename(ctx, f.fs, tmp, final); err != nil {
		f.discard(ctx, tmp)
		return fmt.Errorf("files.WriteWindowed: renaming %s to %s: %w", tmp, final, err)
	}
	emit(final)
	return nil
}

func (f *windowedWriteFn) write(ctx context.Context, tmp string, zipped bool, first []byte, lines func(*[]byte) bool) error {
	if err := f.out.create(ctx, f.fs, tmp, zipped); err != nil {
		return err
	}
	if f.HasHeader {
		f.out.writeLine([]byte(f.Header))
	}
	line := first
	for ok := true; ok; ok = lines(&line) {
		f.out.writeLine(line)
	}
	return f.out.close()
}

// discard removes a temporary file after a failure, as far as it can: the error that led
// here is the one worth reporting.
func (f *windowedWriteFn) discard(ctx context.Context, tmp string) {
	_ = f.out.close()
	if rm, ok := f.fs.(filesystem.Remover); ok {
		_ = rm.Remove(ctx, tmp)
	}
}

// tempNameFor puts the temporary file beside its final name, so a local rename never crosses
// filesystems, hidden by a leading dot and ending in .tmp-<random>, so globs on the suffix skip
// it. The random part keeps two attempts at one group, running at once, apart.
func tempNameFor(final string) string {
	dir, base := splitDir(final)
	return join(dir, "."+base+tempMark+randomID())
}

const tempMark = ".tmp-"

// isTempName reports whether name is one tempNameFor makes: .<base>.tmp-<16 hex digits>.
func isTempName(name string) bool {
	_, base := splitDir(name)
	i := strings.LastIndex(base, tempMark)
	if !strings.HasPrefix(base, ".") || i < 1 || len(base)-i-len(tempMark) != 16 {
		return false
	}
	for _, c := range base[i+len(tempMark):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// LateWindows puts streaming elements into fixed windows of size for WriteWindowed: each
// window fires once when the watermark passes its end, and again for each late element
// within lateness, so a late element adds a pane file rather than being dropped. Panes
// discard, so a late pane holds only the late elements.
//
//	in, out: PCollection<T>
func LateWindows(s beam.Scope, size, lateness time.Duration, in beam.PCollection) beam.PCollection {
	if size <= 0 || lateness < 0 {
		panic(fmt.Sprintf("files.LateWindows: window %s must be positive and lateness %s not negative", size, lateness))
	}
	return beam.WindowInto(s, window.NewFixedWindows(size), in,
		beam.Trigger(trigger.AfterEndOfWindow().LateFiring(trigger.Always())),
		beam.AllowedLateness(lateness), beam.PanesDiscard())
}
