# vodfleet build, run and test entry points. See README.md.
GO        ?= go
TOOLS     := $(GO) tool -modfile=tools/go.mod
BIN       := bin/vodfleet
DATA      ?= .vodfleet

.PHONY: bench-dispatch bench-failover bench-edge bench-encode bench-catalog
.PHONY: all build run stop test test-short proto proto-check lint vet fmt-check check ffmpeg clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vodfleet

# ffmpeg/ffprobe from the OS packages: installed when missing and we are root.
ffmpeg:
	@if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing ffmpeg with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	else \
		echo "ffmpeg is missing: install it with your package manager (e.g. sudo apt-get install ffmpeg)" >&2; exit 1; \
	fi

# make run: start a dev cluster, transcode a generated demo clip, print
# playable URLs and leave the cluster running (stop it with make stop).
run: ffmpeg build
	@scripts/run-demo.sh $(BIN) $(DATA)

stop:
	@scripts/run-demo.sh --stop $(DATA)

test: ffmpeg fmt-check vet
	$(GO) test -race -count=1 -timeout 15m ./...

test-short: ffmpeg
	$(GO) test -count=1 -short ./...

# Benchmarks (not tests): they print figures next to their targets.
bench-dispatch:
	$(GO) run ./internal/bench/dispatch

bench-failover: build
	$(GO) run ./internal/bench/failover -bin $(BIN)

bench-edge: build
	scripts/bench-edge.sh $(BIN)

# 100,000 asset records in an embedded etcd; pages by tag, field, text.
bench-catalog:
	$(GO) run ./internal/bench/catalog

bench-encode: ffmpeg build
	scripts/bench-encode.sh $(BIN)

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed:" $$out >&2; exit 1; fi

proto:
	$(TOOLS) buf generate

proto-check: proto
	@git diff --exit-code -- proto || (echo "generated code in proto/ is stale: run make proto and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain -- proto)" || (echo "untracked generated files in proto/" >&2; git status --porcelain -- proto; exit 1)

lint:
	$(TOOLS) buf lint

# check: everything CI verifies besides the tests.
check: lint proto-check

clean:
	rm -rf bin
