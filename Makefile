# Developer entry points; CI runs the same targets (.ci/run).
UV := ./scripts/uv
RUN := $(UV) run --frozen
# SAM CLI from `uv tool install` (installed by `make tools` when missing); `sam build` cross-builds
# the arm64 layers with the python3.13 it finds on PATH (pyenv's when there is one).
PY313 = $(shell pyenv prefix 3.13 2>/dev/null)
SAM_CLI_VERSION := 1.170.0
SAM_PATH = PATH="$(if $(PY313),$(PY313)/bin:)$(shell $(UV) tool dir --bin):$$PATH"
SAM = $(SAM_PATH) SAM_CLI_TELEMETRY=0 sam

.PHONY: dev test unit integration e2e infra scan lint fmt type pr sync requirements tools build bench bench-quick audit reliability mutation

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

# checkov over template.yaml, from its own lock in tools/checkov (it pins an older boto3 than the
# project's). Fails on any finding not suppressed in the template with a reason, and on a template it
# cannot parse. Offline: no download from its platform, no update check.
CHECKOV = CKV_SKIP_PACKAGE_UPDATE_CHECK=true CKV_PARSE_ERROR_FAIL=true $(UV) run --frozen --project tools/checkov checkov
scan:
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet

# Template validation and security scan, layer requirements against the lock, an offline arm64 build,
# and the template/layer/build tests (sizes, aarch64 binaries) on that build.
infra: sync tools
	$(SAM) validate --lint
	$(RUN) cfn-lint template.yaml
	$(MAKE) scan
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
