# Beamline. `make run` runs the ingest job on prism over testdata; `make test` runs every test.
GO      ?= go
PKGS    := ./...
export GOFLAGS := -buildvcs=false

.PHONY: run test bench bench-ingest bench-io bench-alarms lint testdata clean

run:
	$(GO) run ./pipelines/ingest --sources=testdata/sources.yaml --output=out

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

bench-ingest:
	$(GO) run ./internal/benchingest -n 1000000

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

testdata:
	$(GO) run ./internal/gen/cmd/gentestdata

clean:
	rm -rf out bin
