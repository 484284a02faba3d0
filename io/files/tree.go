package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// ListTree returns every file under dir, at any depth, sorted: a local directory (a missing
// one holds nothing), or the objects under a gs:// prefix. Output checks use it to tell an
// empty output folder from one a previous run wrote.
func ListTree(ctx context.Context, dir string) ([]string, error) {
	dir = strings.TrimSuffix(dir, "/")
	if !strings.Contains(dir, "://") {
		var out []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == dir {
					return filepath.SkipAll
				}
				return err
			}
			if !d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
		return out, err
	}
	fsys, err := filesystem.New(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	names, err := fsys.List(ctx, dir+"/**")
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

// RemoveTree removes dir and everything under it, local or gs://. A missing dir is not an error.
func RemoveTree(ctx context.Context, dir string) error {
	if !strings.Contains(dir, "://") {
		return os.RemoveAll(dir)
	}
	names, err := ListTree(ctx, dir)
	if err != nil {
		return err
	}
	fsys, err := filesystem.New(ctx, dir)
	if err != nil {
		return err
	}
	defer fsys.Close()
	rm, ok := fsys.(filesystem.Remover)
	if !ok {
		return fmt.Errorf("files.RemoveTree: the filesystem of %s cannot remove files", dir)
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, rm.Remove(ctx, n))
	}
	return errors.Join(errs...)
}

// Replace puts the tree at src in place of the tree at dst, once a run that wrote src has
// succeeded. Locally it is two renames (dst to a sibling named with oldSuffix, src to dst)
// and then the old tree is removed: a reader sees the old tree or the new one. On gs://, where
// an object cannot be renamed atomically, the old objects are removed first and the new ones
// then moved in: a reader may see a short gap, never old and new objects mixed.
func Replace(ctx context.Context, dst, src, oldSuffix string) error {
	dst, src = strings.TrimSuffix(dst, "/"), strings.TrimSuffix(src, "/")
	if !strings.Contains(dst, "://") {
		old := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+oldSuffix)
		if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			_ = os.Rename(old, dst) // put the old tree back
			return err
		}
		return os.RemoveAll(old)
	}
	if err := RemoveTree(ctx, dst); err != nil {
		return err
	}
	names, err := ListTree(ctx, src)
	if err != nil {
		return err
	}
	fsys, err := filesystem.New(ctx, dst)
	if err != nil {
		return err
	}
	defer fsys.Close()
	mv, ok := fsys.(filesystem.Renamer)
	if !ok {
		return fmt.Errorf("files.Replace: the filesystem of %s cannot rename files", dst)
	}
	for _, n := range names {
		if err := mv.Rename(ctx, n, dst+strings.TrimPrefix(n, src)); err != nil {
			return err
		}
	}
	return nil
}
