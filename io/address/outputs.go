package address

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/beamline/beamline/io/files"
)

// Outputs is the set of output folders of one run. Prepare refuses a folder that cannot be a
// directory, or one that already holds files unless overwrite is set. With overwrite, a
// non-empty folder is not touched during the run: the run writes into a fresh sibling
// (.NAME.new-STAMP), and Commit swaps it in once the whole run has succeeded. That choice
// (rather than deleting old files first, or after) keeps the previous output whole when the
// run fails, and never leaves old shards (-of-00002) beside new ones (-of-00001). Locally the
// swap is two renames; on gs:// objects cannot be renamed atomically, so Commit removes the
// old objects and then moves the new ones in (a reader may see a short gap, never a mix).
type Outputs struct {
	Overwrite bool
	dirs      []*outDir
	stamp     string
}

type outDir struct {
	flag        string
	final, work string // work == final unless replaced
}

// Add registers the folder of --flag. Non-file addresses are ignored.
func (o *Outputs) Add(flag string, a Address) {
	if !a.Kind.Files() {
		return
	}
	o.dirs = append(o.dirs, &outDir{flag: flag, final: a.String(), work: a.String()})
}

// Prepare checks each folder and picks where the run writes. Call it before building.
func (o *Outputs) Prepare(ctx context.Context) error {
	o.stamp = time.Now().UTC().Format("20060102T150405.000000000")
	for _, d := range o.dirs {
		if err := writableDir(d.flag, d.final); err != nil {
			return err
		}
		names, err := files.ListTree(ctx, d.final)
		if err != nil {
			return fmt.Errorf("--%s=%s cannot be listed: %s", d.flag, d.final, oneLine(err))
		}
		if len(names) == 0 {
			continue
		}
		if !o.Overwrite {
			return fmt.Errorf("--%s=%s already holds %d file(s) (e.g. %s): give an empty folder, or add --overwrite to replace them once this run succeeds", d.flag, d.final, len(names), names[0])
		}
		w, err := sibling(d.final, ".new-"+o.stamp)
		if err != nil {
			return fmt.Errorf("--%s=%s with --overwrite: %v", d.flag, d.final, err)
		}
		d.work = w
	}
	return nil
}

// Path maps an address under one of the folders to where this run writes it.
func (o *Outputs) Path(p string) string {
	for _, d := range o.dirs {
		if p == d.final {
			return d.work
		}
		if rest, ok := strings.CutPrefix(p, strings.TrimSuffix(d.final, "/")+"/"); ok {
			return files.Join(d.work, rest)
		}
	}
	return p
}

// Commit swaps each replaced folder in, after a successful run.
func (o *Outputs) Commit(ctx context.Context) error {
	for _, d := range o.dirs {
		if d.work == d.final {
			continue
		}
		if err := files.Replace(ctx, d.final, d.work, ".old-"+o.stamp); err != nil {
			return fmt.Errorf("--overwrite: replacing --%s=%s: %w (the new output is in %s)", d.flag, d.final, err, d.work)
		}
	}
	return nil
}

// Abort removes the fresh siblings of a failed run; the previous outputs stay as they were.
func (o *Outputs) Abort(ctx context.Context) {
	for _, d := range o.dirs {
		if d.work != d.final {
			_ = files.RemoveTree(ctx, d.work)
		}
	}
}

// writableDir fails when a local folder is a file, or cannot be created or written.
func writableDir(flag, p string) error {
	if strings.Contains(p, "://") {
		return nil // gs://: the bucket's permissions are checked by the first write
	}
	fi, err := os.Stat(p)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("--%s=%s is a file, not a folder: give a directory", flag, p)
	case err == nil:
	case os.IsNotExist(err):
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("--%s=%s cannot be created: %s", flag, p, oneLine(err))
		}
	default: // e.g. a file where a folder above it should be
		return fmt.Errorf("--%s=%s cannot be created: %s; give a directory whose parents are folders", flag, p, oneLine(err))
	}
	probe, err := os.CreateTemp(p, ".beamline-probe-*")
	if err != nil {
		return fmt.Errorf("--%s=%s is not writable: %s", flag, p, oneLine(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// sibling is .BASE+suffix beside p.
func sibling(p, suffix string) (string, error) {
	if scheme, rest, ok := strings.Cut(p, "://"); ok {
		dir, base := path.Split(strings.TrimSuffix(rest, "/"))
		if dir == "" {
			return "", fmt.Errorf("a bucket root cannot be replaced: give a prefix (e.g. %s://%s/out)", scheme, base)
		}
		return scheme + "://" + dir + "." + base + suffix, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Split(abs)
	if base == "" {
		return "", fmt.Errorf("the root folder cannot be replaced")
	}
	return filepath.Join(dir, "."+base+suffix), nil
}
