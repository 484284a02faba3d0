package modelstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/modelstore"
)

var errBadWeights = errors.New("bad weights")

// toy is a decoded model: its weights and the version they came from, so a test can tell
// whether Current hands out a model with the version it belongs to.
type toy struct {
	Weights string
	Version string
}

func decodeToy(a *modelstore.Artifact) (toy, error) {
	w := string(a.Files["model.bin"])
	if w == "bad" {
		return toy{}, errBadWeights
	}
	return toy{Weights: w, Version: a.Manifest.Version}, nil
}

func TestRefresher(t *testing.T) {
	forEachBackend(t, func(t *testing.T, root string) {
		ctx := context.Background()
		r := modelstore.NewRefresher(root, "spam", decodeToy, modelstore.WithKind("textclass.nb"))
		if _, _, ok := r.Current(); ok {
			t.Fatal("Current before any Check is ok")
		}
		if changed, err := r.Check(ctx); changed || !errors.Is(err, modelstore.ErrNotFound) {
			t.Fatalf("Check with nothing published = %v, %v; want false, ErrNotFound", changed, err)
		}

		publish := func(hour int, weights string) string {
			return mustPublish(t, root, "spam", manifest(t0.Add(time.Duration(hour)*time.Hour)),
				map[string][]byte{"model.bin": []byte(weights)})
		}
		// check runs Check and asserts what it returns and what Current then holds.
		check := func(step string, wantChanged bool, wantErr error, wantWeights, wantVersion string) {
			t.Helper()
			changed, err := r.Check(ctx)
			if changed != wantChanged || !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
				t.Errorf("%s: Check = %v, %v; want %v, %v", step, changed, err, wantChanged, wantErr)
			}
			m, v, ok := r.Current()
			if !ok || m.Weights != wantWeights || v != wantVersion || m.Version != v {
				t.Errorf("%s: Current = %+v, %q, %v; want weights %q, version %q", step, m, v, ok, wantWeights, wantVersion)
			}
		}

		v1 := publish(0, "one")
		check("v1 published", true, nil, "one", v1)
		check("nothing new", false, nil, "one", v1)

		v2 := publish(1, "two")
		check("v2 published", true, nil, "two", v2)

		v3 := publish(2, "three")
		mustWrite(t, files.Join(root, "spam", v3, "model.bin"), []byte("thrEe"))
		check("corrupt v3 published", false, modelstore.ErrCorrupt, "two", v2)
		// A failed version is not downloaded again on every poll: mending it in place goes
		// unseen (versions are immutable; the fix is a new version).
		mustWrite(t, files.Join(root, "spam", v3, "model.bin"), []byte("three"))
		check("corrupt v3 still latest", false, modelstore.ErrCorrupt, "two", v2)

		publish(3, "bad")
		check("v4 fails to decode", false, errBadWeights, "two", v2)

		mustPublish(t, root, "spam", modelstore.Manifest{Kind: "textclass.lr", CreatedAt: t0.Add(4 * time.Hour)},
			map[string][]byte{"model.bin": []byte("five")})
		check("v5 of another kind", false, modelstore.ErrIncompatible, "two", v2)

		v6 := publish(5, "six")
		check("v6 published", true, nil, "six", v6)

		if err := modelstore.SetLatest(ctx, root, "spam", v2); err != nil {
			t.Fatal(err)
		}
		check("rolled back to v2", true, nil, "two", v2)
	})
}

// TestRefresherConcurrent reads Current from several goroutines while versions are published
// and two goroutines Check: run with -race. Every model handed out must be whole (its
// version matching the one reported), and versions must only move forward.
func TestRefresherConcurrent(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	r := modelstore.NewRefresher(root, "spam", decodeToy)
	first := mustPublish(t, root, "spam", manifest(t0), map[string][]byte{"model.bin": []byte("w0")})
	if _, err := r.Check(ctx); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var readers sync.WaitGroup
	errs := make(chan string, 16)
	for range 4 {
		readers.Go(func() {
			last := first
			for {
				select {
				case <-done:
					return
				default:
				}
				m, v, ok := r.Current()
				if !ok || m.Version != v || v < last {
					select {
					case errs <- "Current = " + m.Version + "/" + v + " after " + last:
					default:
					}
					return
				}
				last = v
			}
		})
	}

	var last string
	var checkers sync.WaitGroup
	for i := 1; i <= 20; i++ {
		last = mustPublish(t, root, "spam", manifest(t0.Add(time.Duration(i)*time.Minute)), map[string][]byte{"model.bin": []byte{'w', byte('0' + i)}})
		for range 2 {
			checkers.Go(func() {
				if _, err := r.Check(ctx); err != nil {
					t.Errorf("Check = %v", err)
				}
			})
		}
		checkers.Wait()
	}
	close(done)
	readers.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if _, v, _ := r.Current(); v != last {
		t.Errorf("Current version after the last Check = %q, want %q", v, last)
	}
}

// BenchmarkCurrent is the per-record cost of asking for the model: one atomic load.
func BenchmarkCurrent(b *testing.B) {
	root := b.TempDir()
	if _, err := modelstore.Publish(context.Background(), root, "spam", manifest(t0), map[string][]byte{"model.bin": []byte("w")}); err != nil {
		b.Fatal(err)
	}
	r := modelstore.NewRefresher(root, "spam", decodeToy)
	if _, err := r.Check(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if m, _, ok := r.Current(); !ok || m.Weights != "w" {
			b.Fatalf("Current = %+v, %v", m, ok)
		}
	}
}
