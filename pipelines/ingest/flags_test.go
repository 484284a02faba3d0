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
	in := filepath.Join(dir, "orders.jsonl")
	os.WriteFile(in, []byte(`{"order_id":"O-1","amount":"1.00","currency":"EUR","created_at":"2026-11-02T10:00:00Z"}`+"\n"), 0o644)
	src := filepath.Join(dir, "sources.yaml")
	os.WriteFile(src, []byte("- name: orders\n  kind: order\n  format: json\n  glob: orders.jsonl\n"), 0o644)
	full := filepath.Join(dir, "full")
	os.MkdirAll(filepath.Join(full, "clean"), 0o755)
	os.WriteFile(filepath.Join(full, "clean", "part-00000-of-00002.jsonl"), []byte("{}\n"), 0o644)
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, nil, 0o644)
	out := func() string { return filepath.Join(t.TempDir(), "out") }
	base := func(extra ...string) []string {
		return append([]string{"--sources=" + src, "--output=" + out()}, extra...)
	}
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": closedPort(t)}
	dataflow := []string{"--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/staging"}
	o := out()
	runFlagCases(t, []flagCase{
		{"ok", base(), nil, nil},
		{"airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil},
		{"no sources", []string{"--output=" + out()}, []string{"--sources is required", "--sources=testdata/sources.yaml"}, nil},
		{"missing sources file", []string{"--sources=" + filepath.Join(dir, "none.yaml"), "--output=" + out()}, []string{"--sources", "none.yaml"}, nil},
		{"no output", []string{"--sources=" + src}, []string{"--output is required", "a local path"}, nil},
		{"unknown scheme s3", []string{"--sources=" + src, "--output=s3://b/x"}, []string{"--output=s3://b/x", `unknown scheme "s3://"`, "gs://bucket/prefix"}, nil},
		{"kafka not yet", []string{"--sources=" + src, "--output=kafka://127.0.0.1:9092/t"}, []string{"--output=kafka://", "unknown scheme"}, nil},
		{"gs without bucket", []string{"--sources=" + src, "--output=gs://"}, []string{"--output=gs://", "no bucket"}, nil},
		{"bad table", []string{"--sources=" + src, "--output=bq://p.t", "--dead_letter=" + out()}, []string{"--output=bq://p.t", "bq://project.dataset.table"}, nil},
		{"table needs dead letter", []string{"--sources=" + src, "--output=bq://my-project.web.events"}, []string{"--dead_letter is required", "bq://project.dataset.table"}, nil},
		{"shard records", base("--shard_records=0"), []string{"--shard_records=0", "--shard_records=250000"}, nil},
		{"window 1ns", base("--window=1ns"), []string{"--window=1ns is too short", "at least 1ms"}, nil},
		{"window zero", base("--window=0"), []string{"--window=0s", "e.g. --window=1m"}, nil},
		{"negative lateness", base("--allowed_lateness=-1h"), []string{"--allowed_lateness=-1h0m0s"}, nil},
		{"dedupe ttl", base("--dedupe_ttl=10us"), []string{"--dedupe_ttl=10µs"}, nil},
		{"idle stop 1ns", base("--idle_stop=1ns"), []string{"--idle_stop=1ns", "or 0 to turn it off"}, nil},
		{"input topic", base("--input=pubsub://projects/my-project/topics/orders"), []string{"--input=pubsub://projects/my-project/topics/orders is a topic", "subscriptions"}, nil},
		{"input table", base("--input=bq://my-project.web.events"), []string{"--input=bq://my-project.web.events is bq://project.dataset.table", "does not take"}, nil},
		{"input short subscription", base("--input=pubsub://projects/p/subscriptions/s"), []string{"--input=pubsub://projects/p/subscriptions/s", "3-255 characters"}, nil},
		{"input matches nothing", base("--input=" + filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil},
		{"dead letter topic", base("--dead_letter=pubsub://projects/my-project/topics/dead"), []string{"--dead_letter=pubsub://projects/my-project/topics/dead", "does not take"}, nil},
		{"dead letter in clean", []string{"--sources=" + src, "--output=" + o, "--dead_letter=" + filepath.Join(o, "clean", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil},
		{"dead letter is output", []string{"--sources=" + src, "--output=" + o, "--dead_letter=" + o}, []string{"--output=", "is inside", "--dead_letter writes"}, nil},
		{"staging in clean", []string{"--sources=" + src, "--output=" + o, "--staging=" + filepath.Join(o, "clean")}, []string{"--staging", "--output"}, nil},
		{"output is a file", []string{"--sources=" + src, "--output=" + aFile}, []string{"--output=" + aFile + " is a file, not a folder"}, nil},
		{"output under a file", []string{"--sources=" + src, "--output=" + filepath.Join(aFile, "out")}, []string{"--output=", "cannot be created"}, nil},
		{"output not empty", []string{"--sources=" + src, "--output=" + full}, []string{"--output=" + full + " already holds 1 file(s)", "--overwrite"}, nil},
		{"output not empty, overwrite", []string{"--sources=" + src, "--output=" + full, "--overwrite"}, nil, nil},
		{"dataflow local output", append([]string{"--sources=" + src, "--output=" + out()}, dataflow...), []string{"--output=", "Dataflow workers cannot reach", "gs://"}, nil},
		{"dataflow needs region", []string{"--sources=" + src, "--output=gs://b/out", "--runner=dataflow", "--project=my-project", "--staging_location=gs://b/s"}, []string{"--region is required"}, nil},
		{"pubsub unreachable", base("--input=pubsub://projects/my-project/subscriptions/orders"), []string{"--input=pubsub://projects/my-project/subscriptions/orders", "cannot reach PUBSUB_EMULATOR_HOST=", "start the emulator"}, emu},
		{"pubsub output unreachable", []string{"--sources=" + src, "--output=pubsub://projects/my-project/topics/clean", "--dead_letter=" + out()}, []string{"--output=pubsub://", "cannot reach"}, emu},
	})
}
