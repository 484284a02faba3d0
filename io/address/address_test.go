package address_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/io/address"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want address.Address
		err  string
	}{
		{"out/", address.Address{Kind: address.Path, Rest: "out"}, ""},
		{"/", address.Address{Kind: address.Path, Rest: "/"}, ""},
		{"gs://b/p/*.jsonl", address.Address{Scheme: "gs", Kind: address.GCS, Rest: "b/p/*.jsonl"}, ""},
		{"bq://my-project.shop.orders", address.Address{Scheme: "bq", Kind: address.Table, Rest: "my-project.shop.orders"}, ""},
		{"pubsub://projects/p/topics/abc", address.Address{Scheme: "pubsub", Kind: address.Topic, Rest: "projects/p/topics/abc"}, ""},
		{"pubsub://projects/p/subscriptions/abc", address.Address{Scheme: "pubsub", Kind: address.Subscription, Rest: "projects/p/subscriptions/abc"}, ""},
		{"kafka://h:9092/t", address.Address{}, `unknown scheme "kafka://"`},
		{"gs://", address.Address{}, "no bucket"},
		{"", address.Address{}, "empty"},
		{"bq://p.t", address.Address{}, "bq://project.dataset.table"},
		{"pubsub://projects/p/queues/abc", address.Address{}, "pubsub address"},
	} {
		got, err := address.Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, %v, want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// A scheme registered later (kafka://, by the Kafka IO) is one Register call away.
func TestRegister(t *testing.T) {
	address.Register(address.Scheme{Name: "kafkatest", Kinds: []address.Kind{"kafka_topic"}, Example: "kafkatest://host:port/topic",
		Parse: func(rest string) (address.Kind, error) { return "kafka_topic", nil }})
	a, err := address.Flag("alerts", "kafkatest://127.0.0.1:9092/alerts", "kafka_topic")
	if err != nil || a.String() != "kafkatest://127.0.0.1:9092/alerts" {
		t.Errorf("Flag(kafkatest://…) = %v, %v", a, err)
	}
	if _, err := address.Flag("alerts", "kafkatest://h:1/t", address.Path); err == nil || !strings.Contains(err.Error(), "--alerts=kafkatest://h:1/t is kafkatest://host:port/topic") {
		t.Errorf("Flag(kafkatest://…, Path) = %v", err)
	}
}

func TestOverlap(t *testing.T) {
	p := func(s string) address.Address {
		a, err := address.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		a, b string
		want string
	}{
		{"out/clean", "out/dead", ""},
		{"out/clean", "out/clean/dead", "--b=out/clean/dead is inside out/clean, where --a writes"},
		{"out/clean", "out/clean/", "--a and --b both write to out/clean"},
		{"out/clean", "out/cleaner", ""},
		{"gs://b/x", "gs://b/x/y", "is inside gs://b/x"},
		{"gs://b/x", "out/x", ""},
		{"bq://my-project.d.t", "bq://my-project.d.t", "both write to bq://my-project.d.t"},
		{"pubsub://projects/p/topics/abc", "pubsub://projects/p/topics/abd", ""},
	} {
		err := address.Overlap(address.Dest{Flag: "a", Addr: p(tc.a)}, address.Dest{Flag: "b", Addr: p(tc.b)})
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Overlap(%s, %s) = %v, want %q", tc.a, tc.b, err, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		zero bool
		want string
	}{
		{time.Minute, false, ""},
		{time.Millisecond, false, ""},
		{time.Nanosecond, false, "--window=1ns is too short: give at least 1ms"},
		{0, false, "--window=0s is too short"},
		{0, true, ""},
		{-time.Second, true, "or 0 to turn it off"},
	} {
		err := address.Duration("window", tc.d, address.MinDuration, tc.zero)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Duration(%s, zero %v) = %v, want %q", tc.d, tc.zero, err, tc.want)
		}
	}
}

// With --overwrite the old output stays whole until Commit, and then only the new files remain.
func TestOutputsOverwrite(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(filepath.Join(out, "clean"), 0o755)
	old := filepath.Join(out, "clean", "part-00000-of-00002.jsonl")
	os.WriteFile(old, []byte("old\n"), 0o644)
	a, _ := address.Parse(out)

	refuse := &address.Outputs{}
	refuse.Add("output", a)
	if err := refuse.Prepare(ctx); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("Prepare without --overwrite = %v, want a refusal naming --overwrite", err)
	}

	outs := &address.Outputs{Overwrite: true}
	outs.Add("output", a)
	if err := outs.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	work := outs.Path(filepath.Join(out, "clean", "part-00000-of-00001.jsonl"))
	if strings.HasPrefix(work, out+"/") {
		t.Fatalf("Path = %s, want a fresh sibling of %s", work, out)
	}
	os.MkdirAll(filepath.Dir(work), 0o755)
	os.WriteFile(work, []byte("new\n"), 0o644)
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the old output was touched before Commit: %v", err)
	}
	if err := outs.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(filepath.Dir(out), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Dir(out), p)
			got = append(got, rel)
		}
		return nil
	})
	if diff := cmp.Diff([]string{"out/clean/part-00000-of-00001.jsonl"}, got); diff != "" {
		t.Errorf("after Commit (-want +got):\n%s", diff)
	}

	// A failed run: Abort removes the fresh folder and leaves the output as it was.
	again := &address.Outputs{Overwrite: true}
	again.Add("output", a)
	if err := again.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	w := again.Path(filepath.Join(out, "x"))
	os.MkdirAll(filepath.Dir(w), 0o755)
	os.WriteFile(w, nil, 0o644)
	again.Abort(ctx)
	if _, err := os.Stat(filepath.Dir(w)); !os.IsNotExist(err) {
		t.Errorf("Abort left %s", filepath.Dir(w))
	}
	if b, _ := os.ReadFile(filepath.Join(out, "clean", "part-00000-of-00001.jsonl")); string(b) != "new\n" {
		t.Errorf("after Abort the output holds %q, want the previous run's", b)
	}
}

func TestCause(t *testing.T) {
	err := address.Cause(errFrom("job failed:\nplan\n  stage 1\n\tcaused by:\nopening out/x: permission denied\n  more"))
	first, _, _ := strings.Cut(err.Error(), "\n")
	if first != "opening out/x: permission denied" || !strings.Contains(err.Error(), "stage 1") {
		t.Errorf("Cause = %q, want the root cause first and the details after", err.Error())
	}
}

type errFrom string

func (e errFrom) Error() string { return string(e) }

// FuzzAddress: Parse never panics, and a parsed address re-renders to a string that parses
// to the same address.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{"out", "out/", "gs://b/p/*.jsonl", "bq://my-project.shop.orders", "pubsub://projects/p/topics/abc",
		"pubsub://projects/p/subscriptions/abc", "kafka://h:9092/t", "gs://", "://", "bq://", "a://b://c", "//x", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := address.Parse(s)
		if err != nil {
			return
		}
		b, err := address.Parse(a.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but its rendering %q does not parse: %v", s, a, a.String(), err)
		}
		if a != b {
			t.Fatalf("Parse(%q) = %+v, Parse(%q) = %+v", s, a, a.String(), b)
		}
	})
}
