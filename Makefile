# berth: every target sets up what it needs (Node 24, npm ci) so that `make run`
# and `make test` are all a person types on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# berth targets Node.js 24 LTS (engines >= 22.19). When the system node is older
# (or missing) we install a project-local Node 24 from the npm registry's `node`
# package into .toolchain/ and put it first on PATH for every target.
SYSTEM_NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' >/dev/null 2>&1 && echo yes)
ifeq ($(SYSTEM_NODE_OK),yes)
TOOLCHAIN_STAMP :=
else
TOOLCHAIN_STAMP := .toolchain/node_modules/.bin/node
export PATH := $(CURDIR)/.toolchain/node_modules/.bin:$(PATH)
endif

NODE := node --disable-warning=ExperimentalWarning
DEPS := node_modules/.package-lock.json

.PHONY: help setup run test check typecheck lint format bench bench-credentials bench-s3sync bench-culling bench-metrics crds settings-docs clean chromium jupyter prometheus

help:
	@echo "make run     run berth locally (embedded PostgreSQL, no AWS account)"
	@echo "make test    run the whole test suite"
	@echo "make check   typecheck, lint and format check"
	@echo "make bench   run the benchmarks"
	@echo "make bench-credentials   what database credentials add to a launch; roles after 1,000 cycles"
	@echo "make bench-s3sync   the s3sync sidecar against the AWS SDK's own loops"
	@echo "make bench-culling   the culler evaluating 1,000 Ready instances against the idle controller"
	@echo "make crds    regenerate crds/generated/ (JSON Schema per kind)"
	@echo "make settings-docs  regenerate the README tables of settings from the schemas"

.toolchain/node_modules/.bin/node: .toolchain/package.json .toolchain/package-lock.json
	cd .toolchain && npm ci --no-audit --no-fund
	@touch $@

$(DEPS): package.json package-lock.json $(TOOLCHAIN_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

setup: $(TOOLCHAIN_STAMP) $(DEPS)

run: setup
	$(NODE) bin/berth.ts up

test: setup chromium jupyter prometheus
	@$(NODE) test/run.ts; code=$$?; \
	  echo "Browser test screenshots: $(CURDIR)/test-results/screenshots/"; exit $$code

check: setup typecheck lint

typecheck: setup
	npx tsc --noEmit -p tsconfig.json

lint: setup
	npx biome check .

format: setup
	npx biome check --write .

bench: setup
	$(NODE) bench/run.ts

bench-credentials: setup
	$(NODE) bench/credentials/launch.ts

bench-s3sync: setup
	$(NODE) bench/s3sync/sync.ts

bench-culling: setup
	$(NODE) bench/culling/evaluate.ts

bench-metrics: setup
	$(NODE) bench/metrics/sidecar.ts

crds: setup
	$(NODE) crds/generate.ts

settings-docs: setup
	$(NODE) bin/settings-docs.ts

# Browser tests use Debian's chromium; CHROMIUM_PATH points at any other.
chromium:
	@if [ -n "$$CHROMIUM_PATH" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium: install failed; browser tests will say so"; \
	else echo "chromium: not installed and cannot install it; set CHROMIUM_PATH"; fi

# A real Jupyter server (Debian's jupyter-notebook) for test/security/tool-gate-jupyter.test.ts.
jupyter:
	@if command -v jupyter-notebook >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && apt-get install -y -qq jupyter-notebook >/dev/null) || echo "jupyter: install failed; the Jupyter test will say so"; \
	else echo "jupyter: not installed and cannot install it; as root: apt-get install jupyter-notebook"; fi

# A real Prometheus (Debian's prometheus) for the discovery and culler tests, and
# for `make run` when present; PROMETHEUS_PATH points at any other binary.
prometheus:
	@if [ -n "$$PROMETHEUS_PATH" ] || command -v prometheus >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) || echo "prometheus: install failed; the Prometheus tests will say so"; \
	else echo "prometheus: not installed and cannot install it; as root: apt-get install prometheus (or set PROMETHEUS_PATH)"; fi

clean:
	rm -rf .data test-results
