# Mimamori: `make run` (the whole platform in one process) and `make test` (the whole suite).
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY_SOURCES := services gateway tools/synthtown/src scripts tests bench examples
# mypy --strict: the kit and every service's pure domain package (the gateway's included)
TYPED_SOURCES = services/kit/src/mimamori/kit $(wildcard services/*/src/mimamori/*/domain gateway/src/mimamori/*/domain)

.PHONY: run test test-fast lint proto proto-check bench uv sync distributed clean

uv:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

sync: uv
	@$(UV) sync --frozen --quiet

## run: every service and the gateway in one process (SQLite, in-process bus, development OIDC issuer, demo town)
run: sync
	@$(UV) run mimamori run

## test: the whole suite; real PostgreSQL and Kafka are started when none is configured (see scripts/test.sh)
test: sync
	@bash scripts/test.sh

## test-fast: unit tests only (no servers)
test-fast: sync
	@$(UV) run pytest -q -m "not integration"

lint: sync proto-check
	@$(UV) run ruff check $(PY_SOURCES)
	@$(UV) run mypy --strict $(TYPED_SOURCES)
	@$(UV) run lint-imports

proto: sync
	@$(UV) run python scripts/gen_proto.py

proto-check: sync
	@$(UV) run python scripts/gen_proto.py --check

## bench: speed and memory targets; numbers go to bench/results/
bench: sync
	@bash scripts/bench.sh

## distributed: PostgreSQL, Kafka and each service as its own process, locally and without Docker
distributed: sync
	@bash deploy/local/distributed.sh start

clean:
	rm -rf .mimamori .pytest_cache .mypy_cache .ruff_cache
