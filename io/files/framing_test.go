package files_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/record"
	"github.com/google/go-cmp/cmp"
)

// framed renders a record as offset:payload|reason.
func framed(r record.Record) string {
	return fmt.Sprintf("%d:%s|%s", r.Offset, r.Payload, r.Attributes[record.AttrReadError])
}

func readRecords(t *testing.T, content []byte, opts ...files.ReadOption) ([]record.Record, error) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(name, content, 0o644); err != nil {
		t.Fatal(err)
	}
	var got []record.Record
	err := files.ReadRecords(context.Background(), name, func(r record.Record) error {
		got = append(got, r)
		return nil
	}, opts...)
	return got, err
}

// TestReadFrames holds Read's framing to records, not physical lines: CSV records span lines
// inside quotes, line ends are LF, CRLF or CR, and what cannot be framed is one marked record.
func TestReadFrames(t *testing.T) {
	csv := files.WithCSV(0)
	cases := []struct {
		name    string
		in      string
		opts    []files.ReadOption
		want    []string
		message string // a part of the last record's AttrReadMessage
	}{
		{"CSV quoted LF", "h1,h2\n\"a\nb\",2\n3,4\n", []files.ReadOption{csv, files.WithHeader()},
			[]string{"2:\"a\nb\",2|", "4:3,4|"}, ""},
		{"CSV quoted CRLF in a CRLF file", "a,\"x\r\ny\"\r\nb,c\r\n", []files.ReadOption{csv},
			[]string{"1:a,\"x\r\ny\"|", "3:b,c|"}, ""},
		{"CSV doubled quotes around a line end", "\"a\"\"\n\"\"b\",c\nx,y\n", []files.ReadOption{csv},
			[]string{"1:\"a\"\"\n\"\"b\",c|", "3:x,y|"}, ""},
		{"CSV bare quote opens nothing", "a,b\"c\nd,e\n", []files.ReadOption{csv},
			[]string{"1:a,b\"c|", "2:d,e|"}, ""},
		{"CSV semicolon delimiter", "a;\"x\ny\"\nb;c\n", []files.ReadOption{files.WithCSV(';')},
			[]string{"1:a;\"x\ny\"|", "3:b;c|"}, ""},
		{"CSV unclosed quote costs one record", "h,\"x\ny\"\n\"abc\nd,e\r\nf,g", []files.ReadOption{csv},
			[]string{"1:h,\"x\ny\"|", "3:\"abc|", "4:d,e|", "5:f,g|"}, ""},
		{"lines: quotes mean nothing", "\"a\nb\"\n", nil, []string{"1:\"a|", "2:b\"|"}, ""},
		{"CR only (old Mac)", "one\rtwo\r\rthree", nil, []string{"1:one|", "2:two|", "3:|", "4:three|"}, ""},
		{"CR only CSV", "h\r\"a\rb\"\rc\r", []files.ReadOption{csv, files.WithHeader()},
			[]string{"2:\"a\rb\"|", "4:c|"}, ""},
		{"CRLF", "one\r\ntwo\r\n", nil, []string{"1:one|", "2:two|"}, ""},
		{"UTF-8 BOM dropped", "\xEF\xBB\xBF{\"a\":1}\n", nil, []string{"1:{\"a\":1}|"}, ""},
		{"UTF-16LE with BOM", "\xFF\xFEa\x00,\x00b\x00\n\x00", nil,
			[]string{"1:\xFF\xFEa\x00,\x00b\x00\n\x00|encoding_utf16"}, "UTF-16LE (byte-order mark FF FE)"},
		{"UTF-16BE without BOM", "\x00a\x00,\x00b\x00\n\x00c\x00\n", nil,
			[]string{"1:\x00a\x00,\x00b\x00\n\x00c\x00\n|encoding_utf16"}, "convert the file"},
		{"too large", "short\nthis-is-far-too-long\nok\n", []files.ReadOption{files.WithMaxLine(8)},
			[]string{"1:short|", "2:this-is-|too_large", "3:ok|"}, ""},
		{"too large CSV record spanning lines", "\"0123\n456789\",x\nok\n", []files.ReadOption{csv, files.WithMaxLine(10)},
			[]string{"1:\"0123\n4567|too_large", "3:ok|"}, "record is 15 bytes, over the read limit of 10 bytes; the payload keeps its first 10 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, err := readRecords(t, []byte(c.in), c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, framed(r))
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ReadRecords(%q) (-want +got):\n%s", c.in, diff)
			}
			if c.message != "" {
				var msgs []string // the messages of the records the reader marked
				for _, r := range recs {
					if m := r.Attributes[record.AttrReadMessage]; m != "" {
						msgs = append(msgs, m)
					}
				}
				if len(msgs) != 1 || !strings.Contains(msgs[0], c.message) {
					t.Errorf("ReadRecords(%q): messages %q, want one containing %q", c.in, msgs, c.message)
				}
			}
		})
	}
}

func TestReadTooLargeStatesTrueSize(t *testing.T) {
	long := bytes.Repeat([]byte("x"), files.TooLargeKeep*3)
	recs, err := readRecords(t, append(append([]byte("a\n"), long...), "\nb\n"...), files.WithMaxLine(files.TooLargeKeep*2))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3", len(recs))
	}
	r := recs[1]
	want := fmt.Sprintf("record is %d bytes, over the read limit of %d bytes; the payload keeps its first %d bytes",
		len(long), files.TooLargeKeep*2, files.TooLargeKeep)
	if r.Attributes[record.AttrReadError] != files.ReasonTooLarge || r.Attributes[record.AttrReadMessage] != want || len(r.Payload) != files.TooLargeKeep {
		t.Errorf("over-long record: reason %q, message %q, payload %d bytes; want %q, %q, %d bytes",
			r.Attributes[record.AttrReadError], r.Attributes[record.AttrReadMessage], len(r.Payload), files.ReasonTooLarge, want, files.TooLargeKeep)
	}
	if string(recs[2].Payload) != "b" || recs[2].Offset != 3 {
		t.Errorf("record after the long one = %q at line %d, want \"b\" at 3", recs[2].Payload, recs[2].Offset)
	}
}

func TestReadGzipFailuresKeepGoodRecords(t *testing.T) {
	var lines strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&lines, "line-%04d %x\n", i, i*7919)
	}
	whole := gz(lines.String())
	cases := []struct {
		name   string
		in     []byte
		reason string
		good   int // records before the failure; -1: at least one
	}{
		{"two members", append(gz("a\nb\n"), gz("c\n")...), "", 3},
		{"trailing garbage", append(gz("a\nb\n"), "garbage!!"...), files.ReasonGzipGarbage, 2},
		{"trailing zeros", append(gz("a\n"), make([]byte, 16)...), files.ReasonGzipGarbage, 1},
		{"truncated", whole[:len(whole)/2], files.ReasonGzipTruncated, -1},
		{"trailer cut off", whole[:len(whole)-4], files.ReasonGzipTruncated, 2000},
		{"bad checksum", append(append([]byte{}, whole[:len(whole)-8]...), 0, 0, 0, 0, 0, 0, 0, 0), files.ReasonGzipCorrupt, 2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, err := readRecords(t, c.in)
			if err != nil {
				t.Fatal(err)
			}
			good := recs
			if c.reason != "" {
				if len(recs) == 0 {
					t.Fatalf("no records, want good ones then a %s record", c.reason)
				}
				last := recs[len(recs)-1]
				if got := last.Attributes[record.AttrReadError]; got != c.reason || last.Attributes[record.AttrReadMessage] == "" {
					t.Errorf("last record reason %q (message %q), want %q with a message", got, last.Attributes[record.AttrReadMessage], c.reason)
				}
				good = recs[:len(recs)-1]
			}
			for i, r := range good {
				if r.Attributes[record.AttrReadError] != "" || r.Offset != int64(i+1) {
					t.Fatalf("record %d = %s, want a good record at line %d", i, framed(r), i+1)
				}
			}
			if (c.good >= 0 && len(good) != c.good) || (c.good < 0 && len(good) == 0) {
				t.Errorf("%d good records, want %d (-1: some)", len(good), c.good)
			}
		})
	}
}

// TestReadRefusesNonRegularFiles: a named pipe must never block a worker, and a directory or
// pipe matched by a glob fails the pipeline at its start with a message naming the path.
func TestReadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "b.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte("{}\n"), 0o644)
	done := make(chan error, 1)
	go func() {
		done <- files.ReadRecords(context.Background(), fifo, func(record.Record) error { return nil })
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("ReadRecords(fifo) = %v, want an error naming %s as a named pipe", err, fifo)
		}
	case <-time.After(time.Minute):
		t.Fatal("ReadRecords(fifo) blocked for a minute")
	}

	p, s := beam.NewPipelineWithRoot()
	files.Read(s, filepath.Join(dir, "*.jsonl"))
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read over a glob matching a FIFO = %v, want an error naming %s", err, fifo)
	}
}
