package files

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(string), error](&writeFn{})
	register.DoFn4x1[context.Context, int, func(*string) bool, func(string), error](&finalizeFn{})
}

// DefaultMaxRecordsPerFile bounds a shard; a bundle holding more records writes several.
const DefaultMaxRecordsPerFile = 250_000

// WriteOption adjusts WriteLines.
type WriteOption func(*writeFn)

// MaxRecordsPerFile sets the records per shard before a new one is started.
func MaxRecordsPerFile(n int) WriteOption { return func(f *writeFn) { f.MaxRecords = n } }

// WriteLines writes each element as one line to files named
// <prefix>-<shard>-of-<n><suffix> (part-00000-of-00003.jsonl); a suffix ending in .gz is
// gzip-compressed. prefix is a local path or gs:// object prefix.
//
// Shards follow the runner's bundles, so no data is shuffled: each bundle writes its own
// temporary files under <dir>/.temp-<id>/, and once all are written a final step renames them
// to their shard names. A retried bundle's abandoned temporary files are never renamed.
// The final names are returned.
//
//	lines: PCollection<[]byte> (each without its newline)
//	out:   PCollection<string> (file names written)
func WriteLines(s beam.Scope, prefix, suffix string, lines beam.PCollection, opts ...WriteOption) beam.PCollection {
	if prefix == "" {
		panic("files.WriteLines: prefix is empty")
	}
	filesystem.ValidateScheme(prefix)
	s = s.Scope(fmt.Sprintf("files.WriteLines(%s*%s)", prefix, suffix))
	id := randomID()
	dir, _ := splitDir(prefix)
	f := &writeFn{TempDir: join(dir, ".temp-"+id), Suffix: suffix, MaxRecords: DefaultMaxRecordsPerFile}
	for _, o := range opts {
		o(f)
	}
	written := beam.ParDo(s, f, lines)
	// All temporary names meet at one key for the rename. An empty input writes no file.
	keyed := beam.AddFixedKey(s, written)
	return beam.ParDo(s, &finalizeFn{Prefix: prefix, Suffix: suffix, TempDir: f.TempDir}, beam.GroupByKey(s, keyed))
}

func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func splitDir(p string) (dir, base string) {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return ".", p
	}
	return p[:i], p[i+1:]
}

// Join joins the parts of a local path or gs:// address with single slashes, keeping each
// part as given (no cleaning, so "gs://b" stays a URL): Join("gs://b/out", "clean", "part").
func Join(parts ...string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		if out != "" && !strings.HasSuffix(out, "/") {
			out += "/"
		}
		out += p
	}
	return out
}

func join(dir, name string) string {
	if strings.Contains(dir, "://") {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return path.Join(dir, name)
}

type writeFn struct {
	TempDir    string `json:"temp_dir"`
	Suffix     string `json:"suffix"`
	MaxRecords int    `json:"max_records"`

	fs    filesystem.Interface
	out   lineFile
	count int
}

func (f *writeFn) Setup(ctx context.Context) error {
	var err error
	f.fs, err = filesystem.New(ctx, f.TempDir)
	return err
}

func (f *writeFn) Teardown() error {
	if f.fs != nil {
		return f.fs.Close()
	}
	return nil
}

func (f *writeFn) close(emit func(string)) error {
	if !f.out.isOpen() {
		return nil
	}
	if err := f.out.close(); err != nil {
		return fmt.Errorf("files.WriteLines: %w", err)
	}
	emit(f.out.name)
	return nil
}

func (f *writeFn) ProcessElement(ctx context.Context, line []byte, emit func(string)) error {
	if !f.out.isOpen() {
		if err := f.out.create(ctx, f.fs, join(f.TempDir, randomID()+f.Suffix), strings.HasSuffix(f.Suffix, ".gz")); err != nil {
			return fmt.Errorf("files.WriteLines: %w", err)
		}
		f.count = 0
	}
	f.out.writeLine(line)
	if f.count++; f.MaxRecords > 0 && f.count >= f.MaxRecords {
		return f.close(emit)
	}
	return nil
}

func (f *writeFn) FinishBundle(emit func(string)) error { return f.close(emit) }

// lineFile writes newline-terminated lines to one file at a time, gzip-compressed or not.
// Its buffer and compressor are reset, not reallocated, for the next
// file: a gzip.Writer costs hundreds of kilobytes, and a windowed write opens a file per group.
type lineFile struct {
	name   string
	raw    io.WriteCloser
	zw     *gzip.Writer
	zipped bool
	buf    *bufio.Writer
}

func (l *lineFile) isOpen() bool { return l.raw != nil }

// create opens name for writing; zipped, typically from the final name's .gz, asks for gzip
// (a temporary name does not end in .gz).
func (l *lineFile) create(ctx context.Context, fs filesystem.Interface, name string, zipped bool) error {
	raw, err := fs.OpenWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	l.name, l.raw = name, raw
	var w io.Writer = raw
	if l.zipped = zipped; zipped {
		if l.zw == nil {
			l.zw = gzip.NewWriter(raw)
		} else {
			l.zw.Reset(raw)
		}
		w = l.zw
	}
	if l.buf == nil {
		l.buf = bufio.NewWriterSize(w, 256<<10)
	} else {
		l.buf.Reset(w)
	}
	return nil
}

// writeLine buffers line and a newline. A write error sticks in the buffer and close reports it.
func (l *lineFile) writeLine(line []byte) {
	l.buf.Write(line)
	l.buf.WriteByte('\n')
}

func (l *lineFile) close() error {
	if l.raw == nil {
		return nil
	}
	err := l.buf.Flush()
	if l.zipped {
		if e := l.zw.Close(); err == nil {
			err = e
		}
	}
	if e := l.raw.Close(); err == nil {
		err = e
	}
	l.raw = nil
	l.buf.Reset(io.Discard) // drop the reference to the closed file
	if err != nil {
		return fmt.Errorf("writing %s: %w", l.name, err)
	}
	return nil
}

type finalizeFn struct {
	Prefix  string `json:"prefix"`
	Suffix  string `json:"suffix"`
	TempDir string `json:"temp_dir"`
}

func (f *finalizeFn) ProcessElement(ctx context.Context, _ int, temps func(*string) bool, emit func(string)) error {
	var names []string
	var n string
	for temps(&n) {
		names = append(names, n)
	}
	sort.Strings(names) // a deterministic order, so a retried finalize renames alike
	fs, err := filesystem.New(ctx, f.Prefix)
	if err != nil {
		return err
	}
	defer fs.Close()
	for i, tmp := range names {
		final := fmt.Sprintf("%s-%05d-of-%05d%s", f.Prefix, i, len(names), f.Suffix)
		if err := filesystem.Rename(ctx, fs, tmp, final); err != nil {
			// A retried finalize finds the files it renamed before it failed already in place.
			if _, statErr := fs.Size(ctx, tmp); statErr == nil {
				return fmt.Errorf("files.WriteLines: renaming %s to %s: %w", tmp, final, err)
			}
			if _, statErr := fs.Size(ctx, final); statErr != nil {
				return fmt.Errorf("files.WriteLines: renaming %s to %s: %w (and the target is not there)", tmp, final, err)
			}
		}
		emit(final)
	}
	// Leftovers are temporary files of retried bundles.
	if left, err := fs.List(ctx, join(f.TempDir, "*")); err == nil {
		if rm, ok := fs.(filesystem.Remover); ok {
			for _, l := range left {
				_ = rm.Remove(ctx, l)
			}
		}
	}
	if !strings.Contains(f.TempDir, "://") {
		_ = os.Remove(f.TempDir) // empty by now; a local directory outlives its files
	}
	return nil
}
