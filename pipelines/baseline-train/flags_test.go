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
		testenv.Row("ok", base("--dimensions=country"), nil, nil),
		testenv.Row("airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil),
		testenv.Row("no input", []string{"--model_dir=" + models}, []string{"--input is required"}, nil),
		testenv.Row("input matches nothing", base("--input="+filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil),
		testenv.Row("window 1ns", base("--window=1ns"), []string{"--window=1ns must be at least 1ms"}, nil),
		testenv.Row("window 7m", base("--window=7m"), []string{"--window=7m0s", "divide a day"}, nil),
		testenv.Row("hold out 1ns", base("--hold_out=1ns"), []string{"--hold_out=1ns must be at least 1ms"}, nil),
		testenv.Row("unknown dimension", base("--dimensions=colour"), []string{"--dimensions=colour", "country, currency, payment"}, nil),
		testenv.Row("bad name", base("--name=a/b"), []string{"--name=\"a/b\""}, nil),
		testenv.Row("model dir kafka", base("--model_dir=kafka://h:1/t"), []string{"--model_dir=kafka://h:1/t", "unknown scheme"}, nil),
		testenv.Row("dead letter in the model", base("--dead_letter="+filepath.Join(models, "order-baseline")), []string{"--model_dir", "--dead_letter", "both write to"}, nil),
		testenv.Row("dead letter not empty", base("--dead_letter="+full), []string{"already holds 1 file(s)", "--overwrite"}, nil),
		testenv.Row("dataflow local input", base("--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/s"), []string{"--input=", "Dataflow workers cannot reach"}, nil),
	}, checks)
}
