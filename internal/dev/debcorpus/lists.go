package debcorpus

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pierrec/lz4/v4"
)

// ErrNoTranslations: the lists directory has Packages files but no Translation-en file. apt
// only downloads translations for the languages it is told to, and the Packages files of
// Debian carry the short description alone.
var ErrNoTranslations = errors.New("no *_i18n_Translation-en* file (the long descriptions): run `apt-get update -o Acquire::Languages=en` " +
	"(Debian's container images set Acquire::Languages \"none\", and a later plain apt-get update drops the file again)")

// ErrNoPackages: the lists directory has no Packages file.
var ErrNoPackages = errors.New("no *_binary-*_Packages* file: run `apt-get update`")

// Lists are the apt list files of one directory, in the order a Builder should read them.
type Lists struct {
	Packages     []string
	Translations []string
}

// FindLists finds the Packages and Translation-en files apt keeps in dir (normally
// /var/lib/apt/lists), plain or compressed with lz4 or gzip. They are ordered so that the
// release comes first: the suite without a "-updates"/"-security" style suffix (bookworm)
// before the others, then component main before contrib and non-free, then by file name.
// Either sentinel, ErrNoPackages or ErrNoTranslations, is returned wrapped with dir.
func FindLists(dir string) (Lists, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Lists{}, err
	}
	var ls Lists
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		base, _ := splitCompression(e.Name())
		switch {
		case strings.HasSuffix(base, "_Packages") && strings.Contains(base, "_binary-"):
			ls.Packages = append(ls.Packages, filepath.Join(dir, e.Name()))
		case strings.HasSuffix(base, "_i18n_Translation-en"):
			ls.Translations = append(ls.Translations, filepath.Join(dir, e.Name()))
		}
	}
	sortLists(ls.Packages)
	sortLists(ls.Translations)
	if len(ls.Packages) == 0 {
		return ls, fmt.Errorf("%s: %w", dir, ErrNoPackages)
	}
	if len(ls.Translations) == 0 {
		return ls, fmt.Errorf("%s: %w", dir, ErrNoTranslations)
	}
	return ls, nil
}

// splitCompression returns the list name without its compression suffix, and the suffix.
func splitCompression(name string) (base, comp string) {
	for _, c := range []string{".lz4", ".gz"} {
		if b, ok := strings.CutSuffix(name, c); ok {
			return b, c
		}
	}
	return name, ""
}

// listRank orders apt list names: apt names them host_path_dists_SUITE_COMPONENT_…, so the
// fields after "_dists_" give the suite and the component.
func listRank(path string) (suite, comp int) {
	_, rest, ok := strings.Cut(filepath.Base(path), "_dists_")
	if !ok {
		return 2, 3
	}
	parts := strings.SplitN(rest, "_", 3)
	if strings.Contains(parts[0], "-") {
		suite = 1
	}
	comp = 3
	if len(parts) > 1 {
		switch parts[1] {
		case "main":
			comp = 0
		case "contrib":
			comp = 1
		case "non-free", "non-free-firmware":
			comp = 2
		}
	}
	return suite, comp
}

func sortLists(paths []string) {
	sort.SliceStable(paths, func(i, j int) bool {
		si, ci := listRank(paths[i])
		sj, cj := listRank(paths[j])
		if si != sj {
			return si < sj
		}
		if ci != cj {
			return ci < cj
		}
		return paths[i] < paths[j]
	})
}

// OpenList opens an apt list file, decompressing it by its suffix (.lz4 or .gz; anything
// else is read as plain text).
func OpenList(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	switch _, comp := splitCompression(path); comp {
	case ".lz4":
		return readCloser{lz4.NewReader(f), f}, nil
	case ".gz":
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return readCloser{z, f}, nil
	}
	return f, nil
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// Load builds the corpus of the lists in dir: FindLists, then every Packages and
// Translation-en file into a Builder.
func Load(dir string) (*Builder, Lists, error) {
	ls, err := FindLists(dir)
	if err != nil {
		return nil, ls, err
	}
	b := NewBuilder()
	add := func(path string, f func(io.Reader) error) error {
		rc, err := OpenList(path)
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := f(rc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	for _, p := range ls.Translations {
		if err := add(p, b.AddTranslations); err != nil {
			return nil, ls, err
		}
	}
	for _, p := range ls.Packages {
		if err := add(p, b.AddPackages); err != nil {
			return nil, ls, err
		}
	}
	return b, ls, nil
}
