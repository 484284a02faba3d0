package main

import (
	"context"
	"github.com/beamline/beamline/internal/dev/testenv"
	"os"
	"path/filepath"
	"testing"

	"github.com/beamline/beamline/internal/dev/toymodel"
)

// checks runs every check main runs before it builds the pipeline, on the parsed flags.
func checks() error {
	_, _, err := prepare(context.Background())
	return err
}

// Bad flags fail before the pipeline is built, with one line naming the flag and the fix.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "docs.jsonl")
	os.WriteFile(in, []byte(`{"id":"d1","text":"games"}`+"\n"), 0o644)
	models := filepath.Join(dir, "models")
	v := toymodel.Publish(t, models, "topics", t0, "games", "net")
	empty := t.TempDir()
	full := filepath.Join(dir, "full")
	os.MkdirAll(filepath.Join(full, "predictions"), 0o755)
	os.WriteFile(filepath.Join(full, "predictions", "part-00000-of-00002.jsonl"), []byte("{}\n"), 0o644)
	out := func() string { return filepath.Join(t.TempDir(), "out") }
	base := func(extra ...string) []string {
		return append([]string{"--input=" + in, "--model_dir=" + models, "--output=" + out()}, extra...)
	}
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": testenv.ClosedPort(t)}
	o := out()
	testenv.RunFlagCases(t, []testenv.FlagCase{
		testenv.Row("ok", base(), nil, nil),
		testenv.Row("pinned version", base("--model_version="+v), nil, nil),
		testenv.Row("airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil),
		testenv.Row("no input", []string{"--model_dir=" + models, "--output=" + out()}, []string{"--input is required"}, nil),
		testenv.Row("no model dir", []string{"--input=" + in, "--output=" + out()}, []string{"--model_dir is required"}, nil),
		testenv.Row("nonexistent model dir", base("--model_dir=/nonexistent"), []string{"--model_dir=/nonexistent holds no published model", "run topics-train first"}, nil),
		testenv.Row("empty store", base("--model_dir="+empty), []string{"holds no published model", "topics-train"}, nil),
		testenv.Row("wrong name", base("--name=other"), []string{`holds no published model "other"`, "--name"}, nil),
		testenv.Row("unknown pinned version", base("--model_version=20200101T000000Z"), []string{"has no version 20200101T000000Z", "drop the pin"}, nil),
		testenv.Row("arm b missing", base("--variant_b=nothing"), []string{`holds no published model "nothing"`}, nil),
		testenv.Row("model dir a table", base("--model_dir=bq://my-project.m.t"), []string{"--model_dir=bq://my-project.m.t", "does not take"}, nil),
		testenv.Row("no output", []string{"--input=" + in, "--model_dir=" + models}, []string{"--output is required"}, nil),
		testenv.Row("input topic", base("--input=pubsub://projects/my-project/topics/docs"), []string{"is a topic", "subscriptions/S"}, nil),
		testenv.Row("input matches nothing", base("--input="+filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil),
		testenv.Row("output subscription", base("--output=pubsub://projects/my-project/subscriptions/out"), []string{"--output=pubsub://projects/my-project/subscriptions/out is a subscription"}, nil),
		testenv.Row("topic output needs dead letter", base("--output=pubsub://projects/my-project/topics/out"), []string{"--dead_letter is required"}, nil),
		testenv.Row("kafka output", base("--output=kafka://127.0.0.1:9092/out"), []string{"--output=kafka://", "unknown scheme"}, nil),
		testenv.Row("dead letter table", base("--dead_letter=bq://my-project.d.dead"), []string{"--dead_letter=bq://my-project.d.dead", "does not take"}, nil),
		testenv.Row("dead letter in predictions", []string{"--input=" + in, "--model_dir=" + models, "--output=" + o, "--dead_letter=" + filepath.Join(o, "predictions", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil),
		testenv.Row("output not empty", []string{"--input=" + in, "--model_dir=" + models, "--output=" + full}, []string{"already holds 1 file(s)", "--overwrite"}, nil),
		testenv.Row("output not empty, overwrite", []string{"--input=" + in, "--model_dir=" + models, "--output=" + full, "--overwrite"}, nil, nil),
		testenv.Row("refresh 1ns", base("--refresh=1ns"), []string{"--refresh=1ns is too short"}, nil),
		testenv.Row("window 0", base("--window=0"), []string{"--window=0s is too short"}, nil),
		testenv.Row("idle stop", base("--idle_stop=1ns"), []string{"--idle_stop=1ns"}, nil),
		testenv.Row("top k", base("--top_k=0"), []string{"--top_k=0"}, nil),
		testenv.Row("b percent", base("--variant_b=topics", "--variant_b_percent=100"), []string{"--variant_b_percent=100"}, nil),
		testenv.Row("dataflow local model dir", base("--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/s"), []string{"--input=", "Dataflow workers cannot reach"}, nil),
		testenv.Row("pubsub unreachable", base("--input=pubsub://projects/my-project/subscriptions/docs"), []string{"--input=pubsub://", "cannot reach PUBSUB_EMULATOR_HOST="}, emu),
	}, checks)
}
