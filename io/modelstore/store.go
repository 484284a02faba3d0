package modelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"   // gs://
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/beamline/beamline/io/files"
)

const (
	manifestFile = "manifest.json"
	latestFile   = "LATEST"
	// versionLayout names a version by its creation time in UTC, to the second, so that
	// versions sort by time as plain strings.
	versionLayout = "20060102T150405Z"
)

// VersionAt is the version Publish gives a manifest created at t, unless that version
// already exists (then it adds -2, -3, …). A job fixes its creation time at launch, so its
// dead letters and logs can name the version before it is published.
func VersionAt(t time.Time) string { return t.UTC().Format(versionLayout) }

// OpenOption adjusts Open, OpenLatest, ReadManifest, SetLatest and NewRefresher.
type OpenOption func(*openConfig)

type openConfig struct {
	kind string
}

// WithKind refuses, with ErrIncompatible, an artifact whose Manifest.Kind is not kind.
func WithKind(kind string) OpenOption { return func(c *openConfig) { c.kind = kind } }

func newOpenConfig(opts []OpenOption) openConfig {
	var c openConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Publish stores files as a new version of model name under root (a local directory or a
// gs:// prefix) and makes it the latest. It fills in m's FormatVersion, Name, Version, Files
// and, if zero, CreatedAt; m.Name, if set, must be name. The version is CreatedAt in UTC to
// the second (20261122T083000Z), with a suffix (-2, -3, …) if that version exists already.
//
// The payload files are written first, then manifest.json with their sizes and SHA-256
// sums, then LATEST: a reader following LATEST never finds a half-written version, and
// Versions lists a version only once its manifest is in place. Locally every file is written
// to a temporary name, synced and renamed; on gs:// an object appears whole when its write
// completes. Publish assumes one publisher per model at a time: two running at once could
// pick the same version.
func Publish(ctx context.Context, root, name string, m Manifest, payload map[string][]byte) (string, error) {
	if err := checkSegment("model", name); err != nil {
		return "", fmt.Errorf("modelstore.Publish: %w", err)
	}
	if m.Name != "" && m.Name != name {
		return "", fmt.Errorf("modelstore.Publish: manifest names model %q but it is published as %q: %w", m.Name, name, ErrBadName)
	}
	names := make([]string, 0, len(payload))
	for f := range payload {
		if err := checkSegment("file", f); err != nil {
			return "", fmt.Errorf("modelstore.Publish: %w", err)
		}
		if f == manifestFile {
			return "", fmt.Errorf("modelstore.Publish: file name %q is reserved for the manifest: %w", f, ErrBadName)
		}
		names = append(names, f)
	}
	sort.Strings(names)

	s, err := openStore(ctx, root)
	if err != nil {
		return "", err
	}
	defer s.close()

	m.FormatVersion, m.Name = CurrentFormat, name
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	m.CreatedAt = m.CreatedAt.UTC()
	taken, err := s.versionDirs(ctx, name)
	if err != nil {
		return "", err
	}
	base := VersionAt(m.CreatedAt)
	m.Version = base
	for i := 2; taken[m.Version]; i++ {
		m.Version = base + "-" + strconv.Itoa(i)
	}

	m.Files = make(map[string]FileInfo, len(names))
	for _, f := range names {
		b := payload[f]
		sum := sha256.Sum256(b)
		m.Files[f] = FileInfo{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
		if err := s.write(ctx, s.path(name, m.Version, f), b); err != nil {
			return "", err
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("modelstore.Publish: encoding the manifest of %s: %w", name, err)
	}
	if err := s.write(ctx, s.path(name, m.Version, manifestFile), append(mb, '\n')); err != nil {
		return "", err
	}
	if err := s.write(ctx, s.path(name, latestFile), []byte(m.Version+"\n")); err != nil {
		return "", err
	}
	return m.Version, nil
}

// Latest returns the version LATEST names for model name: ErrNotFound if nothing was
// published.
func Latest(ctx context.Context, root, name string) (string, error) {
	if err := checkSegment("model", name); err != nil {
		return "", err
	}
	s, err := openStore(ctx, root)
	if err != nil {
		return "", err
	}
	defer s.close()
	return s.latest(ctx, name)
}

// Versions returns the published versions of model name, oldest first: ErrNotFound if there
// are none. A version whose publication is under way or was abandoned (no manifest.json yet)
// is not listed.
func Versions(ctx context.Context, root, name string) ([]string, error) {
	if err := checkSegment("model", name); err != nil {
		return nil, err
	}
	s, err := openStore(ctx, root)
	if err != nil {
		return nil, err
	}
	defer s.close()
	pattern := s.path(name, "*", manifestFile)
	found, err := s.fs.List(ctx, pattern)
	if err != nil {
		return nil, &Error{Path: pattern, Detail: "listing versions", Err: err}
	}
	var out []string
	for _, p := range found {
		if v := parentName(p); checkSegment("version", v) == nil {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, &Error{Path: s.path(name), Class: ErrNotFound, Detail: "no version published"}
	}
	slices.SortFunc(out, compareVersions)
	return out, nil
}

// Open reads version of model name and verifies it: the manifest parses and is of a format
// this build reads, and every file it lists is there with its size and SHA-256. It fails with
// ErrNotFound if the version was not published, ErrCorrupt naming the file that does not
// match, or ErrIncompatible.
func Open(ctx context.Context, root, name, version string, opts ...OpenOption) (*Artifact, error) {
	if err := checkNames(name, version); err != nil {
		return nil, err
	}
	s, err := openStore(ctx, root)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.open(ctx, name, version, newOpenConfig(opts))
}

// OpenLatest opens the version LATEST names, as Open does.
func OpenLatest(ctx context.Context, root, name string, opts ...OpenOption) (*Artifact, error) {
	if err := checkSegment("model", name); err != nil {
		return nil, err
	}
	s, err := openStore(ctx, root)
	if err != nil {
		return nil, err
	}
	defer s.close()
	v, err := s.latest(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, name, v, newOpenConfig(opts))
}

// ReadManifest reads and checks the manifest of one version, as Open does, without reading
// the payload: for tools that list or compare versions.
func ReadManifest(ctx context.Context, root, name, version string, opts ...OpenOption) (*Manifest, error) {
	if err := checkNames(name, version); err != nil {
		return nil, err
	}
	s, err := openStore(ctx, root)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.manifest(ctx, name, version, newOpenConfig(opts))
}

// SetLatest points LATEST at version, after opening and verifying it as Open does: to roll
// back to an earlier version, or forward again. Readers take any change of LATEST as a new
// model, whether the version is newer or older.
func SetLatest(ctx context.Context, root, name, version string, opts ...OpenOption) error {
	if err := checkNames(name, version); err != nil {
		return err
	}
	s, err := openStore(ctx, root)
	if err != nil {
		return err
	}
	defer s.close()
	if _, err := s.open(ctx, name, version, newOpenConfig(opts)); err != nil {
		return err
	}
	return s.write(ctx, s.path(name, latestFile), []byte(version+"\n"))
}

// store is one filesystem client for the length of one call: on gs:// a client costs a
// credential lookup, which should not be paid per file.
type store struct {
	root string
	fs   filesystem.Interface
}

func openStore(ctx context.Context, root string) (*store, error) {
	if root == "" {
		return nil, fmt.Errorf("modelstore: root is empty (want a directory or a gs:// prefix): %w", ErrBadName)
	}
	fs, err := filesystem.New(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("modelstore: opening %s: %w", root, err)
	}
	return &store{root: root, fs: fs}, nil
}

func (s *store) close() { _ = s.fs.Close() }

func (s *store) path(parts ...string) string {
	return files.Join(append([]string{s.root}, parts...)...)
}

func (s *store) local() bool { return !strings.Contains(s.root, "://") }

func (s *store) latest(ctx context.Context, name string) (string, error) {
	p := s.path(name, latestFile)
	b, found, err := s.read(ctx, p)
	if err != nil {
		return "", err
	}
	if !found {
		return "", &Error{Path: p, Class: ErrNotFound, Detail: fmt.Sprintf("model %s was never published", name)}
	}
	v := strings.TrimSpace(string(b))
	if checkSegment("version", v) != nil {
		return "", &Error{Path: p, Class: ErrCorrupt, Detail: fmt.Sprintf("holds %q, not a version", v)}
	}
	return v, nil
}

func (s *store) manifest(ctx context.Context, name, version string, c openConfig) (*Manifest, error) {
	p := s.path(name, version, manifestFile)
	b, found, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &Error{Path: p, Class: ErrNotFound, Detail: fmt.Sprintf("version %s of %s was not published", version, name)}
	}
	return decodeManifest(p, b, name, version, c.kind)
}

func (s *store) open(ctx context.Context, name, version string, c openConfig) (*Artifact, error) {
	m, err := s.manifest(ctx, name, version, c)
	if err != nil {
		return nil, err
	}
	a := &Artifact{Manifest: *m, Files: make(map[string][]byte, len(m.Files))}
	names := make([]string, 0, len(m.Files))
	for f := range m.Files {
		names = append(names, f)
	}
	sort.Strings(names) // the first bad file reported is the same every time
	for _, f := range names {
		want := m.Files[f]
		p := s.path(name, version, f)
		b, found, err := s.read(ctx, p)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, &Error{Path: p, Class: ErrCorrupt, Detail: "listed in manifest.json but missing"}
		}
		if int64(len(b)) != want.Size {
			return nil, &Error{Path: p, Class: ErrCorrupt, Detail: fmt.Sprintf("size %d, manifest.json says %d", len(b), want.Size)}
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want.SHA256) {
			return nil, &Error{Path: p, Class: ErrCorrupt, Detail: fmt.Sprintf("sha256 %s, manifest.json says %s", got, want.SHA256)}
		}
		a.Files[f] = b
	}
	return a, nil
}

// read returns the contents of p, or found == false if there is no such file. Backends report
// a missing file each their own way (gs:// with storage.ErrObjectNotExist), so when the error
// is not io/fs's own, a listing of the exact name decides.
func (s *store) read(ctx context.Context, p string) (b []byte, found bool, err error) {
	rc, err := s.fs.OpenRead(ctx, p)
	if err == nil {
		defer rc.Close()
		if b, err = io.ReadAll(rc); err == nil {
			return b, true, nil
		}
	}
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, false, nil
	}
	if names, lerr := s.fs.List(ctx, p); lerr == nil && !slices.Contains(names, p) {
		return nil, false, nil
	}
	return nil, false, &Error{Path: p, Detail: "reading", Err: err}
}

// write stores b as p. Locally it writes a temporary file beside p, syncs and renames it, so
// p is never seen half-written, even after a crash; on gs:// an object becomes visible only
// once its upload completes.
func (s *store) write(ctx context.Context, p string, b []byte) error {
	if s.local() {
		if err := writeLocal(p, b); err != nil {
			return &Error{Path: p, Detail: "writing", Err: err}
		}
		return nil
	}
	w, err := s.fs.OpenWrite(ctx, p)
	if err != nil {
		return &Error{Path: p, Detail: "creating", Err: err}
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return &Error{Path: p, Detail: "writing", Err: err}
	}
	if err := w.Close(); err != nil {
		return &Error{Path: p, Detail: "writing", Err: err}
	}
	return nil
}

func writeLocal(p string, b []byte) (err error) {
	dir, base := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil { // CreateTemp's 0600 would hide models from other users
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// versionDirs returns the version directories of name holding any file, complete or not:
// Publish must not reuse the name of a half-written version either.
func (s *store) versionDirs(ctx context.Context, name string) (map[string]bool, error) {
	pattern := s.path(name, "*", "*")
	found, err := s.fs.List(ctx, pattern)
	if err != nil {
		return nil, &Error{Path: pattern, Detail: "listing versions", Err: err}
	}
	taken := make(map[string]bool, len(found))
	for _, p := range found {
		taken[parentName(p)] = true
	}
	return taken, nil
}

// parentName returns the name of the directory holding p: "v1" for "gs://b/m/v1/manifest.json".
func parentName(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2]
}

var segment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

// checkSegment accepts names that are one plain path segment, the same on every filesystem
// and free of glob characters (Versions lists with one): letters, digits, '.', '_' and '-',
// starting with a letter or digit, so never "..", a hidden file or a temporary file.
func checkSegment(what, s string) error {
	if !segment.MatchString(s) {
		return &Error{Path: s, Class: ErrBadName, Detail: fmt.Sprintf(
			"a %s name is 1 to 200 letters, digits, '.', '_' or '-', starting with a letter or digit", what)}
	}
	return nil
}

func checkNames(name, version string) error {
	if err := checkSegment("model", name); err != nil {
		return err
	}
	return checkSegment("version", version)
}

// compareVersions orders versions by time, then by the suffix Publish adds to a repeated
// time, numerically: 20261122T083000Z < 20261122T083000Z-2 < 20261122T083000Z-10.
// Versions not of that form sort as plain strings.
func compareVersions(a, b string) int {
	ab, an := splitVersion(a)
	bb, bn := splitVersion(b)
	if c := strings.Compare(ab, bb); c != 0 {
		return c
	}
	if an != bn {
		if an < bn {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func splitVersion(v string) (base string, n int) {
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		return v, 1
	}
	n, err := strconv.Atoi(v[i+1:])
	if err != nil || n < 2 {
		return v, 1
	}
	return v[:i], n
}
