# Beamline. `make run` runs the ingest job on prism over testdata; `make test` runs every test.
GO      ?= go
PKGS    := ./...
export GOFLAGS := -buildvcs=false

.PHONY: run test bench bench-ingest lint testdata clean

run:
	$(GO) run ./pipelines/ingest --sources=testdata/sources.yaml --output=out

test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout=20m $(PKGS)
	$(GO) test -count=1 -race -timeout=20m ./transforms/record ./io/files ./internal/jsonx

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./transforms/... ./internal/...
	$(GO) run ./internal/benchingest -n 1000000

bench-ingest:
	$(GO) run ./internal/benchingest -n 1000000

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

testdata:
	$(GO) run ./internal/gen/cmd/gentestdata

clean:
	rm -rf out bin
