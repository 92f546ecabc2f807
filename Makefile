# vodfleet build, run and test entry points. See README.md.
GO        ?= go
TOOLS     := $(GO) tool -modfile=tools/go.mod
BIN       := bin/vodfleet
DATA      ?= .vodfleet

.PHONY: bench-dispatch bench-failover bench-edge bench-encode bench-catalog bench-transfer
.PHONY: all build run stop test test-short proto proto-check lint vet fmt-check check ffmpeg node chromium web transfer-deps clean

all: build

build: web
	$(GO) build -o $(BIN) ./cmd/vodfleet

# $(call apt_install,COMMANDS,PACKAGES): installs the Debian PACKAGES with
# apt-get when one of COMMANDS is missing and we are root; otherwise says how.
define apt_install
	@missing=; for c in $(1); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(2) with apt-get (missing:$$missing)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	else \
		echo "missing:$$missing; install $(2) with your package manager (e.g. sudo apt-get install $(2))" >&2; exit 1; \
	fi
endef

# ffmpeg/ffprobe, node/npm and chromium (the dashboard's browser test) from
# the OS packages.
ffmpeg:
	$(call apt_install,ffmpeg ffprobe,ffmpeg)

node:
	$(call apt_install,node npm,nodejs npm)

chromium:
	$(call apt_install,chromium,chromium)

# web: the dashboard bundle (web/dist, embedded by go:embed, not committed).
# npm ci installs the exact versions of web/package-lock.json, again only
# when the lock file changed.
web: node
	@cd web && if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund; fi
	cd web && node build.mjs

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

test: ffmpeg chromium web transfer-deps fmt-check vet
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

# 100,000 asset records in an embedded etcd; pages by tag, field, text.
bench-catalog:
	$(GO) run ./internal/bench/catalog

# The same ~200 MB package to S3 (versitygw) and SFTP (sshd): vodfleet vs rclone.
bench-transfer: transfer-deps
	scripts/bench-transfer.sh

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
	find web/dist -mindepth 1 ! -name .placeholder -delete
