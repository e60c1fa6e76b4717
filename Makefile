# Developer entry points; CI runs the same targets (.ci/run).
UV := ./scripts/uv
RUN := $(UV) run --frozen

.PHONY: dev test unit integration e2e infra lint fmt type openapi pr sync bench

sync:
	$(UV) sync --frozen

# make dev ARGS="--items 50000 --no-scheduler": options of python -m local_stack (--help lists them).
dev: sync
	$(RUN) python -m local_stack $(ARGS)

test: sync
	$(RUN) pytest -q

unit: sync
	$(RUN) pytest -q tests/unit

integration: sync
	$(RUN) pytest -q tests/integration

e2e: sync
	$(RUN) pytest -q tests/e2e

lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

type: sync
	$(RUN) mypy

fmt: sync
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

pr: lint type test

# Benchmarks run on demand (not in the CI gate); each prints one JSON result line.
bench: sync
	$(RUN) python bench/run.py
