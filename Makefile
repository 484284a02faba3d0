# Beamline. `make run` runs the ingest, logs, orders and topics jobs on prism over local data; `make test` runs every test.
GO      ?= go
PKGS    := ./...
export GOFLAGS := -buildvcs=false

.PHONY: setup-run setup-test run run-ingest run-logs run-orders run-baseline run-topics corpus apt-lists test bench bench-ingest bench-io bench-alarms bench-logs bench-topics fuzz fuzz-short lint testdata clean

# The main jobs on prism over local data: ingest of testdata, the access-log analytics over a
# real Apache log (out/logs/report.html), and a replay of a generated day of orders with
# injected spikes and drops, printing the alarms; then the topic model trained on Debian's
# package descriptions and applied to a sample of them.
run: setup-run run-ingest run-logs run-orders run-topics

run-ingest:
	$(GO) run ./pipelines/ingest --sources=testdata/sources.yaml --output=out

run-logs:
	$(GO) run ./pipelines/logs --input=testdata/logs/logstalgia-example.log --output=out/logs

run-orders:
	$(GO) run ./internal/dev/ordergen/cmd/genorders --out=out/orders-day.jsonl --days=1
	rm -rf out/orders
	$(GO) run ./pipelines/orders --input=out/orders-day.jsonl --output=out/orders

# The labelled corpus: Debian package descriptions (apt's Packages and Translation-en lists of
# this machine) labelled by Section. Debian images skip Translation-en; fetch it when missing.
corpus: out/topics/debian.ndjson
out/topics/debian.ndjson: apt-lists
	$(GO) run ./internal/dev/debcorpus/cmd/debcorpus -out $@

# What the targets need beyond Go, installed once and cached (tools/setup.sh says what and where).
apt-lists setup-run:
	@tools/setup.sh run
setup-test:
	@tools/setup.sh test

# Learn the seasonal baseline from a generated fortnight into out/models (pipelines/baseline-train),
# then replay the next day with the seasonal detector following the store's newest baseline.
run-baseline:
	$(GO) run ./internal/dev/ordergen/cmd/genorders --out=out/orders-fortnight.jsonl --days=14 --start=2026-11-02
	$(GO) run ./pipelines/baseline-train --input=out/orders-fortnight.jsonl --model_dir=out/models --dimensions=country
	$(GO) run ./internal/dev/ordergen/cmd/genorders --out=out/orders-day.jsonl --days=1
	rm -rf out/orders-seasonal
	$(GO) run ./pipelines/orders --input=out/orders-day.jsonl --output=out/orders-seasonal --detector=seasonal --baseline_model=out/models --dimensions=country

# Train the topic model into out/models (a new version, report.html beside it), then classify a
# sample of documents with it: out/topics/predictions/*.jsonl.
run-topics: corpus
	$(GO) run ./pipelines/topics-train --input=out/topics/debian.ndjson --model_dir=out/models
	head -n 5000 out/topics/debian.ndjson > out/topics/sample.ndjson
	rm -rf out/topics/predictions out/topics/dead
	$(GO) run ./pipelines/documents --input=out/topics/sample.ndjson --model_dir=out/models --output=out/topics

# make test does its own set-up (tools/setup.sh test: goaccess, the Translation-en lists of the
# topic-model test, the BigQuery emulator build), then lint, then every test.
# io/pubsub's TestRestartAfterCancel runs in the plain pass, not under -race: cancelling a job
# mid-bundle trips a race inside prism v2.77.0 itself (worker.W.shutdown closes the data
# channels while B.ProcessOn still sends on them: worker.go:137 against bundle.go:192), which
# failed one CI run in five on 2026-12-03.
test: setup-test lint
	$(GO) test -count=1 -timeout=20m $(PKGS)
	$(GO) test -count=1 -race -timeout=20m ./transforms/record ./io/files ./io/address ./internal/jsonx ./io/modelstore ./transforms/apply
	$(GO) test -count=1 -race -timeout=20m -run=TestBaselineSource ./transforms/ratealarm
	$(GO) test -count=1 -race -timeout=20m -run='TestRelayExactlyOnceAndAcked' ./io/pubsub

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./transforms/... ./internal/... ./io/files/
	$(MAKE) bench-io
	$(GO) run ./internal/dev/benchingest -n 1000000

# IO against the stand-ins: Pub/Sub → tag → clean → Pub/Sub on prism (msgs/s, p50/p99
# latency) and Beamline's BigQuery streaming sink against the raw managedwriter client.
bench-io:
	$(GO) test -run='^$$' -bench=Relay -benchtime=1x -timeout=30m ./io/pubsub/
	$(GO) test -run='^$$' -bench=WriteVsRaw -benchtime=3x -timeout=30m ./io/bigquery/
	$(GO) test -run='^$$' -bench=Encode -benchmem ./io/bigquery/

# Rate-alarm detectors over a generated fortnight with injected anomalies: recall and false
# alarms per day, beside ZScore, RobustZScore and IQR as Beam Python defines them.
bench-alarms:
	$(GO) test -run='^$$' -bench=Detectors -benchtime=1x ./transforms/ratealarm/

# The logs job on prism over ~1M lines (a real log repeated) against goaccess on the same
# file, same run: both times, lines/s, the ratio and our peak RSS.
bench-logs:
	$(GO) run ./pipelines/logs/bench -lines 1000000

# Topic models against scikit-learn (Debian's python3-sklearn) on the Debian corpus, same
# split, same run: precision@1, recall@5, training time and prediction docs/s per core.
bench-topics: corpus
	@/usr/bin/python3 -c 'import sklearn' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn
	$(GO) run ./bench/topics --corpus=out/topics/debian.ndjson

bench-ingest:
	$(GO) run ./internal/dev/benchingest -n 1000000

# Fuzz every parser (JSON, CSV, text, access logs and LogFormat strings, event times, the
# sources config, the Record/Failure/Hit coders, Pub/Sub addresses): each Fuzz target of the
# module, one go test -fuzz at a time, 120 s each; fuzz-short gives each 20 s. make test runs every
# target's committed seed corpus (plain go test does), but not fuzz-short yet: its first run found
# a real bug in jsonx within two minutes, and the other 19 targets have not had a first run.
# A crasher is written under the package's testdata/fuzz/ and the script prints its path.
fuzz:
	tools/fuzz.sh 120

fuzz-short:
	tools/fuzz.sh 20

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

testdata:
	$(GO) run ./internal/dev/gen/cmd/gentestdata

clean:
	rm -rf out bin
