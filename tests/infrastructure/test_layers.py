"""The layers' sources: requirements generated from uv.lock, the package laid out for SAM's python build."""

import subprocess
import sys
from pathlib import Path

from tests.infrastructure.conftest import PROJECT_ROOT

CORE = PROJECT_ROOT / "layers" / "core"
ANALYTICS = PROJECT_ROOT / "layers" / "analytics"
ANALYTICS_ONLY = {"polars", "polars-runtime-32", "pyarrow", "pandas", "numpy"}
AWS_SDK = ("boto3", "botocore", "s3transfer")


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


def test_core_layer_pins_the_whole_aws_sdk() -> None:
    # Given: aws-xray-sdk pulls botocore into the layer whatever the requirements say
    core = _packages(CORE / "requirements.txt")
    # When
    versions = [core.get(name) for name in AWS_SDK]
    # Then: boto3 and s3transfer come from the lock too, never from the runtime beside a newer botocore
    assert None not in versions
    assert core["boto3"].split(".")[:2] == core["botocore"].split(".")[:2]


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


def test_core_layer_source_is_the_package_and_its_requirements() -> None:
    # Given: SAM's python build copies the folder into python/ and installs requirements.txt beside it
    # When
    entries = {path.name for path in CORE.iterdir() if path.name != "__pycache__"}
    # Then: the layer becomes python/tarroitus/... plus the dependencies
    assert entries == {"tarroitus", "requirements.txt"}
    assert (CORE / "tarroitus" / "__init__.py").is_file()
    assert any((CORE / "tarroitus" / "migrations" / "versions").glob("0001_*.py"))
