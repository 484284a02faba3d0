package main

import (
	"context"
	"github.com/beamline/beamline/internal/dev/testenv"
	"os"
	"path/filepath"
	"testing"
)

// checks runs every check main runs before it builds the pipeline, on the parsed flags.
func checks() error {
	_, _, err := prepare(context.Background())
	return err
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
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": testenv.ClosedPort(t)}
	dataflow := []string{"--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/staging"}
	o := out()
	testenv.RunFlagCases(t, []testenv.FlagCase{
		testenv.Row("ok", base(), nil, nil),
		testenv.Row("airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil),
		testenv.Row("no input", []string{"--output=" + out()}, []string{"--input is required"}, nil),
		testenv.Row("no output", []string{"--input=" + in}, []string{"--output is required"}, nil),
		testenv.Row("input topic", base("--input=pubsub://projects/my-project/topics/logs"), []string{"--input=pubsub://projects/my-project/topics/logs is a topic", "subscriptions/S"}, nil),
		testenv.Row("input unknown scheme", base("--input=s3://b/logs/*.gz"), []string{"--input=s3://b/logs/*.gz", "unknown scheme"}, nil),
		testenv.Row("input matches nothing", base("--input="+filepath.Join(dir, "none-*.log")), []string{"--input=", "matches no file"}, nil),
		testenv.Row("output topic", base("--output=pubsub://projects/my-project/topics/hits"), []string{"--output=pubsub://projects/my-project/topics/hits", "does not take"}, nil),
		testenv.Row("output kafka", base("--output=kafka://127.0.0.1:9092/hits"), []string{"--output=kafka://", "unknown scheme"}, nil),
		testenv.Row("report dir table", base("--report_dir=bq://my-project.web.r"), []string{"--report_dir=bq://my-project.web.r", "does not take"}, nil),
		testenv.Row("idle stop 1ns", base("--idle_stop=1ns"), []string{"--idle_stop=1ns", "or 0 to turn it off"}, nil),
		testenv.Row("top 0", base("--top=0"), []string{"--top=0", "--top=50"}, nil),
		testenv.Row("error rate", base("--error_rate=5"), []string{"--error_rate=5", "--error_rate=0.05"}, nil),
		testenv.Row("log format", base("--log_format=%h %Z"), []string{"--log_format="}, nil),
		testenv.Row("table without report dir", base("--output=bq://my-project.web.hits"), []string{"--report_dir is required"}, nil),
		testenv.Row("dead letter in hits", []string{"--input=" + in, "--output=" + o, "--dead_letter=" + filepath.Join(o, "hits", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil),
		testenv.Row("report dir is hits", []string{"--input=" + in, "--output=" + o, "--report_dir=" + filepath.Join(o, "hits")}, []string{"--report_dir", "is inside", "--output writes"}, nil),
		testenv.Row("staging is the dead letter", base("--staging="+filepath.Join(o, "d"), "--dead_letter="+filepath.Join(o, "d")), []string{"--dead_letter and --staging both write to"}, nil),
		testenv.Row("output is a file", []string{"--input=" + in, "--output=" + aFile}, []string{"--output=" + aFile + " is a file, not a folder"}, nil),
		testenv.Row("output not empty", []string{"--input=" + in, "--output=" + full}, []string{"already holds 1 file(s)", "--overwrite"}, nil),
		testenv.Row("output not empty, overwrite", []string{"--input=" + in, "--output=" + full, "--overwrite"}, nil, nil),
		testenv.Row("dataflow local output", append([]string{"--input=gs://b/logs/*.gz", "--output=" + out()}, dataflow...), []string{"--output=", "Dataflow workers cannot reach"}, nil),
		testenv.Row("pubsub unreachable", []string{"--input=pubsub://projects/my-project/subscriptions/logs", "--output=" + out()}, []string{"--input=pubsub://", "cannot reach PUBSUB_EMULATOR_HOST="}, emu),
	}, checks)
}
