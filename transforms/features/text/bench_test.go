package text_test

import (
	"strings"
	"testing"

	"github.com/beamline/beamline/transforms/features/text"
)

// description is a realistic Debian package description (about 250 characters).
const description = "GNU Emacs is the extensible self-documenting text editor. This package contains " +
	"the core Lisp files, byte-compiled for version 29.1, with support for TLS, XML and JSON " +
	"parsing, native compilation and tree-sitter grammars for C, Rust and Python programs."

var corpus = []string{
	description,
	"Vim is an almost compatible version of the UNIX editor Vi. Many new features have been added: multi level undo, syntax highlighting, command line history, filename completion and more.",
	"The GNU C Library provides the standard C library and the dynamic linker for programs on the system, with locale data and tools for native language support.",
	"Python 3 bindings for the GTK graphical user interface toolkit, with support for GNOME text widgets and native file dialogs.",
	"Rust compiler and standard library: a systems programming language focused on safety, speed and concurrency, with support for WebAssembly and native compilation.",
}

// benchVocab is a bigram vocabulary over corpus.
func benchVocab() *text.Vocabulary { return vocabOf(text.Spec{NGrams: 2, StopWords: "english"}) }

// vocabOf is the vocabulary of corpus's terms under spec.
func vocabOf(spec text.Spec) *text.Vocabulary {
	tok := text.MustTokenizer(spec)
	df := map[string]int{}
	var terms []string
	for _, d := range corpus {
		terms = tok.Terms(d, terms)
		seen := map[string]bool{}
		for _, t := range terms {
			if !seen[t] {
				seen[t] = true
				df[strings.Clone(t)]++
			}
		}
	}
	return text.BuildVocabulary(df, len(corpus), text.Spec{})
}

func BenchmarkTerms(b *testing.B) {
	for _, bc := range []struct {
		name string
		spec text.Spec
	}{
		{"unigrams", text.Spec{}},
		{"bigrams+stop+num", text.Spec{NGrams: 2, StopWords: "english", Numbers: "token"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tok := text.MustTokenizer(bc.spec)
			var dst []string
			b.ReportAllocs()
			b.SetBytes(int64(len(description)))
			for b.Loop() {
				dst = tok.Terms(description, dst)
			}
		})
	}
}

func BenchmarkTFIDF(b *testing.B) {
	for _, bc := range []struct {
		name  string
		spec  text.Spec
		vocab *text.Vocabulary
	}{
		// Unigrams with stop words, as the linear topic model: the Vectorizer's fast path.
		{"vocab-unigrams", text.Spec{StopWords: "english", Sublinear: true}, vocabOf(text.Spec{StopWords: "english"})},
		{"vocab-bigrams", text.Spec{NGrams: 2, StopWords: "english", Sublinear: true}, benchVocab()},
		{"hash18-bigrams", text.Spec{NGrams: 2, StopWords: "english", Sublinear: true, HashBits: 18}, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			z, err := text.NewVectorizer(bc.spec, bc.vocab)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(description)))
			for b.Loop() {
				_ = z.TFIDF(description)
			}
		})
	}
}

func BenchmarkCounts(b *testing.B) {
	z, err := text.NewVectorizer(text.Spec{NGrams: 2, StopWords: "english"}, benchVocab())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(description)))
	for b.Loop() {
		_ = z.Counts(description)
	}
}

func BenchmarkTFIDFParallel(b *testing.B) {
	z, err := text.NewVectorizer(text.Spec{NGrams: 2, StopWords: "english", Sublinear: true}, benchVocab())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = z.TFIDF(description)
		}
	})
}
