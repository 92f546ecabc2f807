# vodfleet build, run and test entry points. See README.md.
GO        ?= go
TOOLS     := $(GO) tool -modfile=tools/go.mod
BIN       := bin/vodfleet
DATA      ?= .vodfleet

.PHONY: bench-dispatch bench-failover bench-edge bench-encode
.PHONY: all build run stop test test-short proto proto-check lint vet fmt-check check ffmpeg transfer-deps clean

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

# Servers the internal/transfer tests run on loopback: nginx (dav module)
# for HTTP PUT, OpenSSH sshd + sftp-server, pure-ftpd (+ openssl for its
# password hash) and versitygw for S3. Installed when missing and we are
# root; versitygw with go install (it is not packaged).
TRANSFER_DEBS := nginx openssh-server openssh-sftp-server pure-ftpd openssl
VERSITYGW     := github.com/versity/versitygw/cmd/versitygw@v1.8.0
GOBIN_DIR      = $$($(GO) env GOBIN | grep . || echo $$($(GO) env GOPATH)/bin)

transfer-deps:
	@missing=""; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	[ -x /usr/lib/openssh/sftp-server ] || missing="$$missing openssh-sftp-server"; \
	[ -x /usr/sbin/pure-ftpd ] || missing="$$missing pure-ftpd"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$missing with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "missing$$missing: install them (e.g. sudo apt-get install$$missing)" >&2; exit 1; \
	fi
	@command -v versitygw >/dev/null || [ -x "$(GOBIN_DIR)/versitygw" ] || \
		{ echo "installing versitygw with go install"; $(GO) install $(VERSITYGW); }

# make run: start a dev cluster, transcode a generated demo clip, print
# playable URLs and leave the cluster running (stop it with make stop).
run: ffmpeg build
	@scripts/run-demo.sh $(BIN) $(DATA)

stop:
	@scripts/run-demo.sh --stop $(DATA)

test: ffmpeg transfer-deps fmt-check vet
	$(GO) test -race -count=1 -timeout 15m ./...

test-short: ffmpeg transfer-deps
	$(GO) test -count=1 -short ./...

# Benchmarks (not tests): they print figures next to their targets.
bench-dispatch:
	$(GO) run ./internal/bench/dispatch

bench-failover: build
	$(GO) run ./internal/bench/failover -bin $(BIN)

bench-edge: build
	scripts/bench-edge.sh $(BIN)

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
