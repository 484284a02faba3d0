# Beamline. `make run` runs the ingest, logs and orders jobs on prism over local data; `make test` runs every test.
GO      ?= go
PKGS    := ./...
export GOFLAGS := -buildvcs=false

.PHONY: run run-ingest run-logs run-orders test bench bench-ingest bench-io bench-alarms bench-logs lint testdata clean

# The main jobs on prism over local data: ingest of testdata, the access-log analytics over a
# real Apache log (out/logs/report.html), and a replay of a generated day of orders with
# injected spikes and drops, printing the alarms.
run: run-ingest run-logs run-orders

run-ingest:
	$(GO) run ./pipelines/ingest --sources=testdata/sources.yaml --output=out

run-logs:
	$(GO) run ./pipelines/logs --input=testdata/logs/logstalgia-example.log --output=out/logs

run-orders:
	$(GO) run ./internal/ordergen/cmd/genorders --out=out/orders-day.jsonl --days=1
	rm -rf out/orders
	$(GO) run ./pipelines/orders --input=out/orders-day.jsonl --output=out/orders

test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout=20m $(PKGS)
	$(GO) test -count=1 -race -timeout=20m ./transforms/record ./io/files ./internal/jsonx
	$(GO) test -count=1 -race -timeout=20m -run='TestRelayExactlyOnceAndAcked|TestRestartAfterCancel' ./io/pubsub

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./transforms/... ./internal/... ./io/files/
	$(MAKE) bench-io
	$(GO) run ./internal/benchingest -n 1000000

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

bench-ingest:
	$(GO) run ./internal/benchingest -n 1000000

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

testdata:
	$(GO) run ./internal/gen/cmd/gentestdata

clean:
	rm -rf out bin
