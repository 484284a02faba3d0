package modelstore_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/beamline/beamline/io/modelstore"
)

// A daily batch job publishes a model; a pipeline opens the latest version, verified.
func ExamplePublish() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "models") // or "gs://lake/models"
	defer os.RemoveAll(root)

	v, err := modelstore.Publish(ctx, root, "spam", modelstore.Manifest{
		Kind:      "textclass.nb",
		CreatedAt: time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC),
		Labels:    []string{"ham", "spam"},
		Metrics:   map[string]float64{"accuracy": 0.97},
	}, map[string][]byte{"model.bin": []byte("weights")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("published", v)

	a, err := modelstore.OpenLatest(ctx, root, "spam", modelstore.WithKind("textclass.nb"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := a.Manifest
	fmt.Println(m.Name, m.Version, m.Kind, m.Labels, m.Metrics["accuracy"])
	fmt.Printf("model.bin: %q, %d bytes, sha256 %.12s…\n", a.Files["model.bin"], m.Files["model.bin"].Size, m.Files["model.bin"].SHA256)
	// Output:
	// published 20261122T083000Z
	// spam 20261122T083000Z textclass.nb [ham spam] 0.97
	// model.bin: "weights", 7 bytes, sha256 9a129038d9a0…
}

// A streaming pipeline keeps serving the model it has until a newer one opens and decodes.
func ExampleRefresher() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "models")
	defer os.RemoveAll(root)
	decode := func(a *modelstore.Artifact) (string, error) { return string(a.Files["model.bin"]), nil }
	r := modelstore.NewRefresher(root, "spam", decode)

	publish := func(at time.Time, weights string) {
		m := modelstore.Manifest{Kind: "textclass.nb", CreatedAt: at}
		if _, err := modelstore.Publish(ctx, root, "spam", m, map[string][]byte{"model.bin": []byte(weights)}); err != nil {
			fmt.Println(err)
		}
	}
	day1 := time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC)
	publish(day1, "monday")
	changed, err := r.Check(ctx)
	model, version, _ := r.Current()
	fmt.Println(changed, err, model, version)

	changed, err = r.Check(ctx) // nothing new
	fmt.Println(changed, err)

	publish(day1.Add(24*time.Hour), "tuesday")
	changed, err = r.Check(ctx)
	model, version, _ = r.Current()
	fmt.Println(changed, err, model, version)
	// Output:
	// true <nil> monday 20261122T083000Z
	// false <nil>
	// true <nil> tuesday 20261123T083000Z
}
