# Developer entry points; CI runs the same targets (.ci/run).
UV := ./scripts/uv
RUN := $(UV) run --frozen
# SAM CLI from `uv tool install` (installed by `make tools` when missing); `sam build` cross-builds
# the arm64 layers with the python3.13 it finds on PATH (pyenv's when there is one).
PY313 = $(shell pyenv prefix 3.13 2>/dev/null)
SAM_CLI_VERSION := 1.170.0
SAM_PATH = PATH="$(if $(PY313),$(PY313)/bin:)$(shell $(UV) tool dir --bin):$$PATH"
SAM = $(SAM_PATH) SAM_CLI_TELEMETRY=0 sam

.PHONY: dev test unit integration e2e infra lint fmt type openapi pr sync requirements tools build bench bench-quick audit reliability mutation

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
	MYPYPATH=bench:. $(RUN) mypy --explicit-package-bases bench

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

requirements: sync
	$(RUN) python scripts/layer_requirements.py

tools:
	@test -x "$$($(UV) tool dir --bin)/sam" || $(UV) tool install aws-sam-cli==$(SAM_CLI_VERSION)

# After `sam build`, compile the layers' Python 3.13 bytecode: Lambda cannot write .pyc files at
# run time, and compiling on every cold start quadruples the import time (scripts/compile_bytecode.py).
build: requirements tools
	$(SAM) build
	$(SAM_PATH) python3.13 scripts/compile_bytecode.py .aws-sam/build

# Template validation, layer requirements against the lock, an offline arm64 build, and the
# template/layer/build tests (sizes, aarch64 binaries) on that build.
infra: sync tools
	$(SAM) validate --lint
	$(RUN) cfn-lint template.yaml
	$(RUN) python scripts/layer_requirements.py --check
	$(MAKE) build
	REQUIRE_SAM_BUILD=1 $(RUN) pytest -q tests/infrastructure

pr: lint type infra test

# Mutation testing of the item mapping and the signum (mutmut; on demand, not in the CI gate: 15-20 minutes on
# a shared 2-core machine). One JSON line per module; exit 1 below a target. ARGS="item_mapping --survivors".
mutation: sync
	$(RUN) python scripts/mutation.py $(ARGS)

# Benchmarks run on demand (not in the CI gate); each prints a JSON result line (bench/README.md).
bench: sync
	$(RUN) python bench/run.py

bench-quick: sync
	$(RUN) python bench/run.py --quick
