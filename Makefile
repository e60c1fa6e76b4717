# Developer entry points; CI runs the same targets (.ci/run).
UV := ./scripts/uv
RUN := $(UV) run --frozen

.PHONY: dev test unit integration e2e infra lint fmt type openapi pr sync bench audit reliability

sync:
	$(UV) sync --frozen

dev: sync
	$(RUN) python -m local_stack

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

# The fault suite and the security suite (auth matrix, schemathesis, hostile input, log scan), with their
# figures in the summary; both also run in `make test`.
reliability: sync
	$(RUN) pytest -q tests/reliability tests/security

# Known vulnerabilities in every locked package (pip-audit, PyPI advisories). Fails on a finding; an
# unreachable advisory service only warns (AUDIT_STRICT=1 makes it fail). See scripts/audit.py.
audit: sync
	$(RUN) python scripts/audit.py

fmt: sync
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

pr: lint type test

# Benchmarks run on demand (not in the CI gate); each prints one JSON result line.
bench: sync
	$(RUN) python bench/run.py
