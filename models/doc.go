// Package models is the parent of Beamline's trainable models: textclass (topic
// classification), recommend (item-item similarity) and baseline (rate baselines for
// ratealarm). Each lives in its own sub-package with a training transform, a versioned,
// self-describing, checksummed artifact (io/modelstore) and an evaluation report.
package models
