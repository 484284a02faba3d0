package main

import (
	"context"
	"github.com/beamline/beamline/internal/dev/testenv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beamline/beamline/runners"
)

// checks runs every check main runs before it builds the pipeline, on the parsed flags.
func checks() error {
	if err := runners.Check(); err != nil {
		return err
	}
	o, err := optionsFromFlags(time.Now())
	if err != nil {
		return err
	}
	_, err = outputs(context.Background(), o)
	return err
}

// Bad flags fail before the pipeline is built, with one line naming the flag and the fix.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte("{}\n"), 0o644)
	models := filepath.Join(dir, "models")
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "part-00000-of-00001.jsonl"), []byte("{}\n"), 0o644)
	base := func(extra ...string) []string {
		return append([]string{"--input=" + in, "--model_dir=" + models}, extra...)
	}
	testenv.RunFlagCases(t, []testenv.FlagCase{
		testenv.Row("ok", base(), nil, nil),
		testenv.Row("airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil),
		testenv.Row("no input", []string{"--model_dir=" + models}, []string{"--input is required"}, nil),
		testenv.Row("no model dir", []string{"--input=" + in}, []string{"--model_dir is required"}, nil),
		testenv.Row("input matches nothing", base("--input="+filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil),
		testenv.Row("input subscription", base("--input=pubsub://projects/my-project/subscriptions/docs"), []string{"--input=pubsub://", "does not take"}, nil),
		testenv.Row("model dir table", base("--model_dir=bq://my-project.m.t"), []string{"--model_dir=bq://my-project.m.t", "does not take"}, nil),
		testenv.Row("model dir unknown scheme", base("--model_dir=s3://b/m"), []string{"--model_dir=s3://b/m", "unknown scheme"}, nil),
		testenv.Row("dead letter in the model", base("--dead_letter="+filepath.Join(models, "topics", "dead")), []string{"--dead_letter=", "is inside", "--model_dir writes"}, nil),
		testenv.Row("dead letter not empty", base("--dead_letter="+full), []string{"--dead_letter=" + full + " already holds 1 file(s)", "--overwrite"}, nil),
		testenv.Row("held out", base("--held_out=0"), []string{"--held_out=0"}, nil),
		testenv.Row("max text", base("--max_text=0"), []string{"--max_text=0"}, nil),
		testenv.Row("dataflow local input", base("--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/s"), []string{"--input=", "Dataflow workers cannot reach"}, nil),
	}, checks)
}
