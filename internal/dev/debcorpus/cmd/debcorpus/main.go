// Command debcorpus writes the Debian package-description corpus (one NDJSON document per
// package, labelled by Section) from the apt lists of this machine, and prints its counts.
//
//	apt-get update -o Acquire::Languages=en   # once: fetches the Translation-en lists
//	go run ./internal/dev/debcorpus/cmd/debcorpus -out out/topics/debian.ndjson
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/beamline/beamline/internal/dev/debcorpus"
)

var (
	lists = flag.String("lists", "/var/lib/apt/lists", "apt lists directory (Packages and Translation-en files)")
	out   = flag.String("out", "", "NDJSON file to write (required)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "debcorpus:", err)
		os.Exit(1)
	}
}

func run() error {
	if *out == "" {
		return errors.New("-out is required (e.g. -out out/topics/debian.ndjson)")
	}
	b, ls, err := debcorpus.Load(*lists)
	if err != nil {
		return err
	}
	docs := b.Documents()
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := debcorpus.WriteNDJSON(w, docs); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}

	s := debcorpus.Describe(docs)
	noSect, dups := b.Skipped()
	for _, p := range ls.Packages {
		fmt.Println("packages    ", filepath.Base(p))
	}
	for _, p := range ls.Translations {
		fmt.Println("translations", filepath.Base(p))
	}
	fmt.Printf("wrote %s\n", *out)
	fmt.Printf("documents %d\nlabels %d (with >= 30 documents: %d)\ndocuments with long text %d (%.1f%%)\n",
		s.Documents, s.Labels, s.LabelsAtLeast30, s.WithLong, pct(s.WithLong, s.Documents))
	fmt.Printf("skipped stanzas: %d without Section, %d of a package already seen\n", noSect, dups)
	fmt.Print("largest labels:")
	for i, l := range s.TopLabels() {
		if i == 10 {
			break
		}
		fmt.Printf(" %s=%d", l, s.PerLabel[l])
	}
	fmt.Println()
	return nil
}

func pct(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}
