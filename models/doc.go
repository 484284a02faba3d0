// Package models is the parent of Beamline's trainable models: textclass (topic
// classification) and baseline (hour-of-week rate baselines for ratealarm). Each lives in its
// own sub-package with a training transform, a versioned, self-describing, checksummed
// artifact (io/modelstore) and an evaluation report.
// recommend (popularity, item-item, implicit ALS, BPR) is plain Go, trained by pipelines/recommend-train.
package models
