package debcorpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/beamline/beamline/models/textclass"
	"io"
	"sort"
	"strings"
)

// Document is one labelled text of the corpus, one NDJSON line — the training document of
// models/textclass:
//
//	{"id":"0ad","text":"strategy game set in antiquity, played in real time\n0 A.D. lets players …","labels":["games"]}
type Document = textclass.Doc

// Label returns the topic label of a Section field: the section with the archive-area prefix
// ("contrib/", "non-free/", "non-free-firmware/") removed, so that "non-free/games" and "games"
// are one class. Other prefixes are kept: they are not areas Debian defines.
func Label(section string) string {
	s := strings.TrimSpace(section)
	for _, area := range []string{"contrib/", "non-free/", "non-free-firmware/"} {
		if rest, ok := strings.CutPrefix(s, area); ok {
			return rest
		}
	}
	return s
}

// LongText formats the continuation lines of a Deb822 description (a Field.Value without its
// first line, "\n"-separated) as plain text: the lines of a paragraph joined with single
// spaces, paragraphs (separated by " ." lines) joined with "\n". Leading blanks, which in a
// description mark verbatim lines, are dropped with the rest of the layout.
func LongText(continuation string) string {
	var out strings.Builder
	out.Grow(len(continuation)) // the text only shrinks: one allocation
	// inPara: a line of the current paragraph has been written; paras: paragraphs begun.
	inPara := false
	paras := 0
	for line := range strings.SplitSeq(continuation, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case t == ".":
			inPara = false
			continue
		}
		if inPara {
			out.WriteByte(' ')
		} else if paras > 0 {
			out.WriteByte('\n')
		}
		if !inPara {
			paras++
			inPara = true
		}
		out.WriteString(t)
	}
	return out.String()
}

// splitDescription splits a description Field.Value into its short line and the formatted
// long text.
func splitDescription(v string) (short, long string) {
	short, rest, _ := strings.Cut(v, "\n")
	return strings.TrimSpace(short), LongText(rest)
}

type joinKey struct{ pkg, md5 string }

// pkgRecord is what the join keeps of a Packages stanza.
type pkgRecord struct {
	name, md5, short, section string
	// long is the formatted long text when the Packages stanza itself carries it (lists built
	// without split translations); Translation-en wins over it.
	long string
}

// Builder joins Packages stanzas with Translation-en stanzas into Documents. Add files in
// priority order (the release, then its updates and security lists): the first Packages
// stanza of a package name is its document. Translations may be added before or after the
// Packages files; the join happens in Documents.
type Builder struct {
	pkgs    []pkgRecord
	seen    map[string]bool
	long    map[joinKey]string
	short   map[joinKey]string
	noSect  int
	dupPkgs int
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		seen:  make(map[string]bool),
		long:  make(map[joinKey]string),
		short: make(map[joinKey]string),
	}
}

// ErrMissingField is wrapped by StanzaError when a stanza lacks a field the join needs.
var ErrMissingField = errors.New("missing field")

// StanzaError reports a stanza of a list that the join cannot use.
type StanzaError struct {
	Line  int // first line of the stanza
	Field string
	Err   error
}

func (e *StanzaError) Error() string {
	return fmt.Sprintf("stanza at line %d: %v: %s", e.Line, e.Err, e.Field)
}

func (e *StanzaError) Unwrap() error { return e.Err }

// AddPackages reads a Packages list. A stanza without Package is an error (the list is not a
// Packages file); one without Section is counted (Stats.NoSection) and skipped.
func (b *Builder) AddPackages(r io.Reader) error {
	return eachStanza(r, func(st Stanza) error {
		name, _ := st.Get("Package")
		if name == "" {
			return &StanzaError{Line: st.Line, Field: "Package", Err: ErrMissingField}
		}
		if b.seen[name] {
			b.dupPkgs++
			return nil
		}
		b.seen[name] = true
		sect, _ := st.Get("Section")
		if Label(sect) == "" {
			b.noSect++
			return nil
		}
		rec := pkgRecord{name: name, section: Label(sect)}
		rec.md5, _ = st.Get("Description-md5")
		if d, ok := st.Get("Description"); ok {
			rec.short, rec.long = splitDescription(d)
		}
		b.pkgs = append(b.pkgs, rec)
		return nil
	})
}

// AddTranslations reads a Translation-en list (Package, Description-md5, Description-en).
// The first translation of a (Package, Description-md5) pair wins.
func (b *Builder) AddTranslations(r io.Reader) error {
	return eachStanza(r, func(st Stanza) error {
		name, _ := st.Get("Package")
		md5, _ := st.Get("Description-md5")
		if name == "" || md5 == "" {
			field := "Package"
			if name != "" {
				field = "Description-md5"
			}
			return &StanzaError{Line: st.Line, Field: field, Err: ErrMissingField}
		}
		k := joinKey{name, md5}
		if _, ok := b.short[k]; ok {
			return nil
		}
		d, _ := st.Get("Description-en")
		b.short[k], b.long[k] = splitDescription(d)
		return nil
	})
}

// eachStanza calls fn with every stanza of r, in order, until fn or the reader fails.
func eachStanza(r io.Reader, fn func(Stanza) error) error {
	rd := NewReader(r)
	for {
		st, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
	}
}

// Skipped returns how many Packages stanzas were left out: without a Section, and of a package
// name already added (a later suite's version of it).
func (b *Builder) Skipped() (noSection, duplicates int) { return b.noSect, b.dupPkgs }

// Documents returns one Document per package, in the order the packages were first added:
// text is the short description, then "\n" and the long description when one is known.
func (b *Builder) Documents() []Document {
	docs := make([]Document, 0, len(b.pkgs))
	for _, p := range b.pkgs {
		short, long := p.short, p.long
		if p.md5 != "" {
			k := joinKey{p.name, p.md5}
			if l, ok := b.long[k]; ok && l != "" {
				long = l
			}
			if short == "" {
				short = b.short[k]
			}
		}
		text := short
		if long != "" {
			text = short + "\n" + long
		}
		docs = append(docs, Document{ID: p.name, Text: text, Labels: []string{p.section}})
	}
	return docs
}

// Stats describes a corpus.
type Stats struct {
	Documents int
	Labels    int
	// LabelsAtLeast30 counts labels with at least 30 documents, the ones a held-out split
	// of 20% tests on more than a handful of documents.
	LabelsAtLeast30 int
	WithLong        int // documents whose text has a long description
	// PerLabel is the number of documents of each label.
	PerLabel map[string]int
}

// Describe counts documents, labels and documents with a long description.
func Describe(docs []Document) Stats {
	s := Stats{Documents: len(docs), PerLabel: make(map[string]int)}
	for _, d := range docs {
		for _, l := range d.Labels {
			s.PerLabel[l]++
		}
		if strings.Contains(d.Text, "\n") {
			s.WithLong++
		}
	}
	s.Labels = len(s.PerLabel)
	for _, n := range s.PerLabel {
		if n >= 30 {
			s.LabelsAtLeast30++
		}
	}
	return s
}

// TopLabels returns the labels of s by decreasing document count (ties by name).
func (s Stats) TopLabels() []string {
	ls := make([]string, 0, len(s.PerLabel))
	for l := range s.PerLabel {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool {
		if s.PerLabel[ls[i]] != s.PerLabel[ls[j]] {
			return s.PerLabel[ls[i]] > s.PerLabel[ls[j]]
		}
		return ls[i] < ls[j]
	})
	return ls
}

// WriteNDJSON writes one JSON object per document and line. HTML escaping is off: the texts
// are read by Python's json and our own decoder, and "<" or "&" stay readable.
func WriteNDJSON(w io.Writer, docs []Document) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return nil
}

// ReadNDJSON reads documents written by WriteNDJSON (the corpus file of cmd/debcorpus), for
// the Go side of the benchmark. Blank lines are skipped; a bad line is an error naming it.
func ReadNDJSON(r io.Reader) ([]Document, error) {
	dec := json.NewDecoder(r)
	var docs []Document
	for {
		var d Document
		err := dec.Decode(&d)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return docs, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		docs = append(docs, d)
	}
}
