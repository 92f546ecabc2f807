# vodfleet build, run and test entry points. See README.md.
GO        ?= go
TOOLS     := $(GO) tool -modfile=tools/go.mod
BIN       := bin/vodfleet

.PHONY: build run test proto proto-check lint vet fmt-check ffmpeg clean

build:
	$(GO) build -o $(BIN) ./cmd/vodfleet

proto:
	$(TOOLS) buf generate

proto-check: proto
	@git diff --exit-code -- proto || (echo "generated code in proto/ is stale: run make proto and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain -- proto)" || (echo "untracked generated files in proto/" >&2; git status --porcelain -- proto; exit 1)

lint:
	$(TOOLS) buf lint
