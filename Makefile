# reportline: the two commands that matter are `make demo` and `make test`.

GO      ?= go
BUILD   := build
GOROOT  := $(shell $(GO) env GOROOT)
# go test for js/wasm runs the tests under Node through go_js_wasm_exec.
export PATH := $(PATH):$(GOROOT)/lib/wasm

.PHONY: all build wasm bin demo demo-split demo-cluster test test-native test-wasm need-node soak bench fuzz clean FORCE

all: build

## build: the relay, the hotline tools, the demo and the browser module
build: bin wasm
	$(BUILD)/bin/relay precompress $(BUILD)/assets
	@# The snippet a partner pastes to pin this build's loader (docs/site-owners.md).
	@echo "The embed snippet with this build's loader pinned (replace RELAY and YOUR-SITE-ID):"
	@$(BUILD)/bin/relay snippet -assets $(BUILD)/assets

bin:
	$(GO) build -trimpath -o $(BUILD)/bin/ ./cmd/relay ./cmd/hotline ./examples/demo ./examples/demo-cluster ./examples/natsnode ./examples/partner-site

# The browser module is built against $(TRIM): go.mod with age and HPKE
# patched to leave out code the browser never runs (see tools/wasmtrim).
# It is written again on every build, from the module cache checked
# against go.sum, so that a stale or changed copy is never built.
TRIM := $(BUILD)/trim/go.mod
$(TRIM): FORCE
	$(GO) run ./tools/wasmtrim -dir $(BUILD)/trim

FORCE:

wasm:
	# The one recipe for the module, shared with the tests, the container
	# build and docs/deployment.md: see tools/wasmtrim.
	$(GO) run ./tools/wasmtrim -dir $(BUILD)/trim -assets $(BUILD)/assets

## demo: run intake, relay and partner page on 127.0.0.1 with generated keys;
## DEMOFLAGS passes flags ("-relay-port 0": any free port)
demo: build
	$(BUILD)/bin/demo -bin $(BUILD)/bin -assets $(BUILD)/assets -state .demo $(DEMOFLAGS)

## demo-split: the same, with the report frame published and served by the
## hotline on its own origin; the relay serves only the loader and the API
demo-split: build
	$(BUILD)/bin/demo -split -bin $(BUILD)/bin -assets $(BUILD)/assets -state .demo-split $(DEMOFLAGS)

## demo-cluster: three NATS servers, two relays behind a load balancer, an
## intake and the partner page; prints what to open and what to kill
demo-cluster: build
	$(BUILD)/bin/demo-cluster -bin $(BUILD)/bin -assets $(BUILD)/assets -state .demo-cluster $(DEMOFLAGS)

## test: every test: vet, native, WebAssembly under Node, real browser
test: test-native test-wasm

# The tests need Node and npm besides Go (README.md, "What a fresh machine needs").
need-node:
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { echo "make test needs Node 20 and npm (the WebAssembly tests and the browser tests' packages): install them (Debian: apt-get install nodejs npm), or run .ci/run, which does"; exit 1; }

# What the tests load from npm (package.json): axe-core, which the
# accessibility tests inject into the form, age-encryption and
# puppeteer-core, the outside age implementation and browser driver.
node_modules/axe-core/axe.min.js: package.json package-lock.json | need-node
	npm ci
	@touch $@

test-native: node_modules/axe-core/axe.min.js $(TRIM)
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet -modfile=$(TRIM) ./wasm/... ./report/ ./pow/
	# The browser tests take minutes on a loaded 2-core machine; the default
	# 10-minute limit per package is too tight for them under CI load.
	$(GO) test -count=1 -timeout=30m ./...

# The module's packages under Node, built as the browser gets them.
test-wasm: $(TRIM) | need-node
	GOOS=js GOARCH=wasm $(GO) test -modfile=$(TRIM) -count=1 ./report/ ./pow/ ./wasm/...

## soak: the cluster fault test (NATS servers and relays killed, restarted,
## partitioned, under load) for ten rounds instead of one
soak:
	REPORTLINE_SOAK=10 $(GO) test -count=1 -timeout=60m -run='^TestCluster' -v ./cmd/relay/

## bench: benchmarks, reported as ratios to a baseline measured in the same run
## (the relay's drain with a backlog of DRAIN reports, as two processes and in
## one); then the browser speed
## run (headless Chromium), which writes docs/speed.md. The pause between the
## drains lets the inodes the first one freed age: on ext4 without a journal,
## files created within a minute or more of many deletions cost far more
## (docs/benchmarks.md, "Commands").
DRAIN ?= 100000
bench: build
	{ $(GO) test -run='^$$' -bench=. -skip='^BenchmarkDrain|Process$$' -benchmem ./... && \
	  $(GO) test -run='^$$' -bench='^BenchmarkAcceptLoadProcess$$' -benchtime=5000x ./cmd/relay/ && \
	  $(GO) test -run='^$$' -bench='^BenchmarkDrainProcesses$$' -benchtime=$(DRAIN)x -timeout=2h ./cmd/relay/ && \
	  sleep 90 && \
	  $(GO) test -run='^$$' -bench='^BenchmarkDrain$$' -benchtime=$(DRAIN)x -timeout=2h ./relay/forward/; } | $(GO) run ./e2e/benchratio
	$(GO) run ./e2e/speed -bin $(BUILD)/bin -assets $(BUILD)/assets -out docs/speed.md

## fuzz: run every fuzz target for a short while
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list='^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=15s $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BUILD)
