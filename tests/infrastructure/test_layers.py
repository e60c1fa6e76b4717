"""The layers' sources: requirements generated from uv.lock, the package laid out for SAM's python build."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.infrastructure.conftest import PROJECT_ROOT

CORE = PROJECT_ROOT / "layers" / "core"
ANALYTICS = PROJECT_ROOT / "layers" / "analytics"
ERROR_REPORTING = PROJECT_ROOT / "layers" / "error_reporting"
ANALYTICS_ONLY = {"polars", "polars-runtime-32", "pyarrow", "pandas", "numpy"}
AWS_SDK = ("boto3", "botocore", "s3transfer", "urllib3")


def _packages(requirements: Path) -> dict[str, str]:
    pinned = {}
    for line in requirements.read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = line.split(";", 1)[0].strip()
            name, _, version = requirement.partition("==")
            pinned[name.lower()] = version
    return pinned


def test_layer_requirements_match_the_lock() -> None:
    # Given: the committed requirements files
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "layer_requirements.py"), "--check"]
    # When
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=PROJECT_ROOT, timeout=120)
    # Then
    assert completed.returncode == 0, completed.stderr


def test_core_layer_leaves_out_analytics_packages() -> None:
    # Given / When
    core = _packages(CORE / "requirements.txt")
    # Then
    assert not ANALYTICS_ONLY & set(core)


def test_core_layer_leaves_the_whole_aws_sdk_to_the_runtime() -> None:
    # Given: Lambda's python3.13 runtime provides boto3, botocore, s3transfer and urllib3 as a matched set
    core = _packages(CORE / "requirements.txt")
    # When
    shipped = [name for name in AWS_SDK if name in core]
    # Then: none of it in the layer, so no part of the set can shadow the runtime's
    assert shipped == []


def test_sentry_sdk_is_in_the_error_reporting_layer_only() -> None:
    # Given / When
    core = _packages(CORE / "requirements.txt")
    error_reporting = _packages(ERROR_REPORTING / "requirements.txt")
    # Then: its dependencies are the core layer's certifi and the runtime's urllib3
    assert "sentry-sdk" not in core
    assert list(error_reporting) == ["sentry-sdk"]
    needs = {canonicalize_name(Requirement(line).name) for line in importlib.metadata.requires("sentry-sdk") or []}
    required = {name for name in needs if name in {"certifi", "urllib3"}}
    assert required <= set(core) | {"urllib3"}


def test_core_layer_is_complete_but_for_the_runtime_sdk_that_only_the_xray_sdk_needs() -> None:
    # Given: the layer is installed without dependency resolution (layers/core/Makefile)
    lambda_environment = {"sys_platform": "linux", "platform_system": "Linux", "implementation_name": "cpython"}
    lines = [line for line in (CORE / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    core = {
        canonicalize_name(requirement.name)
        for requirement in map(Requirement, lines)
        if requirement.marker is None or requirement.marker.evaluate(lambda_environment)
    }
    # When
    needs = {
        (name, canonicalize_name(requirement.name))
        for name in core
        for requirement in map(Requirement, importlib.metadata.requires(name) or [])
        if requirement.marker is None or requirement.marker.evaluate({**lambda_environment, "extra": ""})
    }
    # Then: every dependency is in the layer, except botocore for the X-Ray SDK, which the runtime has
    missing = {(name, needed) for name, needed in needs if needed not in core}
    assert missing == {("aws-xray-sdk", "botocore")}


def test_core_layer_carries_what_the_functions_import_in_lambda() -> None:
    # Given / When
    core = _packages(CORE / "requirements.txt")
    # Then: the psycopg binary build (no libpq on Lambda), and the X-Ray SDK that Tracing: Active needs
    for name in ("psycopg", "psycopg-binary", "aws-xray-sdk", "aws-lambda-powertools", "mangum", "fastapi", "alembic"):
        assert name in core, name
    assert core["psycopg-binary"] == core["psycopg"]


def test_analytics_layer_is_polars_only() -> None:
    # Given / When
    analytics = _packages(ANALYTICS / "requirements.txt")
    core = _packages(CORE / "requirements.txt")
    # Then
    assert "polars" in analytics
    assert set(analytics) <= ANALYTICS_ONLY
    assert not set(analytics) & set(core)


def test_core_layer_source_is_the_package_its_requirements_and_its_build() -> None:
    # Given: the Makefile installs requirements.txt into python/ and copies the package beside it
    # When
    entries = {path.name for path in CORE.iterdir() if path.name != "__pycache__"}
    # Then: the layer becomes python/tarroitus/... plus the dependencies
    assert entries == {"tarroitus", "requirements.txt", "Makefile"}
    assert (CORE / "tarroitus" / "__init__.py").is_file()
    assert any((CORE / "tarroitus" / "migrations" / "versions").glob("0001_*.py"))
