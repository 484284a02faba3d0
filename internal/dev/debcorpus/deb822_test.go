// These tests use no Beam (the package is a plain-Go corpus builder), so there is no
// TestMain with ptest.Main.
package debcorpus_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/internal/dev/debcorpus"
)

func readAll(t testing.TB, in string) ([]debcorpus.Stanza, error) {
	t.Helper()
	r := debcorpus.NewReader(strings.NewReader(in))
	var out []debcorpus.Stanza
	for {
		st, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
}

func TestReader(t *testing.T) {
	f := func(name, value string) debcorpus.Field { return debcorpus.Field{Name: name, Value: value} }
	tests := []struct {
		name string
		in   string
		want []debcorpus.Stanza
	}{
		{"empty", "", nil},
		{"only blank lines", "\n \n\t\n", nil},
		{
			"one stanza no final newline",
			"Package: a\nSection: libs",
			[]debcorpus.Stanza{{Line: 1, Fields: []debcorpus.Field{f("Package", "a"), f("Section", "libs")}}},
		},
		{
			"continuations keep inner blanks and drop the marker",
			"Package: a\nTag: x,\n y,\n\tz\nDescription-en: short\n long one\n .\n  verbatim\n",
			[]debcorpus.Stanza{{Line: 1, Fields: []debcorpus.Field{
				f("Package", "a"), f("Tag", "x,\ny,\nz"), f("Description-en", "short\nlong one\n.\n verbatim"),
			}}},
		},
		{
			"several blank and whitespace-only separators, CRLF, comment",
			"\n\nPackage: a\r\n \r\n\t\n# a comment\nPackage: b\nEmpty:\nSpaced :  v  \n\n",
			[]debcorpus.Stanza{
				{Line: 3, Fields: []debcorpus.Field{f("Package", "a")}},
				{Line: 7, Fields: []debcorpus.Field{f("Package", "b"), f("Empty", ""), f("Spaced", "v")}},
			},
		},
		{
			"colon inside the value",
			"Homepage: https://example.org:8080/x\n",
			[]debcorpus.Stanza{{Line: 1, Fields: []debcorpus.Field{f("Homepage", "https://example.org:8080/x")}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.in)
			if err != nil {
				t.Fatalf("Next(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stanzas of %q (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		err  error
	}{
		{" orphan\n", 1, debcorpus.ErrOrphanContinuation},
		{"Package: a\n\n continuation after a blank line\n", 3, debcorpus.ErrOrphanContinuation},
		{"Package: a\nno colon here\n", 2, debcorpus.ErrNoColon},
		{"Package: a\n: value\n", 2, debcorpus.ErrEmptyName},
	}
	for _, tt := range tests {
		got, err := readAll(t, tt.in)
		var pe *debcorpus.ParseError
		if !errors.As(err, &pe) || !errors.Is(err, tt.err) || pe.Line != tt.line {
			t.Errorf("reading %q = %v, %v; want a ParseError at line %d wrapping %v", tt.in, got, err, tt.line, tt.err)
		}
	}
	// A stopped reader keeps returning its error.
	r := debcorpus.NewReader(strings.NewReader("x\n"))
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("Next after an error = %v, want the first error %v again", err2, err1)
	}
}

func TestStanzaGetIsCaseInsensitive(t *testing.T) {
	st := debcorpus.Stanza{Fields: []debcorpus.Field{{Name: "Description-MD5", Value: "abc"}}}
	if v, ok := st.Get("description-md5"); !ok || v != "abc" {
		t.Errorf("Get(%q) = %q, %v, want %q, true", "description-md5", v, ok, "abc")
	}
	if v, ok := st.Get("Section"); ok {
		t.Errorf("Get(%q) = %q, true, want absent", "Section", v)
	}
}

// A Packages stanza shaped like a real one (0ad, bookworm main: its fields as the archive has
// them, the Description reworded), the shape the reader sees 60,000 times a run.
const realStanza = `Package: 0ad
Version: 0.0.26-3
Installed-Size: 28591
Maintainer: Debian Games Team <pkg-games-devel@lists.alioth.debian.org>
Architecture: amd64
Depends: 0ad-data (>= 0.0.26), 0ad-data (<= 0.0.26-3), 0ad-data-common (>= 0.0.26), 0ad-data-common (<= 0.0.26-3), libboost-filesystem1.74.0 (>= 1.74.0), libc6 (>= 2.34), libcurl3-gnutls (>= 7.32.0), libenet7, libfmt9 (>= 9.1.0+ds1), libfreetype6 (>= 2.2.1), libgcc-s1 (>= 3.4), libgloox18 (>= 1.0.24), libicu72 (>= 72.1~rc-1~), libminiupnpc17 (>= 1.9.20140610), libopenal1 (>= 1.14), libpng16-16 (>= 1.6.2-1), libsdl2-2.0-0 (>= 2.0.12), libsodium23 (>= 1.0.14), libstdc++6 (>= 12), libvorbisfile3 (>= 1.1.2), libwxbase3.2-1 (>= 3.2.1+dfsg), libwxgtk-gl3.2-1 (>= 3.2.1+dfsg), libwxgtk3.2-1 (>= 3.2.1+dfsg-2), libx11-6, libxml2 (>= 2.9.0), zlib1g (>= 1:1.2.0)
Pre-Depends: dpkg (>= 1.15.6~)
Description: strategy game set in antiquity, played in real time
Homepage: https://play0ad.com/
Description-md5: d943033bedada21853d2ae54a2578a7b
Tag: game::strategy, interface::graphical, interface::x11, role::program,
 uitoolkit::sdl, uitoolkit::wxwidgets, use::gameplaying,
 x11::application
Section: games
Priority: optional
Filename: pool/main/0/0ad/0ad_0.0.26-3_amd64.deb
Size: 7891488
MD5sum: 4d471183a39a3a11d00cd35bf9f6803d
SHA256: 3a2118df47bf3f04285649f0455c2fc6fe2dc7f0b237073038aa00af41f0d5f2

`

func BenchmarkReaderNext(b *testing.B) {
	in := strings.Repeat(realStanza, 100)
	b.ReportAllocs()
	b.SetBytes(int64(len(in))) // one op reads the 100 stanzas
	for b.Loop() {
		b.StopTimer()
		r := debcorpus.NewReader(strings.NewReader(in))
		b.StartTimer()
		for range 100 {
			if _, err := r.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
