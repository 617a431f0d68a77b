# Tasker — serverless workflow orchestration on AWS.
# `make help` lists the targets.

GO        ?= go
FUNCTIONS := intake scheduler results sweeper worker
BIN       := bin

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: demo
demo: ## Run the sample workflows end to end on the embedded local AWS
	$(GO) run ./cmd/tasker demo

.PHONY: dev
dev: ## Run the whole system locally (API on :8080, local AWS on :4566)
	$(GO) run ./cmd/tasker dev

.PHONY: test
test: ## Run every test (vet, then go test ./...)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

.PHONY: test-race
test-race: ## Run every test with the race detector
	$(GO) test -count=1 -race ./...

.PHONY: bench
bench: ## Measure latency, throughput and AWS requests per step; writes .bench/report.json
	$(GO) run ./cmd/tasker bench --out .bench/report.json

.PHONY: lint
lint: ## gofmt and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

.PHONY: build
build: ## Build the CLI into bin/tasker
	$(GO) build -o $(BIN)/tasker ./cmd/tasker

.PHONY: functions
functions: ## Build each Lambda function as bin/<name>/bootstrap (provided.al2023, arm64)
	@for fn in $(FUNCTIONS); do \
		echo "building $$fn"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc \
			-o $(BIN)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

.PHONY: templates
templates: ## Validate every template under templates/
	$(GO) run ./cmd/tasker templates validate templates

.PHONY: clean
clean: ## Remove build output
	rm -rf $(BIN) .bench cdk.out
