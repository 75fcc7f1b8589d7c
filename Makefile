# Build and test entry points. `make test` is what CI runs (.ci/run).
#
# The end-to-end tests live in their own module (tests/) so that the
# official etcd, etcdctl and etcdutl v3.7.3 they build as reference tools
# never enter this module's go.mod.

SHELL := /bin/bash
GO ?= go

# Bounds sized so the whole of `make test` fits in about 25 minutes on the
# 2-core machines CI runs on.
UNIT_TIMEOUT ?= 10m
E2E_TIMEOUT ?= 12m

# Reference tool packages, pinned by `tool` directives in tests/go.mod.
REF_TOOLS = go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3

.PHONY: test vet unit e2e e2e-vet ref-tools build

# Runs everything even when an early step fails, so one CI run reports on
# both modules; fails if any step failed.
test:
	@status=0; \
	$(MAKE) --no-print-directory vet || status=1; \
	$(MAKE) --no-print-directory unit || status=1; \
	$(MAKE) --no-print-directory e2e || status=1; \
	exit $$status

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -timeout $(UNIT_TIMEOUT) ./...

e2e-vet:
	cd tests && $(GO) vet ./...

# Compiles the reference tools into the build cache once, so the test
# packages (which each link them into a temporary directory) do not compile
# them concurrently. A cold build takes about two minutes on 2 cores.
ref-tools:
	cd tests && time $(GO) build $(REF_TOOLS)

# -count=1: the e2e tests run binaries built from the main module's sources,
# which go test's result cache cannot see.
e2e: e2e-vet ref-tools
	cd tests && $(GO) test -count=1 -timeout $(E2E_TIMEOUT) ./...

# Robustness scenarios (tests/robustness, docs/robustness.md): real clusters
# under traffic and faults, checked for linearizability, watch completeness,
# durability and convergence. `make robustness SCENARIOS=10 DURATION=30s
# SEED=123` runs ten scenarios of 30 s of traffic each from seed 123 (0: a
# random seed, printed). The short default run is part of `make e2e`.
SCENARIOS ?= 6
DURATION ?= 15s
SEED ?= 0
RATE ?= 0
ROBUSTNESS_TIMEOUT ?= 60m

.PHONY: robustness
robustness:
	cd tests && $(GO) test -count=1 -v -timeout $(ROBUSTNESS_TIMEOUT) -run 'TestRobustness' ./robustness -args \
		-robustness.seed=$(SEED) -robustness.scenarios=$(SCENARIOS) -robustness.duration=$(DURATION) -robustness.rate=$(RATE)
