# One entry point for people and CI. `make help` lists the targets.
#   make up    : set everything up, then run the local chain + SQLite + gateway
#   make test  : set everything up, then run the whole test suite (what CI runs)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := build/.stamps
# the pinned node tools (anvil, forge) come first: slither's crytic-compile calls `forge` by name
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: help setup up demo conformance test lint typecheck sast pytest fuzz load forge slither brownie-check gas bench bench-100k mutants clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP)/system: Makefile
	@mkdir -p $(STAMP)
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing PostgreSQL (Debian package) for the cross-process tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Chromium (Debian package) for the portal's browser tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi
	@touch $@

$(STAMP)/npm: package.json package-lock.json
	@mkdir -p $(STAMP)
	npm ci --no-audit --no-fund
	@touch $@

$(STAMP)/venv: pyproject.toml
	@mkdir -p $(STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# semgrep has its own venv: it pins an OpenTelemetry older than FastAPI's (pyproject.toml, dev extras)
SEMGREP_VERSION := 1.185.0
SEMGREP := .venv-semgrep/bin/semgrep
$(STAMP)/semgrep-$(SEMGREP_VERSION):
	@mkdir -p $(STAMP)
	test -x .venv-semgrep/bin/python || $(PYTHON) -m venv .venv-semgrep
	.venv-semgrep/bin/python -m pip install --quiet --upgrade pip
	.venv-semgrep/bin/python -m pip install --quiet 'semgrep==$(SEMGREP_VERSION)'
	@touch $@

$(STAMP)/brownie: tools/setup-brownie.sh
	@mkdir -p $(STAMP)
	bash tools/setup-brownie.sh
	@touch $@

setup: $(STAMP)/system $(STAMP)/npm $(STAMP)/venv $(STAMP)/semgrep-$(SEMGREP_VERSION) $(STAMP)/brownie ## install PostgreSQL and Chromium (apt), node tools, the Python venv, semgrep's venv and the brownie venv

up: setup ## local chain (state file in data/) + SQLite + gateway on :8000; a new ledger first runs the demo story
	$(VENV)/bin/scf up --demo

demo: setup ## the whole story on a fresh local chain through the HTTP API, with a summary
	$(VENV)/bin/scf demo

conformance: setup ## the whole story on SCF_RPC_URL with standard JSON-RPC only (unset: a fresh Anvil, a block every SCF_BLOCK_TIME=2 s, gas 0)
	@if [ -n "$$SCF_RPC_URL" ]; then $(VENV)/bin/scf conformance; else $(PY) -m cli.conformance; fi

lint: setup ## ruff (format check and lint)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: setup ## mypy --strict on every Python layer
	$(VENV)/bin/mypy domain chain readmodel api cli

sast: setup ## bandit (fails on medium/high) and semgrep with the project's rules (tools/semgrep, offline)
	$(VENV)/bin/bandit -c pyproject.toml -q -r domain chain readmodel api cli --severity-level medium
	$(SEMGREP) --test --metrics=off --disable-version-check tools/semgrep
	$(SEMGREP) scan --metrics=off --disable-version-check --config tools/semgrep --error --quiet domain chain readmodel api cli

pytest: setup ## Python tests against real Anvil processes and a real database
	$(PY) -m pytest -q -rs -n 2 --dist loadfile --durations=10

fuzz: setup ## schemathesis over every operation of the live OpenAPI document, 50 examples each (slow, not in CI)
	SCF_FUZZ_EXAMPLES=50 SCF_FUZZ_SECONDS=0 $(PY) -m pytest -q -s tests/api/test_schemathesis.py

forge: setup ## Solidity unit, fuzz and invariant tests
	node_modules/.bin/forge test --use "$(CURDIR)/tools/solc" --offline

slither: setup ## static analysis through the same compiler; fails on any high-severity finding
	$(VENV)/bin/slither contracts --solc-standard-json --solc tools/solc --filter-paths node_modules --exclude-dependencies --fail-high

brownie-check: setup ## deploy with the brownie path against a fresh Anvil, twice
	bash tools/brownie-deploy-check.sh

gas: setup ## gas of each ledger operation next to a plain ERC-1155 mint
	bench/gas

bench: gas ## every bench, each against its yardstick in the same run: gas, verification, tokenization, reads at 1k/10k, workers, mixed load (JSON in reports/bench/)
	@mkdir -p reports/bench
	bench/gas --json reports/bench/gas.json
	$(PY) bench/verify_bundles.py
	$(PY) bench/tokenization.py
	$(PY) bench/reads.py --sizes 1000,10000
	$(PY) bench/workers.py
	$(PY) bench/load.py --seconds 30

bench-100k: setup ## the reads at 1k, 10k and 100k receivables (the 100k world built straight on Anvil; about 15 minutes)
	$(PY) bench/reads.py --sizes 1000,10000,100000

load: setup ## bounded load test: mixed reads and writes, 8 clients, 60 s (at most 120); requests/s, p50/p99, errors, RSS
	$(PY) bench/load.py --seconds $${SCF_LOAD_SECONDS:-60}

mutants: setup ## plant named faults in contracts and rules; fails unless the tests kill every one (slow, not in CI)
	$(PY) tools/mutants.py

test: setup lint typecheck sast pytest forge slither brownie-check ## everything CI runs

clean: ## remove build output, venvs and node_modules
	rm -rf build out cache $(VENV) .venv-brownie .venv-semgrep node_modules
