# opsctl — the two commands a new user needs:
#   make demo   install what is missing, build, start a sandbox Postgres and run the main runbooks
#   make test   same set-up, then the whole test suite against a real Postgres, then the demo
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= debug
BIN := .build/$(CONFIG)/opsctl
# CI builds treat warnings as errors (see Package.swift: OPSCTL_STRICT).
STRICT_ENV := $(if $(CI),OPSCTL_STRICT=1,)
# The test suite's sandbox (Tests/TestSupport/TestDatabase.swift) and the private cluster of the
# Postgres health tests beside it ("-health", and "-pgss" preloading pg_stat_statements): stopped after the tests.
TEST_SANDBOX_DIR := $(or $(OPSCTL_TEST_SANDBOX_DIR),/tmp/opsctl-test-$(shell id -u))
TEST_SANDBOX_PORT := $(or $(OPSCTL_TEST_SANDBOX_PORT),55433)

.PHONY: all deps build release test demo bench fuzz clean sandbox-down

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	$(STRICT_ENV) $(SWIFT) build -c $(CONFIG)

release: deps
	$(STRICT_ENV) $(SWIFT) build -c release --static-swift-stdlib --product opsctl

test: deps
	$(STRICT_ENV) $(SWIFT) build --build-tests
	$(STRICT_ENV) $(SWIFT) test --skip-build 2>&1 | tee .build/test.log; \
	  status=$${PIPESTATUS[0]}; \
	  for dir in $(TEST_SANDBOX_DIR) $(TEST_SANDBOX_DIR)-health $(TEST_SANDBOX_DIR)-pgss; do \
	    $(BIN) sandbox down --dir $$dir --port $(TEST_SANDBOX_PORT) >/dev/null 2>&1 || true; done; \
	  exit $$status
	@# The demo is the other command a new user runs: it must keep working too.
	@echo "== make demo, as a smoke test (output in .build/demo.log)"; \
	  bash scripts/demo.sh > .build/demo.log 2>&1; status=$$?; \
	  $(BIN) sandbox down >/dev/null 2>&1 || true; \
	  if [ $$status -ne 0 ]; then tail -40 .build/demo.log; echo "make demo failed (exit $$status): .build/demo.log"; fi; \
	  exit $$status

demo: build
	@bash scripts/demo.sh

bench:
	@bash scripts/install-deps.sh --bench
	@bash Benchmarks/run-all.sh

# A longer fuzz session than make test's 3 s per target (README, Development).
FUZZ_SECONDS ?= 600
fuzz: deps
	$(STRICT_ENV) $(SWIFT) build --build-tests
	OPSCTL_FUZZ_SECONDS=$(FUZZ_SECONDS) $(SWIFT) test --skip-build --filter FuzzTests

sandbox-down:
	-$(BIN) sandbox down

clean:
	rm -rf .build
