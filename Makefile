# Tasker — serverless workflow orchestration on AWS.
# `make help` lists the targets.

GO        ?= go
FUNCTIONS := intake scheduler results sweeper worker authorizer
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

.PHONY: sdk-ts
sdk-ts: ## Install (npm ci), build and unit-test the TypeScript worker SDK in sdk/typescript
	cd sdk/typescript && npm ci --no-audit --no-fund && npm run build && npm test

.PHONY: test
test: ## Run every test: vet, the Node parts (TypeScript SDK, browser-test deps) when npm is present, go test ./...
	$(GO) vet ./...
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory sdk-ts e2e-deps; \
	else \
		echo "npm not found: the TypeScript conformance run and the dashboard browser test will be skipped"; \
	fi
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

# The AWS CDK CLI and Node 22 come from npm into .cdk/ (a node_modules inside
# the Go module would break `go test ./...`). STAGE selects the stack
# Tasker-$(STAGE); CDK_FLAGS passes more context, e.g. CDK_FLAGS="-c tracing=true".
CDK_DIR      := .cdk
CDK_VERSION  := 2.1148.1
NODE_VERSION := 22.23.3
CDK_BIN      := $(CDK_DIR)/node_modules/.bin
STAGE        ?= dev
CDK_FLAGS    ?=
CDK          := PATH="$(CURDIR)/$(CDK_BIN):$$PATH" CDK_DISABLE_CLI_TELEMETRY=true cdk

.PHONY: cdk-install
cdk-install: ## Install the AWS CDK CLI and Node 22 under .cdk/ (npm)
	npm --prefix $(CDK_DIR) install --no-audit --no-fund --save-exact aws-cdk@$(CDK_VERSION) node@$(NODE_VERSION)

$(CDK_BIN)/cdk:
	$(MAKE) cdk-install

.PHONY: synth
synth: functions $(CDK_BIN)/cdk ## Synthesize the stack Tasker-STAGE (STAGE=dev) into cdk.out, with cdk-nag checks (offline)
	$(CDK) synth Tasker-$(STAGE) -c stage=$(STAGE) $(CDK_FLAGS) --no-notices --quiet
	@echo "cdk.out/Tasker-$(STAGE).template.json"

.PHONY: deploy
deploy: functions $(CDK_BIN)/cdk ## Deploy Tasker-STAGE with your AWS credentials (cdk bootstrap, then cdk deploy)
	$(CDK) bootstrap -c stage=$(STAGE) $(CDK_FLAGS) --no-notices
	$(CDK) deploy Tasker-$(STAGE) -c stage=$(STAGE) $(CDK_FLAGS) --no-notices --require-approval broadening

.PHONY: templates
templates: ## Validate every template under templates/
	$(GO) run ./cmd/tasker templates validate templates

.PHONY: clean
clean: ## Remove build output
	rm -rf $(BIN) .bench cdk.out

.PHONY: chaos
chaos: ## Fault-injection run (long form)
	$(GO) test -count=1 -v -timeout 20m -run "TestChaosLong|TestChaosRestart" ./pkg/chaos -chaos.long $(if $(SEED),-chaos.seed=$(SEED))

# DURATION (default 4m), WINDOW (15s), TASKS (0: no limit) and CONCURRENCY (8)
# bound the soak run; it loads the system on loopback only.
.PHONY: soak
soak: ## Soak run: minutes of load, fails on heap/goroutine/fd growth or latency drift
	$(GO) test -count=1 -v -timeout 30m -run TestSoakLong ./pkg/soak -soak.long \
		$(if $(DURATION),-soak.duration=$(DURATION)) $(if $(WINDOW),-soak.window=$(WINDOW)) \
		$(if $(TASKS),-soak.tasks=$(TASKS)) $(if $(CONCURRENCY),-soak.concurrency=$(CONCURRENCY))

# Every fuzz target, as package:FuzzName. `go test` alone replays the kept
# corpora (testdata/fuzz/<FuzzName>/); this runs each fuzzer for FUZZTIME.
FUZZTIME ?= 30s
FUZZERS  := \
	./pkg/template:FuzzParse ./pkg/template:FuzzParseJSON ./pkg/template:FuzzValidateContext \
	./pkg/protocol:FuzzDecodeResultMessage ./pkg/protocol:FuzzExtractOutcomes \
	./pkg/protocol:FuzzDecodeStepMessage ./pkg/protocol:FuzzCheckJSONDepth \
	./pkg/api:FuzzCreateTaskBody ./pkg/engine:FuzzBatchOutcome ./pkg/worker:FuzzProcess ./pkg/worker:FuzzErrorJSON \
	./pkg/auth:FuzzParsePermission ./pkg/auth:FuzzAuthenticateBearer ./pkg/schedule:FuzzParse \
	./pkg/resources:FuzzParseRedrivePolicy ./pkg/statemachine:FuzzParseTaskState ./pkg/statemachine:FuzzParseStepState \
	./pkg/statemachine:FuzzParseTaskEvent ./pkg/statemachine:FuzzParseStepEvent ./pkg/statemachine:FuzzNextStep

.PHONY: fuzz
fuzz: ## Run every fuzzer for FUZZTIME each (default 30s), one after another
	@for f in $(FUZZERS); do \
		pkg=$${f%%:*}; name=$${f##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg || exit 1; \
	done

.PHONY: e2e-deps
e2e-deps: ## Install the dashboard browser test's Node dependencies (npm ci in e2e/); Chromium: apt-get install -y chromium
	cd e2e && npm ci --no-audit --no-fund

.PHONY: screenshots
screenshots: ## Run the dashboard browser test and copy its screenshots into docs/screenshots/
	TASKER_REQUIRE_BROWSER=1 $(GO) test -count=1 -run TestBrowser ./pkg/dashboard/
	mkdir -p docs/screenshots
	cp e2e/out/*.png docs/screenshots/
