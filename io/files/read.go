// Package files reads and writes line files on any Beam filesystem: local paths and gs://
// (Google Cloud Storage, or fake-gcs-server through STORAGE_EMULATOR_HOST), plain or gzip.
//
//	raw := files.Read(s, "gs://bucket/web/*.jsonl.gz")   // PCollection<record.Record>
//	files.WriteLines(s, "out/clean/part", ".jsonl", lines) // PCollection<[]byte>
//
// Streaming output goes through WriteWindowed: one file per key, window, pane and shard.
//
//	files.WriteWindowed(s, "gs://lake/raw/source={key}/dt={date}/hour={hour}/", hourly, files.Suffix(".jsonl.gz"))
package files

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"   // gs://
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(string), error](&expandFn{})
	register.DoFn3x1[context.Context, string, func(record.Record), error](&readFn{})
	register.Emitter1[string]()
	register.Emitter1[record.Record]()
}

// DefaultMaxLine caps the bytes kept of one line. A longer line is still one record, cut to
// this size with attribute "beamline.truncated" = "true"; clean.Parse rejects it as too_large,
// so it reaches the dead letter instead of exhausting a worker's memory.
const DefaultMaxLine = 64 << 20

// ReadOption adjusts Read.
type ReadOption func(*readFn)

// WithHeader treats the first line of every file as a header: it is not emitted as a record
// but attached to each record of the file (record.Header) for clean.Parse to map CSV fields by.
func WithHeader() ReadOption { return func(f *readFn) { f.Header = true } }

// WithMaxLine sets the per-line cap (default DefaultMaxLine).
func WithMaxLine(n int) ReadOption { return func(f *readFn) { f.MaxLine = n } }

// Read emits every line of the files matching glob as a record.Record with Payload (the line
// without its \n or \r\n), Origin (the file) and Offset (the 1-based line number). Files that
// start with the gzip magic number are decompressed, whatever their name. A UTF-8
// byte-order mark at the start of a file is dropped. A glob matching no file fails the pipeline
// with a message naming it: a typo in a path must not look like an empty day.
//
//	out: PCollection<record.Record>
func Read(s beam.Scope, glob string, opts ...ReadOption) beam.PCollection {
	if glob == "" {
		panic("files.Read: glob is empty")
	}
	filesystem.ValidateScheme(glob)
	s = s.Scope(fmt.Sprintf("files.Read(%s)", glob))
	f := &readFn{MaxLine: DefaultMaxLine}
	for _, o := range opts {
		o(f)
	}
	names := beam.ParDo(s, &expandFn{}, beam.Create(s, []byte(glob)))
	// Reshuffle spreads the files over workers on distributed runners.
	return beam.ParDo(s, f, beam.Reshuffle(s, names))
}

type expandFn struct{}

func (expandFn) ProcessElement(ctx context.Context, glob []byte, emit func(string)) error {
	names, err := List(ctx, string(glob))
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("files.Read: no file matches %q", glob)
	}
	for _, n := range names {
		emit(n)
	}
	return nil
}

// List returns the files matching glob, sorted. Files WriteWindowed is still writing (or
// abandoned when a worker died) are left out, whatever the glob: a reader never sees half a file.
func List(ctx context.Context, glob string) ([]string, error) {
	fs, err := filesystem.New(ctx, glob)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	names, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", glob, err)
	}
	kept := names[:0]
	for _, n := range names {
		if !isTempName(n) {
			kept = append(kept, n)
		}
	}
	sort.Strings(kept)
	return kept, nil
}

type readFn struct {
	Header  bool `json:"header"`
	MaxLine int  `json:"max_line"`
}

func (f *readFn) ProcessElement(ctx context.Context, name string, emit func(record.Record)) error {
	return ReadFile(ctx, name, f.Header, f.MaxLine, func(r record.Record) error {
		emit(r)
		return nil
	})
}

var gzipMagic = []byte{0x1f, 0x8b}

// ReadFile calls fn with each line of one file as Read describes.
func ReadFile(ctx context.Context, name string, header bool, maxLine int, fn func(record.Record) error) error {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, name)
	if err != nil {
		return fmt.Errorf("opening %s: %w", name, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	var in io.Reader = br
	// The magic number decides, not the name: GCS serves objects stored with
	// Content-Encoding: gzip already decompressed, whatever they are called.
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading %s as gzip: %w", name, err)
		}
		defer zr.Close()
		in = bufio.NewReaderSize(zr, 256<<10)
	}
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	lr := lineReader{r: in.(*bufio.Reader), max: maxLine}
	var hdr []byte
	for n := int64(1); ; n++ {
		line, truncated, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s line %d: %w", name, n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, bom)
			if header {
				hdr = line
				continue
			}
		}
		r := record.Record{Payload: line, Origin: name, Offset: n, Header: hdr}
		if truncated {
			r.Attributes = map[string]string{"beamline.truncated": "true"}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// lineReader splits on \n, drops one trailing \r, and keeps at most max bytes of a line.
type lineReader struct {
	r   *bufio.Reader
	max int
}

func (l *lineReader) next() (line []byte, truncated bool, err error) {
	var buf []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(buf)+len(chunk) <= l.max {
			buf = append(buf, chunk...)
		} else {
			if room := l.max - len(buf); room > 0 {
				buf = append(buf, chunk[:room]...)
			}
			truncated = true
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 && !truncated {
				return nil, false, io.EOF
			}
		default:
			return nil, false, err
		}
		break
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	if buf == nil {
		buf = []byte{}
	}
	return buf, truncated, nil
}

// RemoveAll removes dir and the files directly in it: a local directory, or the objects under
// a gs:// prefix. A missing dir is not an error.
func RemoveAll(ctx context.Context, dir string) error {
	if !strings.Contains(dir, "://") {
		return os.RemoveAll(dir)
	}
	fs, err := filesystem.New(ctx, dir)
	if err != nil {
		return err
	}
	defer fs.Close()
	names, err := fs.List(ctx, strings.TrimSuffix(dir, "/")+"/*")
	if err != nil {
		return err
	}
	rm, ok := fs.(filesystem.Remover)
	if !ok {
		return fmt.Errorf("files.RemoveAll: the filesystem of %s cannot remove files", dir)
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, rm.Remove(ctx, n))
	}
	return errors.Join(errs...)
}

// ReadAll returns the contents of one file, local or gs://.
func ReadAll(ctx context.Context, name string) ([]byte, error) {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	defer rc.Close()
	b, err := readSized(rc)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// readSized reads r to its end into one buffer of the size the reader reports, where it
// reports one (a local *os.File through Stat, a GCS reader through Remain): io.ReadAll would
// grow its buffer from 512 bytes, clearing and copying about twice the file's size, which on
// clean.Dedupe's spilled batches cost as much as decoding them. The size is a hint only: a
// file that grew or shrank is still read whole.
func readSized(r io.Reader) ([]byte, error) {
	var n int64 = -1
	switch f := r.(type) {
	case interface{ Remain() int64 }:
		n = f.Remain()
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			n = fi.Size()
		}
	}
	if n < 0 || n > 1<<30 {
		return io.ReadAll(r)
	}
	// One byte more than the size, so reaching the end takes no further growth.
	b := make([]byte, 0, n+1)
	for {
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // the file grew: let append pick a larger buffer
		}
	}
}

// WriteFile writes b to name, local or gs://, replacing what is there.
func WriteFile(ctx context.Context, name string, b []byte) error {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
