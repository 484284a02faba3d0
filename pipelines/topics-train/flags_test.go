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
	"time"

	"github.com/beamline/beamline/runners"
)

// checkFlags parses args as the binary would and runs every check main runs before it builds
// the pipeline.
func checkFlags(t *testing.T, args []string) error {
	t.Helper()
	testenv.ResetFlags(t)
	if err := flag.CommandLine.Parse(args); err != nil {
		return err
	}
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
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte("{}\n"), 0o644)
	models := filepath.Join(dir, "models")
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "part-00000-of-00001.jsonl"), []byte("{}\n"), 0o644)
	base := func(extra ...string) []string {
		return append([]string{"--input=" + in, "--model_dir=" + models}, extra...)
	}
	_ = closedPort
	runFlagCases(t, []flagCase{
		{"ok", base(), nil, nil},
		{"airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil},
		{"no input", []string{"--model_dir=" + models}, []string{"--input is required"}, nil},
		{"no model dir", []string{"--input=" + in}, []string{"--model_dir is required"}, nil},
		{"input matches nothing", base("--input=" + filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil},
		{"input subscription", base("--input=pubsub://projects/my-project/subscriptions/docs"), []string{"--input=pubsub://", "does not take"}, nil},
		{"model dir table", base("--model_dir=bq://my-project.m.t"), []string{"--model_dir=bq://my-project.m.t", "does not take"}, nil},
		{"model dir unknown scheme", base("--model_dir=s3://b/m"), []string{"--model_dir=s3://b/m", "unknown scheme"}, nil},
		{"dead letter in the model", base("--dead_letter=" + filepath.Join(models, "topics", "dead")), []string{"--dead_letter=", "is inside", "--model_dir writes"}, nil},
		{"dead letter not empty", base("--dead_letter=" + full), []string{"--dead_letter=" + full + " already holds 1 file(s)", "--overwrite"}, nil},
		{"held out", base("--held_out=0"), []string{"--held_out=0"}, nil},
		{"max text", base("--max_text=0"), []string{"--max_text=0"}, nil},
		{"dataflow local input", base("--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/s"), []string{"--input=", "Dataflow workers cannot reach"}, nil},
	})
}
