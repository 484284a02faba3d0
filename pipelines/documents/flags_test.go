package main

import (
	"context"
	"flag"
	"github.com/beamline/beamline/internal/dev/testenv"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beamline/beamline/internal/dev/toymodel"
)

// checkFlags parses args as the binary would and runs every check main runs before it builds
// the pipeline.
func checkFlags(t *testing.T, args []string) error {
	t.Helper()
	testenv.ResetFlags(t)
	if err := flag.CommandLine.Parse(args); err != nil {
		return err
	}
	_, _, err := prepare(context.Background())
	return err
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// flagCase is one command line and what its error must say ("" for none). Every error must
// be one line naming the flag (want holds "--flag") and the fix.
type flagCase struct {
	name string
	args []string
	want []string
	env  map[string]string
}

func runFlagCases(t *testing.T, cases []flagCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := checkFlags(t, tc.args)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("flags %q: %v, want no error", tc.args, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("flags %q: no error, want one containing %q", tc.args, tc.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("flags %q: error spans several lines: %q", tc.args, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("flags %q: error %q, want it to contain %q", tc.args, msg, w)
				}
			}
		})
	}
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
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": closedPort(t)}
	o := out()
	runFlagCases(t, []flagCase{
		{"ok", base(), nil, nil},
		{"pinned version", base("--model_version=" + v), nil, nil},
		{"airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil},
		{"no input", []string{"--model_dir=" + models, "--output=" + out()}, []string{"--input is required"}, nil},
		{"no model dir", []string{"--input=" + in, "--output=" + out()}, []string{"--model_dir is required"}, nil},
		{"nonexistent model dir", base("--model_dir=/nonexistent"), []string{"--model_dir=/nonexistent holds no published model", "run topics-train first"}, nil},
		{"empty store", base("--model_dir=" + empty), []string{"holds no published model", "topics-train"}, nil},
		{"wrong name", base("--name=other"), []string{`holds no published model "other"`, "--name"}, nil},
		{"unknown pinned version", base("--model_version=20200101T000000Z"), []string{"has no version 20200101T000000Z", "drop the pin"}, nil},
		{"arm b missing", base("--variant_b=nothing"), []string{`holds no published model "nothing"`}, nil},
		{"model dir a table", base("--model_dir=bq://my-project.m.t"), []string{"--model_dir=bq://my-project.m.t", "does not take"}, nil},
		{"no output", []string{"--input=" + in, "--model_dir=" + models}, []string{"--output is required"}, nil},
		{"input topic", base("--input=pubsub://projects/my-project/topics/docs"), []string{"is a topic", "subscriptions/S"}, nil},
		{"input matches nothing", base("--input=" + filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil},
		{"output subscription", base("--output=pubsub://projects/my-project/subscriptions/out"), []string{"--output=pubsub://projects/my-project/subscriptions/out is a subscription"}, nil},
		{"topic output needs dead letter", base("--output=pubsub://projects/my-project/topics/out"), []string{"--dead_letter is required"}, nil},
		{"kafka output", base("--output=kafka://127.0.0.1:9092/out"), []string{"--output=kafka://", "unknown scheme"}, nil},
		{"dead letter table", base("--dead_letter=bq://my-project.d.dead"), []string{"--dead_letter=bq://my-project.d.dead", "does not take"}, nil},
		{"dead letter in predictions", []string{"--input=" + in, "--model_dir=" + models, "--output=" + o, "--dead_letter=" + filepath.Join(o, "predictions", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil},
		{"output not empty", []string{"--input=" + in, "--model_dir=" + models, "--output=" + full}, []string{"already holds 1 file(s)", "--overwrite"}, nil},
		{"output not empty, overwrite", []string{"--input=" + in, "--model_dir=" + models, "--output=" + full, "--overwrite"}, nil, nil},
		{"refresh 1ns", base("--refresh=1ns"), []string{"--refresh=1ns is too short"}, nil},
		{"window 0", base("--window=0"), []string{"--window=0s is too short"}, nil},
		{"idle stop", base("--idle_stop=1ns"), []string{"--idle_stop=1ns"}, nil},
		{"top k", base("--top_k=0"), []string{"--top_k=0"}, nil},
		{"b percent", base("--variant_b=topics", "--variant_b_percent=100"), []string{"--variant_b_percent=100"}, nil},
		{"dataflow local model dir", base("--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/s"), []string{"--input=", "Dataflow workers cannot reach"}, nil},
		{"pubsub unreachable", base("--input=pubsub://projects/my-project/subscriptions/docs"), []string{"--input=pubsub://", "cannot reach PUBSUB_EMULATOR_HOST="}, emu},
	})
}
