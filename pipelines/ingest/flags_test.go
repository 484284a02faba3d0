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
	emu := map[string]string{"PUBSUB_EMULATOR_HOST": testenv.ClosedPort(t)}
	dataflow := []string{"--runner=dataflow", "--project=my-project", "--region=europe-west1", "--staging_location=gs://b/staging"}
	o := out()
	testenv.RunFlagCases(t, []testenv.FlagCase{
		testenv.Row("ok", base(), nil, nil),
		testenv.Row("airflow adds labels and worker_binary", base("--labels={\"team\":\"data\"}", "--worker_binary=/usr/bin/true", "--runner=prism"), nil, nil),
		testenv.Row("no sources", []string{"--output=" + out()}, []string{"--sources is required", "--sources=testdata/sources.yaml"}, nil),
		testenv.Row("missing sources file", []string{"--sources=" + filepath.Join(dir, "none.yaml"), "--output=" + out()}, []string{"--sources", "none.yaml"}, nil),
		testenv.Row("no output", []string{"--sources=" + src}, []string{"--output is required", "a local path"}, nil),
		testenv.Row("unknown scheme s3", []string{"--sources=" + src, "--output=s3://b/x"}, []string{"--output=s3://b/x", `unknown scheme "s3://"`, "gs://bucket/prefix"}, nil),
		testenv.Row("kafka not yet", []string{"--sources=" + src, "--output=kafka://127.0.0.1:9092/t"}, []string{"--output=kafka://", "unknown scheme"}, nil),
		testenv.Row("gs without bucket", []string{"--sources=" + src, "--output=gs://"}, []string{"--output=gs://", "no bucket"}, nil),
		testenv.Row("bad table", []string{"--sources=" + src, "--output=bq://p.t", "--dead_letter=" + out()}, []string{"--output=bq://p.t", "bq://project.dataset.table"}, nil),
		testenv.Row("table needs dead letter", []string{"--sources=" + src, "--output=bq://my-project.web.events"}, []string{"--dead_letter is required", "bq://project.dataset.table"}, nil),
		testenv.Row("shard records", base("--shard_records=0"), []string{"--shard_records=0", "--shard_records=250000"}, nil),
		testenv.Row("window 1ns", base("--window=1ns"), []string{"--window=1ns is too short", "at least 1ms"}, nil),
		testenv.Row("window zero", base("--window=0"), []string{"--window=0s", "e.g. --window=1m"}, nil),
		testenv.Row("negative lateness", base("--allowed_lateness=-1h"), []string{"--allowed_lateness=-1h0m0s"}, nil),
		testenv.Row("dedupe ttl", base("--dedupe_ttl=10us"), []string{"--dedupe_ttl=10µs"}, nil),
		testenv.Row("idle stop 1ns", base("--idle_stop=1ns"), []string{"--idle_stop=1ns", "or 0 to turn it off"}, nil),
		testenv.Row("input topic", base("--input=pubsub://projects/my-project/topics/orders"), []string{"--input=pubsub://projects/my-project/topics/orders is a topic", "subscriptions"}, nil),
		testenv.Row("input table", base("--input=bq://my-project.web.events"), []string{"--input=bq://my-project.web.events is bq://project.dataset.table", "does not take"}, nil),
		testenv.Row("input short subscription", base("--input=pubsub://projects/p/subscriptions/s"), []string{"--input=pubsub://projects/p/subscriptions/s", "3-255 characters"}, nil),
		testenv.Row("input matches nothing", base("--input="+filepath.Join(dir, "none-*.jsonl")), []string{"--input=", "matches no file"}, nil),
		testenv.Row("dead letter topic", base("--dead_letter=pubsub://projects/my-project/topics/dead"), []string{"--dead_letter=pubsub://projects/my-project/topics/dead", "does not take"}, nil),
		testenv.Row("dead letter in clean", []string{"--sources=" + src, "--output=" + o, "--dead_letter=" + filepath.Join(o, "clean", "dead")}, []string{"--dead_letter=", "is inside", "--output writes"}, nil),
		testenv.Row("dead letter is output", []string{"--sources=" + src, "--output=" + o, "--dead_letter=" + o}, []string{"--output=", "is inside", "--dead_letter writes"}, nil),
		testenv.Row("staging in clean", []string{"--sources=" + src, "--output=" + o, "--staging=" + filepath.Join(o, "clean")}, []string{"--staging", "--output"}, nil),
		testenv.Row("output is a file", []string{"--sources=" + src, "--output=" + aFile}, []string{"--output=" + aFile + " is a file, not a folder"}, nil),
		testenv.Row("output under a file", []string{"--sources=" + src, "--output=" + filepath.Join(aFile, "out")}, []string{"--output=", "cannot be created"}, nil),
		testenv.Row("output not empty", []string{"--sources=" + src, "--output=" + full}, []string{"--output=" + full + " already holds 1 file(s)", "--overwrite"}, nil),
		testenv.Row("output not empty, overwrite", []string{"--sources=" + src, "--output=" + full, "--overwrite"}, nil, nil),
		testenv.Row("dataflow local output", append([]string{"--sources=" + src, "--output=" + out()}, dataflow...), []string{"--output=", "Dataflow workers cannot reach", "gs://"}, nil),
		testenv.Row("dataflow needs region", []string{"--sources=" + src, "--output=gs://b/out", "--runner=dataflow", "--project=my-project", "--staging_location=gs://b/s"}, []string{"--region is required"}, nil),
		testenv.Row("pubsub unreachable", base("--input=pubsub://projects/my-project/subscriptions/orders"), []string{"--input=pubsub://projects/my-project/subscriptions/orders", "cannot reach PUBSUB_EMULATOR_HOST=", "start the emulator"}, emu),
		testenv.Row("pubsub output unreachable", []string{"--sources=" + src, "--output=pubsub://projects/my-project/topics/clean", "--dead_letter=" + out()}, []string{"--output=pubsub://", "cannot reach"}, emu),
	}, checks)
}
