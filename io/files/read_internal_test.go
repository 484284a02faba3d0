package files

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sizedReader reports a size that may be wrong, as a file that changed after it was opened would.
type sizedReader struct {
	io.Reader
	remain int64
}

func (r sizedReader) Remain() int64 { return r.remain }

func TestReadSized(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // 160,000 bytes
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases := []struct {
		name string
		r    io.Reader
		cap  int // the buffer's capacity when the size is known; 0: not checked
	}{
		{"os.File", f, len(want) + 1},
		{"exact Remain", sizedReader{bytes.NewReader(want), int64(len(want))}, len(want) + 1},
		{"Remain too small", sizedReader{bytes.NewReader(want), 100}, 0},
		{"Remain too large", sizedReader{bytes.NewReader(want), int64(2 * len(want))}, 2*len(want) + 1},
		{"Remain unknown", sizedReader{bytes.NewReader(want), -1}, 0},
		{"no size", bytes.NewBuffer(want), 0},
		{"empty", sizedReader{bytes.NewReader(nil), 0}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readSized(c.r)
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if c.name == "empty" {
				w = nil
			}
			if !bytes.Equal(got, w) {
				t.Errorf("read %d bytes, want %d", len(got), len(w))
			}
			if c.cap != 0 && cap(got) != c.cap {
				t.Errorf("buffer capacity %d, want %d (one allocation of the reported size + 1)", cap(got), c.cap)
			}
		})
	}
}
