package modelstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/modelstore"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC)

// backend is where a test keeps its store: a temporary directory, or a prefix on a
// fake-gcs-server the test starts.
type backend struct {
	name string
	root func(t *testing.T) string
}

var backends = []backend{
	{"local", func(t *testing.T) string { return t.TempDir() }},
	{"gcs", func(t *testing.T) string {
		testenv.FakeGCS(t, "lake")
		return "gs://lake/models"
	}},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, root string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.root(t)) })
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func manifest(created time.Time) modelstore.Manifest {
	return modelstore.Manifest{
		Kind:      "textclass.nb",
		CreatedAt: created,
		Labels:    []string{"ham", "spam"},
		Features:  json.RawMessage(`{"tokenizer":"words","ngrams":2}`),
		Params:    json.RawMessage(`{"alpha":1}`),
		Metrics:   map[string]float64{"accuracy": 0.97, "f1": 0.91},
		Data: modelstore.TrainingData{
			Input:   "gs://lake/clean/mail/*",
			From:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			To:      time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
			Records: 120_000,
		},
	}
}

func mustPublish(t *testing.T, root, name string, m modelstore.Manifest, payload map[string][]byte) string {
	t.Helper()
	v, err := modelstore.Publish(context.Background(), root, name, m, payload)
	if err != nil {
		t.Fatalf("Publish(%s, %s) = %v", root, name, err)
	}
	return v
}

func TestPublishOpenRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, root string) {
		ctx := context.Background()
		payload := map[string][]byte{
			"model.bin":   []byte("\x00\x01weights\xff"),
			"report.json": []byte(`{"accuracy":0.97}`),
			"report.html": []byte("<p>ok</p>"),
		}
		v := mustPublish(t, root, "spam", manifest(t0.Add(123*time.Millisecond)), payload)
		if v != "20261122T083000Z" {
			t.Errorf("Publish version = %q, want 20261122T083000Z", v)
		}
		want := manifest(t0.Add(123 * time.Millisecond))
		want.FormatVersion, want.Name, want.Version = modelstore.CurrentFormat, "spam", v
		want.Files = map[string]modelstore.FileInfo{}
		for f, b := range payload {
			want.Files[f] = modelstore.FileInfo{Size: int64(len(b)), SHA256: sum(b)}
		}
		wantArtifact := &modelstore.Artifact{Manifest: want, Files: payload}

		got, err := modelstore.Open(ctx, root, "spam", v)
		if err != nil {
			t.Fatalf("Open(%s) = %v", v, err)
		}
		if diff := cmp.Diff(wantArtifact, got); diff != "" {
			t.Errorf("Open(%s) (-want +got):\n%s", v, diff)
		}
		got, err = modelstore.OpenLatest(ctx, root, "spam", modelstore.WithKind("textclass.nb"))
		if err != nil {
			t.Fatalf("OpenLatest = %v", err)
		}
		if diff := cmp.Diff(wantArtifact, got); diff != "" {
			t.Errorf("OpenLatest (-want +got):\n%s", diff)
		}
		m, err := modelstore.ReadManifest(ctx, root, "spam", v)
		if err != nil {
			t.Fatalf("ReadManifest = %v", err)
		}
		if diff := cmp.Diff(&want, m); diff != "" {
			t.Errorf("ReadManifest (-want +got):\n%s", diff)
		}

		// The manifest is self-describing JSON a person or another tool can read.
		raw, err := files.ReadAll(ctx, files.Join(root, "spam", v, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("manifest.json does not parse: %v\n%s", err, raw)
		}
		for _, key := range []string{"format_version", "name", "kind", "version", "created_at", "features", "params", "metrics", "data", "files"} {
			if _, ok := doc[key]; !ok {
				t.Errorf("manifest.json has no %q:\n%s", key, raw)
			}
		}
		latest, err := files.ReadAll(ctx, files.Join(root, "spam", "LATEST"))
		if err != nil || string(latest) != v+"\n" {
			t.Errorf("LATEST = %q, %v; want %q", latest, err, v+"\n")
		}
	})
}

func TestLatestMovesAndVersions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, root string) {
		ctx := context.Background()
		steps := []struct {
			created time.Time
			want    string
		}{
			{t0, "20261122T083000Z"},
			{t0.Add(500 * time.Millisecond), "20261122T083000Z-2"}, // the same second again
			{t0.Add(24 * time.Hour), "20261123T083000Z"},
		}
		var published []string
		for _, st := range steps {
			v := mustPublish(t, root, "spam", manifest(st.created), map[string][]byte{"model.bin": []byte(st.want)})
			if v != st.want {
				t.Errorf("Publish(CreatedAt %v) = %q, want %q", st.created, v, st.want)
			}
			published = append(published, v)
			latest, err := modelstore.Latest(ctx, root, "spam")
			if err != nil || latest != v {
				t.Errorf("Latest after publishing %s = %q, %v; want %q", v, latest, err, v)
			}
		}
		got, err := modelstore.Versions(ctx, root, "spam")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(published, got); diff != "" {
			t.Errorf("Versions (-want +got):\n%s", diff)
		}
		a, err := modelstore.Open(ctx, root, "spam", "20261122T083000Z-2")
		if err != nil || string(a.Files["model.bin"]) != "20261122T083000Z-2" {
			t.Errorf("Open(20261122T083000Z-2) = %v, %v; want its own payload", a, err)
		}
	})
}

// TestVersionsSortNumericSuffix publishes a dozen versions within one second: -10 must sort
// after -9, not after the first.
func TestVersionsSortNumericSuffix(t *testing.T) {
	root := t.TempDir()
	want := []string{"20261122T083000Z"}
	mustPublish(t, root, "spam", manifest(t0), nil)
	for i := 2; i <= 12; i++ {
		want = append(want, fmt.Sprintf("20261122T083000Z-%d", i))
		mustPublish(t, root, "spam", manifest(t0), nil)
	}
	got, err := modelstore.Versions(context.Background(), root, "spam")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Versions (-want +got):\n%s", diff)
	}
}

// TestAbandonedVersion: a publisher that died after writing payload but before the manifest
// leaves a directory Versions does not list and Publish does not reuse.
func TestAbandonedVersion(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	v1 := mustPublish(t, root, "spam", manifest(t0.Add(-time.Hour)), map[string][]byte{"model.bin": []byte("v1")})
	dead := filepath.Join(root, "spam", "20261122T083000Z")
	if err := os.MkdirAll(dead, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, "model.bin"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := modelstore.Versions(ctx, root, "spam")
	if err != nil || !cmp.Equal(got, []string{v1}) {
		t.Errorf("Versions with an abandoned version = %q, %v; want [%s]", got, err, v1)
	}
	if _, err := modelstore.Open(ctx, root, "spam", "20261122T083000Z"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Errorf("Open(abandoned version) = %v, want ErrNotFound", err)
	}
	if v := mustPublish(t, root, "spam", manifest(t0), nil); v != "20261122T083000Z-2" {
		t.Errorf("Publish over an abandoned version = %q, want 20261122T083000Z-2", v)
	}
	// Locally every file goes through a temporary name: none may be left behind.
	left, _ := filepath.Glob(filepath.Join(root, "spam", "*", ".*"))
	if more, _ := filepath.Glob(filepath.Join(root, "spam", ".*")); len(left)+len(more) > 0 {
		t.Errorf("temporary files left: %v %v", left, more)
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := files.WriteFile(context.Background(), path, b); err != nil {
		t.Fatal(err)
	}
}

// editManifest rewrites the manifest of one version through fn, on any backend.
func editManifest(t *testing.T, root, name, version string, fn func(map[string]any)) {
	t.Helper()
	ctx := context.Background()
	p := files.Join(root, name, version, "manifest.json")
	b, err := files.ReadAll(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p, b)
}

func TestOpenErrors(t *testing.T) {
	const v = "20261122T083000Z"
	payload := map[string][]byte{"model.bin": []byte("weights"), "report.json": []byte("{}")}
	tests := []struct {
		name    string
		damage  func(t *testing.T, root string)
		open    func(ctx context.Context, root string) error
		want    error
		wantMsg []string // each must appear in the message
	}{
		{
			name: "tampered byte",
			damage: func(t *testing.T, root string) {
				mustWrite(t, files.Join(root, "spam", v, "model.bin"), []byte("weighTs"))
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"spam/" + v + "/model.bin", "sha256 " + sum([]byte("weighTs")), "manifest.json says " + sum([]byte("weights"))},
		},
		{
			name: "truncated file",
			damage: func(t *testing.T, root string) {
				mustWrite(t, files.Join(root, "spam", v, "report.json"), []byte("{"))
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"spam/" + v + "/report.json", "size 1, manifest.json says 2"},
		},
		{
			name: "listed file missing",
			damage: func(t *testing.T, root string) {
				editManifest(t, root, "spam", v, func(m map[string]any) {
					m["files"].(map[string]any)["extra.bin"] = map[string]any{"size": 1, "sha256": sum([]byte("x"))}
				})
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"spam/" + v + "/extra.bin", "missing"},
		},
		{
			name: "newer format",
			damage: func(t *testing.T, root string) {
				// A future format may change fields beyond recognition; the format alone decides.
				editManifest(t, root, "spam", v, func(m map[string]any) { m["format_version"] = 99; m["files"] = "elsewhere" })
			},
			want:    modelstore.ErrIncompatible,
			wantMsg: []string{"spam/" + v + "/manifest.json", "format 99", "reads format 1"},
		},
		{
			name: "manifest not json",
			damage: func(t *testing.T, root string) {
				mustWrite(t, files.Join(root, "spam", v, "manifest.json"), []byte("{\"format_"))
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"spam/" + v + "/manifest.json", "does not parse"},
		},
		{
			name: "no format",
			damage: func(t *testing.T, root string) {
				editManifest(t, root, "spam", v, func(m map[string]any) { delete(m, "format_version") })
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"spam/" + v + "/manifest.json", "no format_version"},
		},
		{
			name: "manifest of another model",
			damage: func(t *testing.T, root string) {
				editManifest(t, root, "spam", v, func(m map[string]any) { m["name"] = "fraud" })
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"describes fraud version " + v + ", found as spam version " + v},
		},
		{
			name: "file name escaping the version",
			damage: func(t *testing.T, root string) {
				editManifest(t, root, "spam", v, func(m map[string]any) {
					m["files"].(map[string]any)["../LATEST"] = map[string]any{"size": 17, "sha256": "x"}
				})
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{`"../LATEST"`, "not a plain file name"},
		},
		{
			name: "other kind",
			open: func(ctx context.Context, root string) error {
				_, err := modelstore.Open(ctx, root, "spam", v, modelstore.WithKind("textclass.lr"))
				return err
			},
			want:    modelstore.ErrIncompatible,
			wantMsg: []string{"spam/" + v + "/manifest.json", `kind is "textclass.nb", want "textclass.lr"`},
		},
		{
			name: "missing version",
			open: func(ctx context.Context, root string) error {
				_, err := modelstore.Open(ctx, root, "spam", "20250101T000000Z")
				return err
			},
			want:    modelstore.ErrNotFound,
			wantMsg: []string{"spam/20250101T000000Z/manifest.json", "not published"},
		},
		{
			name: "missing model",
			open: func(ctx context.Context, root string) error {
				_, err := modelstore.OpenLatest(ctx, root, "fraud")
				return err
			},
			want:    modelstore.ErrNotFound,
			wantMsg: []string{"fraud/LATEST", "never published"},
		},
		{
			name: "missing model versions",
			open: func(ctx context.Context, root string) error {
				_, err := modelstore.Versions(ctx, root, "fraud")
				return err
			},
			want:    modelstore.ErrNotFound,
			wantMsg: []string{"fraud", "no version published"},
		},
		{
			name: "LATEST garbled",
			damage: func(t *testing.T, root string) {
				mustWrite(t, files.Join(root, "spam", "LATEST"), []byte("../../etc\n"))
			},
			open: func(ctx context.Context, root string) error {
				_, err := modelstore.OpenLatest(ctx, root, "spam")
				return err
			},
			want:    modelstore.ErrCorrupt,
			wantMsg: []string{"spam/LATEST", `holds "../../etc"`},
		},
		{
			name: "version not a name",
			open: func(ctx context.Context, root string) error {
				_, err := modelstore.Open(ctx, root, "spam", "../spam")
				return err
			},
			want:    modelstore.ErrBadName,
			wantMsg: []string{"../spam", "version name"},
		},
	}
	forEachBackend(t, func(t *testing.T, root string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				// Each case gets its own store under root: damage must not leak into the next.
				root := files.Join(root, strings.ReplaceAll(tt.name, " ", "-"))
				if got := mustPublish(t, root, "spam", manifest(t0), payload); got != v {
					t.Fatalf("Publish = %q, want %q", got, v)
				}
				if tt.damage != nil {
					tt.damage(t, root)
				}
				open := tt.open
				if open == nil {
					open = func(ctx context.Context, root string) error {
						_, err := modelstore.Open(ctx, root, "spam", v)
						return err
					}
				}
				err := open(ctx, root)
				if !errors.Is(err, tt.want) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				for _, s := range tt.wantMsg {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				var e *modelstore.Error
				if !errors.As(err, &e) || e.Path == "" {
					t.Errorf("error %v is not a *modelstore.Error with a path", err)
				}
			})
		}
	})
}

func TestPublishRejects(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name    string
		model   string
		m       modelstore.Manifest
		payload map[string][]byte
		wantMsg string
	}{
		{name: "model path", model: "../spam", wantMsg: "model name"},
		{name: "empty model", model: "", wantMsg: "model name"},
		{name: "file in a subdirectory", model: "spam", payload: map[string][]byte{"a/b.bin": nil}, wantMsg: "file name"},
		{name: "hidden file", model: "spam", payload: map[string][]byte{".model.bin": nil}, wantMsg: "file name"},
		{name: "manifest as payload", model: "spam", payload: map[string][]byte{"manifest.json": nil}, wantMsg: "reserved"},
		{name: "manifest of another model", model: "spam", m: modelstore.Manifest{Name: "fraud"}, wantMsg: `names model "fraud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := modelstore.Publish(context.Background(), root, tt.model, tt.m, tt.payload)
			if !errors.Is(err, modelstore.ErrBadName) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Publish(%q, files %v) = %q, %v; want ErrBadName saying %q", tt.model, tt.payload, v, err, tt.wantMsg)
			}
		})
	}
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Errorf("rejected publications wrote %v", left)
	}
}

func TestSetLatestRollsBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, root string) {
		ctx := context.Background()
		v1 := mustPublish(t, root, "spam", manifest(t0), map[string][]byte{"model.bin": []byte("one")})
		v2 := mustPublish(t, root, "spam", manifest(t0.Add(time.Hour)), map[string][]byte{"model.bin": []byte("two")})
		if err := modelstore.SetLatest(ctx, root, "spam", v1); err != nil {
			t.Fatalf("SetLatest(%s) = %v", v1, err)
		}
		if got, err := modelstore.Latest(ctx, root, "spam"); err != nil || got != v1 {
			t.Errorf("Latest after rollback = %q, %v; want %q", got, err, v1)
		}
		// A version that does not verify is refused, and LATEST stays where it was.
		mustWrite(t, files.Join(root, "spam", v2, "model.bin"), []byte("twO"))
		if err := modelstore.SetLatest(ctx, root, "spam", v2); !errors.Is(err, modelstore.ErrCorrupt) {
			t.Errorf("SetLatest(corrupt %s) = %v, want ErrCorrupt", v2, err)
		}
		if err := modelstore.SetLatest(ctx, root, "spam", "20200101T000000Z"); !errors.Is(err, modelstore.ErrNotFound) {
			t.Errorf("SetLatest(unpublished) = %v, want ErrNotFound", err)
		}
		if got, err := modelstore.Latest(ctx, root, "spam"); err != nil || got != v1 {
			t.Errorf("Latest after refused SetLatest = %q, %v; want %q", got, err, v1)
		}
	})
}
