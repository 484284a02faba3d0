// Package modelstore keeps versioned, self-describing, checksummed model artifacts under a
// local directory or a gs:// prefix. Batch jobs publish; streaming pipelines poll and refresh.
//
// # Layout
//
//	<root>/<name>/LATEST                          the current version, e.g. "20261122T083000Z\n"
//	<root>/<name>/<version>/manifest.json         the Manifest: kind, format, labels, feature spec,
//	                                              params, metrics, training data range, and the
//	                                              size and SHA-256 of every payload file
//	<root>/<name>/<version>/model.bin, report.json, …  the payload
//
// Versions are the creation time in UTC to the second, so they sort in time order, with -2,
// -3, … added when a second one is published within the same second.
//
// # Publishing
//
// Publish writes the payload, then manifest.json, then LATEST, so a reader that follows
// LATEST never meets a half-written version:
//
//	v, err := modelstore.Publish(ctx, "gs://lake/models", "spam", modelstore.Manifest{
//		Kind:    "textclass.nb",
//		Labels:  []string{"ham", "spam"},
//		Metrics: map[string]float64{"accuracy": 0.97},
//		Data:    modelstore.TrainingData{Input: "gs://lake/clean/mail/*", From: from, To: to, Records: n},
//	}, map[string][]byte{"model.bin": bin, "report.html": html})
//
// SetLatest moves LATEST to any published version after verifying it, which is how a bad
// model is rolled back.
//
// # Reading
//
// Open and OpenLatest verify what they read: the manifest format is one this build knows
// (a newer one is ErrIncompatible), every listed file is present with its size and SHA-256
// (else ErrCorrupt naming the file), and, with WithKind, the model is of the expected kind.
// Latest, Versions and ReadManifest inspect a store without reading payloads.
//
// A running pipeline holds its model in a Refresher, which swaps in a new version when
// LATEST moves and keeps the old one when the new one fails to open or decode:
//
//	r := modelstore.NewRefresher("gs://lake/models", "spam", decodeNB, modelstore.WithKind("textclass.nb"))
//	changed, err := r.Check(ctx) // at Setup, then every few minutes from StartBundle
//	model, version, ok := r.Current()
//
// Errors about one file or version are *Error values naming the path and wrapping one of
// ErrNotFound, ErrCorrupt, ErrIncompatible or ErrBadName.
package modelstore
