// Package files reads and writes record files (NDJSON, CSV, text lines) on any Beam filesystem: local paths and gs://
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
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

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

// DefaultMaxLine caps the bytes of one record. A longer record is still one record, read to
// its end to learn its true size, and reaches the dead letter as too_large with that size and
// the limit in its message; its payload keeps only its first TooLargeKeep bytes (the message
// says so), enough to find it, small enough for any dead-letter table.
const DefaultMaxLine = 64 << 20

// TooLargeKeep is how many bytes of an over-long record its dead letter keeps.
const TooLargeKeep = 64 << 10

// Reason codes of the records Read cannot frame. Read emits such a record like any other, with
// record.AttrReadError set to the code and record.AttrReadMessage to the message; clean.Parse
// (clean.ReadError) turns it into a dead letter, so every record read is counted once, as ok
// or dead.
const (
	ReasonTooLarge      = "too_large"             // a record over the limit (WithMaxLine)
	ReasonUTF16         = "encoding_utf16"        // a UTF-16 file: one dead letter for the file
	ReasonGzipTruncated = "gzip_truncated"        // gzip data that ends early
	ReasonGzipGarbage   = "gzip_trailing_garbage" // bytes after the last gzip member
	ReasonGzipCorrupt   = "gzip_corrupt"          // a bad checksum, header or deflate stream
)

// ReadOption adjusts Read.
type ReadOption func(*readFn)

// WithHeader treats the first record of every file as a header: it is not emitted as a record
// but attached to each record of the file (record.Header) for clean.Parse to map CSV fields by.
func WithHeader() ReadOption { return func(f *readFn) { f.Header = true } }

// WithMaxLine sets the per-record cap (default DefaultMaxLine).
func WithMaxLine(n int) ReadOption { return func(f *readFn) { f.MaxLine = n } }

// WithCSV frames records as CSV (RFC 4180) with the field delimiter delim (0: comma): a line
// end inside a quoted field belongs to the record, so a record may span lines. A quote opens a
// quoted field only at the start of a field, as in encoding/csv. A quoted field still open at
// the end of the file makes its record its first line only (clean.Parse rejects it as
// csv_syntax) and the lines after it are framed again, so one stray quote costs one record.
func WithCSV(delim rune) ReadOption {
	if delim == '"' || delim == '\n' || delim == '\r' {
		panic(fmt.Sprintf("files.WithCSV: delimiter %q cannot be a quote or a line end", delim))
	}
	return func(f *readFn) { f.CSV, f.Delimiter = true, delim }
}

// Read emits every record of the files matching glob as a record.Record with Payload (the
// record without its line end), Origin (the file) and Offset (the 1-based line it starts on).
// It is the one place records are framed:
//   - Line ends are LF, CRLF or CR (old Mac files), decided per file by its first line end.
//   - With WithCSV a record ends at a line end outside quotes, so quoted fields may hold them.
//   - Files that start with the gzip magic number are decompressed, whatever their name;
//     concatenated members are read on. Bytes after the last member that are not gzip,
//     data that ends early and corrupt data each give one dead-letter record
//     (gzip_trailing_garbage, gzip_truncated, gzip_corrupt) after the records read before.
//   - A UTF-8 byte-order mark at the start of a file is dropped. A UTF-16 file (with a
//     byte-order mark, or text whose every other byte is NUL) is not decoded: it gives one
//     record marked encoding_utf16, holding the file's first bytes, so the export is fixed at
//     its source rather than guessed at here.
//   - A record over the limit is marked too_large with its true size (see DefaultMaxLine).
//
// Marked records carry record.AttrReadError; clean.Parse sends them to the dead letter.
// A glob matching no file, or matching something other than a regular file (a directory, a
// named pipe, a device, a socket: a pipe would block a worker for ever), fails the pipeline
// at its start with a message naming the path: a typo in a path must not look like an empty day.
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
		if err := checkRegular(n); err != nil {
			return fmt.Errorf("%w (matched by %q)", err, glob)
		}
	}
	for _, n := range names {
		emit(n)
	}
	return nil
}

// checkRegular refuses a local path that is not a regular file. Opening a named pipe blocks
// until a writer comes, which may be never; a directory or device is not a line file either.
// Object stores (gs://) hold only objects.
func checkRegular(name string) error {
	if strings.Contains(name, "://") {
		return nil
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Mode().IsRegular() {
		return nil // a missing file is reported by the open, with the filesystem's words
	}
	kind := "special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		kind = "directory"
	case m&os.ModeNamedPipe != 0:
		kind = "named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		kind = "socket"
	case m&os.ModeDevice != 0:
		kind = "device"
	}
	return fmt.Errorf("files.Read: %s is a %s, not a regular file: it is not read (narrow the glob or move it away)", name, kind)
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
	Header    bool `json:"header"`
	MaxLine   int  `json:"max_line"`
	CSV       bool `json:"csv"`
	Delimiter rune `json:"delimiter"`
}

func (f *readFn) ProcessElement(ctx context.Context, name string, emit func(record.Record)) error {
	return f.readFile(ctx, name, func(r record.Record) error {
		emit(r)
		return nil
	})
}

var gzipMagic = []byte{0x1f, 0x8b}

// ReadFile calls fn with each record of one file as Read describes, framed as lines.
func ReadFile(ctx context.Context, name string, header bool, maxLine int, fn func(record.Record) error) error {
	f := readFn{Header: header, MaxLine: maxLine}
	return f.readFile(ctx, name, fn)
}

// ReadRecords calls fn with each record of one file as Read with opts describes.
func ReadRecords(ctx context.Context, name string, fn func(record.Record) error, opts ...ReadOption) error {
	f := readFn{MaxLine: DefaultMaxLine}
	for _, o := range opts {
		o(&f)
	}
	return f.readFile(ctx, name, fn)
}

func (f *readFn) readFile(ctx context.Context, name string, fn func(record.Record) error) error {
	if err := checkRegular(name); err != nil {
		return err
	}
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
	in := br
	var gz *gzipStream
	// The magic number decides, not the name: GCS serves objects stored with
	// Content-Encoding: gzip already decompressed, whatever they are called.
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading %s as gzip: %w", name, err)
		}
		defer zr.Close()
		zr.Multistream(false)
		gz = &gzipStream{src: br, zr: zr}
		in = bufio.NewReaderSize(gz, 256<<10)
	}
	maxLine := f.MaxLine
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	if b, _ := in.Peek(len(bom)); bytes.Equal(b, bom) {
		in.Discard(len(bom))
	}
	if head, _ := in.Peek(utf16Sniff); isUTF16(head) != "" {
		r := record.Record{Payload: bytes.Clone(head), Origin: name, Offset: 1}
		mark(&r, ReasonUTF16, fmt.Sprintf("%s is %s text; records must be UTF-8: convert the file (iconv -f UTF-16 -t UTF-8) and read it again. The payload holds its first %d bytes", name, isUTF16(head), len(head)))
		return fn(r)
	}
	fr := newFramer(in, maxLine, f.CSV, f.Delimiter)
	var hdr []byte
	first := true
	var nrec int64
	for {
		rec, err := fr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if gz == nil {
				return fmt.Errorf("reading %s line %d: %w", name, rec.line, err)
			}
			return f.gzipFailure(name, br, rec, nrec, err, fn)
		}
		if first && f.Header {
			first = false
			hdr = rec.payload
			continue
		}
		first = false
		nrec++
		r := record.Record{Payload: rec.payload, Origin: name, Offset: rec.line, Header: hdr}
		if rec.size > int64(maxLine) {
			r.Payload = rec.payload[:min(len(rec.payload), TooLargeKeep)]
			mark(&r, ReasonTooLarge, fmt.Sprintf("record is %d bytes, over the read limit of %d bytes; the payload keeps its first %d bytes", rec.size, maxLine, len(r.Payload)))
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// gzipFailure ends a gzip file whose stream failed after the records already emitted: the
// unfinished record before a truncation or corruption, or the bytes after the last member,
// become one marked record. I/O errors are returned, for the runner to retry.
func (f *readFn) gzipFailure(name string, src *bufio.Reader, rec frame, nrec int64, err error, fn func(record.Record) error) error {
	r := record.Record{Payload: rec.payload[:min(len(rec.payload), TooLargeKeep)], Origin: name, Offset: rec.line}
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, errTrailingGarbage):
		if rec.size > 0 { // a member ended without a line end: that record is complete
			if e := fn(record.Record{Payload: rec.payload, Origin: name, Offset: rec.line}); e != nil {
				return e
			}
			r.Offset++
		}
		head, _ := src.Peek(TooLargeKeep)
		r.Payload = bytes.Clone(head)
		n, cerr := io.Copy(io.Discard, src)
		if cerr != nil {
			return fmt.Errorf("reading %s: %w", name, cerr)
		}
		mark(&r, ReasonGzipGarbage, fmt.Sprintf("%d bytes after the last gzip member of %s are not gzip data (gzip(1): \"trailing garbage ignored\"); the records before them were read; the payload holds the first %d of those bytes", n, name, len(r.Payload)))
	case errors.Is(err, io.ErrUnexpectedEOF):
		mark(&r, ReasonGzipTruncated, fmt.Sprintf("the gzip data of %s ends early (a truncated file?) after %d complete records; the payload holds the %d decompressed bytes of the unfinished record", name, nrec, len(r.Payload)))
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		mark(&r, ReasonGzipCorrupt, fmt.Sprintf("the gzip data of %s is corrupt (%v) after %d complete records; the payload holds the %d decompressed bytes of the unfinished record", name, err, nrec, len(r.Payload)))
	default:
		return fmt.Errorf("reading %s line %d: %w", name, rec.line, err)
	}
	return fn(r)
}

func mark(r *record.Record, reason, msg string) {
	r.Attributes = map[string]string{record.AttrReadError: reason, record.AttrReadMessage: msg}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// utf16Sniff is how many bytes at the start of a file decide whether it is UTF-16.
const utf16Sniff = 512

// isUTF16 names the UTF-16 flavour of a file starting with head, or returns "". A byte-order
// mark decides; without one, text that is mostly ASCII in UTF-16 has a NUL in every other
// byte, on the odd side for little-endian and the even side for big-endian, which no UTF-8
// text has (clean.Parse would refuse each NUL anyway).
func isUTF16(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "UTF-16LE (byte-order mark FF FE)"
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16BE (byte-order mark FE FF)"
	}
	pairs := len(head) / 2
	if pairs < 2 {
		return ""
	}
	var even, odd int
	for i := 0; i+1 < len(head); i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	switch {
	case even == 0 && odd*4 >= pairs*3:
		return "UTF-16LE (no byte-order mark; every other byte is NUL)"
	case odd == 0 && even*4 >= pairs*3:
		return "UTF-16BE (no byte-order mark; every other byte is NUL)"
	}
	return ""
}

// errTrailingGarbage is gzipStream's error for bytes after a member that start no new one.
var errTrailingGarbage = errors.New("trailing data after the last gzip member")

// gzipStream reads the members of a gzip file one after the other, as gzip.Reader's
// multistream mode does, but tells bytes that start no new member (trailing garbage) apart
// from a corrupt member: gzip(1) decompresses the first and warns, and so does Read.
type gzipStream struct {
	src *bufio.Reader
	zr  *gzip.Reader
}

func (g *gzipStream) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF || n > 0 {
			if err == io.EOF {
				err = nil // the member's end is looked at on the next call
			}
			return n, err
		}
		next, _ := g.src.Peek(2)
		switch {
		case len(next) == 0:
			return 0, io.EOF
		case !bytes.Equal(next, gzipMagic):
			return 0, errTrailingGarbage
		}
		if err := g.zr.Reset(g.src); err != nil {
			return 0, err
		}
		g.zr.Multistream(false)
	}
}

// frame is one record as the framer cut it.
type frame struct {
	payload []byte // without its line end; at most the framer's max bytes of it
	size    int64  // the record's true size in bytes, without its line end
	line    int64  // the 1-based line it starts on
}

// framer cuts records from a byte stream: at line ends, and for CSV only at those outside
// quoted fields. The line end is decided by the first one in the stream: LF (with an
// optional CR before it, which is dropped) or a lone CR.
type framer struct {
	r    *bufio.Reader
	max  int
	csv  bool
	eol  byte // 0 until decided
	line int64
	// The CSV delimiter's UTF-8 bytes, packed, and a mask of their width: a quote opens a
	// quoted field only right after a delimiter or at the start of a record.
	delim, mask uint32
}

func newFramer(r *bufio.Reader, max int, csv bool, delim rune) *framer {
	f := &framer{r: r, max: max, csv: csv}
	if delim == 0 {
		delim = ','
	}
	var enc [4]byte
	n := utf8.EncodeRune(enc[:], delim)
	for _, c := range enc[:n] {
		f.delim = f.delim<<8 | uint32(c)
	}
	f.mask = uint32(1)<<(8*n) - 1
	if n == 4 {
		f.mask = ^uint32(0)
	}
	return f
}

// decideEOL looks at the first line end in the buffered start of the stream.
func (f *framer) decideEOL() {
	f.eol = '\n'
	for n := 4 << 10; ; n *= 2 {
		b, err := f.r.Peek(n)
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			switch {
			case b[i] == '\n':
			case i+1 < len(b):
				if b[i+1] != '\n' {
					f.eol = '\r'
				}
			case err != nil: // a CR that ends the stream, or the buffer
				f.eol = '\r'
			default:
				continue
			}
			return
		}
		if err != nil {
			return
		}
	}
}

// unclosed cuts a CSV record whose quoted field never closed back to its first line, and
// frames the rest of the stream again from the line after: one stray quote must not swallow
// every later record of the file into one. The record, cut, goes on to fail as csv_syntax.
func (f *framer) unclosed(fr *frame, last *byte) {
	i := bytes.IndexByte(fr.payload, f.eol)
	if i < 0 {
		return
	}
	f.r = bufio.NewReader(bytes.NewReader(fr.payload[i+1:]))
	f.line = fr.line
	fr.payload = fr.payload[:i:i]
	fr.size = int64(i)
	*last = 0
	if i > 0 {
		*last = fr.payload[i-1]
	}
}

// csvState is where a CSV scan stands within a record.
type csvState struct {
	quoted     bool   // inside a quoted field
	quote      bool   // inside a quoted field, just after a quote: it closes or doubles
	fieldStart bool   // at the start of a field
	last       uint32 // the last bytes seen, to spot a multi-byte delimiter
}

func (st *csvState) scan(b []byte, delim, mask uint32) {
	for _, c := range b {
		st.last = st.last<<8 | uint32(c)
		if st.quoted {
			if st.quote {
				st.quote = false
				if c == '"' { // "" stands for one quote
					continue
				}
				st.quoted = false // the quote closed the field; c follows it
			} else {
				if c == '"' {
					st.quote = true
				}
				continue
			}
		}
		switch {
		case st.last&mask == delim:
			st.fieldStart = true
		case c == '"' && st.fieldStart:
			st.quoted, st.fieldStart = true, false
		default:
			st.fieldStart = false
		}
	}
}

// next returns the next record; io.EOF when there is none. With another error, the frame
// holds what was read of the unfinished record.
func (f *framer) next() (fr frame, err error) {
	if f.eol == 0 {
		f.decideEOL()
	}
	fr.line = f.line + 1
	st := csvState{fieldStart: true}
	var last byte
	keep := func(b []byte) {
		if len(b) == 0 {
			return
		}
		fr.size += int64(len(b))
		last = b[len(b)-1]
		if room := f.max - len(fr.payload); room > 0 {
			fr.payload = append(fr.payload, b[:min(room, len(b))]...)
		}
	}
	started := false
	for {
		chunk, rerr := f.r.ReadSlice(f.eol)
		started = started || len(chunk) > 0
		if f.csv {
			st.scan(chunk, f.delim, f.mask)
		}
		switch {
		case rerr == nil:
			f.line++
			if f.csv && st.quoted { // a line end inside a quoted field is part of the record
				keep(chunk)
				continue
			}
			keep(chunk[:len(chunk)-1])
		case errors.Is(rerr, bufio.ErrBufferFull):
			keep(chunk)
			continue
		case errors.Is(rerr, io.EOF):
			if !started {
				return fr, io.EOF
			}
			keep(chunk)
			f.line++
			if f.csv && st.quoted && int64(len(fr.payload)) == fr.size {
				f.unclosed(&fr, &last)
			}
		default:
			keep(chunk)
			return fr, rerr
		}
		break
	}
	// CRLF: the CR before the LF belongs to the line end.
	if f.eol == '\n' && last == '\r' {
		fr.size--
		if int64(len(fr.payload)) > fr.size {
			fr.payload = fr.payload[:fr.size]
		}
	}
	if fr.payload == nil {
		fr.payload = []byte{}
	}
	return fr, nil
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
