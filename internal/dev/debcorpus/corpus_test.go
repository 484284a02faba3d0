package debcorpus_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/beamline/beamline/models/textclass"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pierrec/lz4/v4"

	"github.com/beamline/beamline/internal/dev/debcorpus"
)

func TestLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"games", "games"},
		{"contrib/games", "games"},
		{"non-free/utils", "utils"},
		{"non-free-firmware/kernel", "kernel"},
		{" non-free/net ", "net"},
		{"restricted/net", "restricted/net"}, // not a Debian area: kept
		{"", ""},
	}
	for _, tt := range tests {
		if got := debcorpus.Label(tt.in); got != tt.want {
			t.Errorf("Label(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLongText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"one line", "one line"},
		{"line one,\nline two.", "line one, line two."},
		{"para one\n.\npara two\nstill two", "para one\npara two still two"},
		{".\nleading dot line\n.\n.\n trailing\n.", "leading dot line\ntrailing"},
		{"It can:\n * retry\n * resume", "It can: * retry * resume"},
	}
	for _, tt := range tests {
		if got := debcorpus.LongText(tt.in); got != tt.want {
			t.Errorf("LongText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// wantDocs is the corpus of testdata: bookworm_Packages, then bookworm-security_Packages,
// joined with Translation-en.
var wantDocs = []debcorpus.Document{
	{ID: "0ad", Labels: []string{"games"}, Text: "strategy game set in antiquity, played in real time\n" +
		"0 A.D. lets players build cities and lead armies of the ancient world; it is free software and runs on several operating systems.\n" +
		"This package holds the engine that runs the game."},
	// The release's curl wins over the security suite's (other md5, other section).
	{ID: "curl", Labels: []string{"web"}, Text: "fetch and send data over many URL schemes from the shell\n" +
		"curl moves data to and from servers named by a URL, and understands DICT, FILE, FTP, FTPS, GOPHER, HTTP, HTTPS.\n" +
		"It can: * go through a proxy * log in with a name and password"},
	{ID: "firmware-misc-nonfree", Labels: []string{"kernel"}, Text: "closed firmware blobs needed by assorted Linux drivers\n" +
		"Blobs loaded by drivers for Intel and Realtek hardware."},
	{ID: "unrar", Labels: []string{"utils"}, Text: "extractor for RAR archives (non-free edition)\n" +
		"Unpacks the files stored in a .rar archive."},
	{ID: "stale-md5", Labels: []string{"misc"}, Text: "short only: its md5 matches no translation"},
	// no-section is skipped.
	{ID: "inline-long", Labels: []string{"admin"}, Text: "a Packages stanza that carries its long description\n" +
		"First paragraph, line one, line two.\nSecond paragraph."},
	{ID: "libssl3", Labels: []string{"libs"}, Text: "shared libraries of the OpenSSL TLS toolkit\n" +
		"Runtime libraries from OpenSSL, which implements the SSL and TLS protocols and the cryptography they rely on."},
}

func TestBuilder(t *testing.T) {
	// Translations after the Packages: the join must not depend on the order.
	b := debcorpus.NewBuilder()
	for _, f := range []struct {
		name string
		add  func(io.Reader) error
	}{
		{"bookworm_Packages", b.AddPackages},
		{"bookworm-security_Packages", b.AddPackages},
		{"Translation-en", b.AddTranslations},
	} {
		fh, err := os.Open(filepath.Join("testdata", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.add(fh); err != nil {
			t.Fatalf("adding testdata/%s: %v", f.name, err)
		}
		fh.Close()
	}
	if diff := cmp.Diff(wantDocs, b.Documents()); diff != "" {
		t.Errorf("Documents() (-want +got):\n%s", diff)
	}
	if noSect, dups := b.Skipped(); noSect != 1 || dups != 1 {
		t.Errorf("Skipped() = %d, %d, want 1 without Section, 1 duplicate", noSect, dups)
	}
}

func TestBuilderMissingFields(t *testing.T) {
	tests := []struct {
		name, in, field string
		add             func(*debcorpus.Builder, string) error
	}{
		{"packages without Package", "Section: libs\n", "Package",
			func(b *debcorpus.Builder, s string) error { return b.AddPackages(strings.NewReader(s)) }},
		{"translation without md5", "Package: a\nDescription-en: x\n", "Description-md5",
			func(b *debcorpus.Builder, s string) error { return b.AddTranslations(strings.NewReader(s)) }},
	}
	for _, tt := range tests {
		err := tt.add(debcorpus.NewBuilder(), tt.in)
		var se *debcorpus.StanzaError
		if !errors.As(err, &se) || !errors.Is(err, debcorpus.ErrMissingField) || se.Field != tt.field || se.Line != 1 {
			t.Errorf("%s: error = %v, want a StanzaError at line 1 for missing %s", tt.name, err, tt.field)
		}
	}
}

// writeLZ4 writes testdata/src lz4-compressed as dir/name, the way apt stores its lists.
func writeLZ4(t *testing.T, dir, name, src string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", src))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	relPackages = "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
	secPackages = "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4"
	relTrans    = "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en.lz4"
)

func TestLoadAptLists(t *testing.T) {
	dir := t.TempDir()
	// The security list sorts first by name ('-' < '_'); FindLists must still put the release first.
	writeLZ4(t, dir, secPackages, "bookworm-security_Packages")
	writeLZ4(t, dir, relPackages, "bookworm_Packages")
	writeLZ4(t, dir, relTrans, "Translation-en")
	if err := os.WriteFile(filepath.Join(dir, "deb.debian.org_debian_dists_bookworm_InRelease"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	b, ls, err := debcorpus.Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	wantLists := debcorpus.Lists{
		Packages:     []string{filepath.Join(dir, relPackages), filepath.Join(dir, secPackages)},
		Translations: []string{filepath.Join(dir, relTrans)},
	}
	if diff := cmp.Diff(wantLists, ls); diff != "" {
		t.Errorf("Load lists (-want +got):\n%s", diff)
	}
	docs := b.Documents()
	if diff := cmp.Diff(wantDocs, docs); diff != "" {
		t.Errorf("Load(%s).Documents() (-want +got):\n%s", dir, diff)
	}

	got := debcorpus.Describe(docs)
	want := debcorpus.Stats{Documents: 7, Labels: 7, LabelsAtLeast30: 0, WithLong: 6, PerLabel: map[string]int{
		"games": 1, "web": 1, "kernel": 1, "utils": 1, "misc": 1, "admin": 1, "libs": 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
}

func TestFindListsWithoutTranslations(t *testing.T) {
	dir := t.TempDir()
	writeLZ4(t, dir, relPackages, "bookworm_Packages")
	_, err := debcorpus.FindLists(dir)
	if !errors.Is(err, debcorpus.ErrNoTranslations) || !strings.Contains(err.Error(), "apt-get update -o Acquire::Languages=en") {
		t.Errorf("FindLists(no Translation-en) = %v, want ErrNoTranslations naming the apt-get fix", err)
	}
	_, err = debcorpus.FindLists(t.TempDir())
	if !errors.Is(err, debcorpus.ErrNoPackages) {
		t.Errorf("FindLists(empty dir) = %v, want ErrNoPackages", err)
	}
}

func TestWriteNDJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := debcorpus.WriteNDJSON(&buf, wantDocs[:2]); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("WriteNDJSON wrote %d lines, want 2:\n%s", len(lines), buf.String())
	}
	for i, l := range lines {
		var d debcorpus.Document
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if diff := cmp.Diff(wantDocs[i], d); diff != "" {
			t.Errorf("line %d round trip (-want +got):\n%s", i, diff)
		}
	}
	if want := `{"id":"0ad","text":"strategy game set in antiquity, played in real time\n0 A.D. lets`; !strings.HasPrefix(lines[0], want) {
		t.Errorf("line 0 = %q, want prefix %q", lines[0], want)
	}
}

func TestReadNDJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := debcorpus.WriteNDJSON(&buf, wantDocs); err != nil {
		t.Fatal(err)
	}
	got, err := debcorpus.ReadNDJSON(&buf)
	if err != nil {
		t.Fatalf("ReadNDJSON: %v", err)
	}
	if diff := cmp.Diff(wantDocs, got); diff != "" {
		t.Errorf("ReadNDJSON(WriteNDJSON(docs)) (-want +got):\n%s", diff)
	}
	_, err = debcorpus.ReadNDJSON(strings.NewReader(`{"id":"a","text":"t","labels":["x"]}` + "\n{bad\n"))
	if err == nil || !strings.Contains(err.Error(), "document 2") {
		t.Errorf("ReadNDJSON(bad second line) = %v, want an error naming document 2", err)
	}
}

// TestHeldOutMatchesPython checks HeldOut against buckets written by the Python side
// (bench/topics/sklearn_topics.py's fnv1a64): FNV-1a 64 of the id, mod 100.
func TestHeldOutMatchesPython(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "fnv_buckets.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		id, bs, ok := strings.Cut(line, "\t")
		bucket, err := strconv.Atoi(bs)
		if !ok || err != nil {
			t.Fatalf("bad line %q", line)
		}
		n++
		if textclass.HeldOut(id, bucket) || !textclass.HeldOut(id, bucket+1) {
			t.Errorf("HeldOut(%q, %d) = %v and HeldOut(%q, %d) = %v, want false and true (Python bucket %d)",
				id, bucket, textclass.HeldOut(id, bucket), id, bucket+1, textclass.HeldOut(id, bucket+1), bucket)
		}
	}
	if n < 100 {
		t.Errorf("read %d ids from fnv_buckets.tsv, want at least 100", n)
	}
}

func TestHeldOutShare(t *testing.T) {
	const n = 20000
	held := 0
	for i := range n {
		if textclass.HeldOut(fmt.Sprintf("pkg-%d", i), 20) {
			held++
		}
	}
	if got := float64(held) / n; got < 0.19 || got > 0.21 {
		t.Errorf("HeldOut(_, 20) held out %.3f of %d ids, want 0.20 ± 0.01", got, n)
	}
	for _, p := range []int{-5, 0} {
		if textclass.HeldOut("a", p) {
			t.Errorf("HeldOut(%q, %d) = true, want false", "a", p)
		}
	}
	if !textclass.HeldOut("a", 100) {
		t.Errorf("HeldOut(%q, 100) = false, want true", "a")
	}
}

func BenchmarkHeldOut(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		textclass.HeldOut("libwxgtk-gl3.2-1", 20)
	}
}

func BenchmarkLongText(b *testing.B) {
	// A long description of the usual size and shape: wrapped lines, a " ." paragraph break.
	const desc = "curl moves data to and from servers named by a URL and speaks a long list of\n" +
		"protocols: DICT, FILE, FTP, FTPS, GOPHER, HTTP, HTTPS, IMAP, IMAPS, LDAP, LDAPS,\n" +
		"POP3, POP3S, RTMP, RTSP, SCP, SFTP, SMTP, SMTPS, TELNET and TFTP.\n.\n" +
		"It picks up an interrupted transfer where it stopped, keeps cookies between\n" +
		"requests, uploads files by FTP or through HTTP forms, checks TLS certificates,\n" +
		"works through proxies and tunnels, and signs in with Basic, Digest, NTLM,\n" +
		"Negotiate or Kerberos, among a good many other things it can be asked to do."
	b.ReportAllocs()
	for b.Loop() {
		debcorpus.LongText(desc)
	}
}
