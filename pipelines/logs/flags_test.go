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
	in := filepath.Join(dir, "access.log")
	os.WriteFile(in, []byte("127.0.0.1 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 2326 \"-\" \"curl/8\"\n"), 0o644)
	full := filepath.Join(dir, "full")
	os.MkdirAll(filepath.Join(full, "hits"), 0o755)
	os.WriteFile(filepath.Join(full, "hits", "part-00000-of-00002.jsonl"), []byte("{}\n"), 0o644)
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, nil, 0o644)
	out := func() string { return filepath.Join(t.TempDir(), "out") }
	base := func(extra ...string) []string {
		return append([]string{"--input=" + in, "--output=" + out()}, extra...)
	}
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": closedPort(t)}
	dataflow := []string{"--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/staging"}
	o := out()
	runFlagCases(t, []flagCase{
		{"ok", base(), nil, nil},
		{"airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil},
		{"no input", []string{"--output=" + out()}, []string{"--input is required"}, nil},
		{"no output", []string{"--input=" + in}, []string{"--output is required"}, nil},
		{"input topic", base("--input=pubsub://projects/my-project/topics/logs"), []string{"--input=pubsub://projects/my-project/topics/logs is a topic", "subscriptions/S"}, nil},
		{"input unknown scheme", base("--input=s3://b/logs/*.gz"), []string{"--input=s3://b/logs/*.gz", "unknown scheme"}, nil},
		{"input matches nothing", base("--input=" + filepath.Join(dir, "none-*.log")), []string{"--input=", "matches no file"}, nil},
		{"output topic", base("--output=pubsub://projects/my-project/topics/hits"), []string{"--output=pubsub://projects/my-project/topics/hits", "does not take"}, nil},
		{"output kafka", base("--output=kafka://127.0.0.1:9092/hits"), []string{"--output=kafka://", "unknown scheme"}, nil},
		{"report dir table", base("--report_dir=bq://my-project.web.r"), []string{"--report_dir=bq://my-project.web.r", "does not take"}, nil},
		{"idle stop 1ns", base("--idle_stop=1ns"), []string{"--idle_stop=1ns", "or 0 to turn it off"}, nil},
		{"top 0", base("--top=0"), []string{"--top=0", "--top=50"}, nil},
		{"error rate", base("--error_rate=5"), []string{"--error_rate=5", "--error_rate=0.05"}, nil},
		{"log format", base("--log_format=%h %Z"), []string{"--log_format="}, nil},
		{"table without report dir", base("--output=bq://my-project.web.hits"), []string{"--report_dir is required"}, nil},
		{"dead letter in hits", []string{"--input=" + in, "--output=" + o, "--dead_letter=" + filepath.Join(o, "hits", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil},
		{"report dir is hits", []string{"--input=" + in, "--output=" + o, "--report_dir=" + filepath.Join(o, "hits")}, []string{"--report_dir", "is inside", "--output writes"}, nil},
		{"staging is the dead letter", base("--staging="+filepath.Join(o, "d"), "--dead_letter="+filepath.Join(o, "d")), []string{"--dead_letter and --staging both write to"}, nil},
		{"output is a file", []string{"--input=" + in, "--output=" + aFile}, []string{"--output=" + aFile + " is a file, not a folder"}, nil},
		{"output not empty", []string{"--input=" + in, "--output=" + full}, []string{"already holds 1 file(s)", "--overwrite"}, nil},
		{"output not empty, overwrite", []string{"--input=" + in, "--output=" + full, "--overwrite"}, nil, nil},
		{"dataflow local output", append([]string{"--input=gs://b/logs/*.gz", "--output=" + out()}, dataflow...), []string{"--output=", "Dataflow workers cannot reach"}, nil},
		{"pubsub unreachable", []string{"--input=pubsub://projects/my-project/subscriptions/logs", "--output=" + out()}, []string{"--input=pubsub://", "cannot reach PUBSUB_EMULATOR_HOST="}, emu},
	})
}
