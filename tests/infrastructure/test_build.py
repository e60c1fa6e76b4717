"""What `sam build` produced in .aws-sam/build: layout, aarch64 binaries, contents and sizes.

These need a build of the current sources (`make build`). Without one they skip, unless
REQUIRE_SAM_BUILD=1 (set by `make infra`, which builds first) turns the skip into a failure.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infrastructure.conftest import PROJECT_ROOT

BUILD = PROJECT_ROOT / ".aws-sam" / "build"
SOURCE_PACKAGE = PROJECT_ROOT / "layers" / "core" / "tarroitus"
#: Ceiling for the API function plus the core layer, unzipped: about 56 MB today, without the AWS SDK,
#: which the runtime provides (scripts/layer_requirements.py). bench/cold_start.py reports it too.
MAX_API_BUNDLE_MB = 60
#: Lambda's hard limit for a function and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT_MB = 250
ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183
FORBIDDEN_IN_CORE = ("polars", "_polars_runtime_32", "pyarrow", "pandas", "numpy")
#: Lambda's python3.13 runtime provides the AWS SDK; a copy in the layer would shadow it.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3")
CHECKED_HASH_FLAGS = 0b11


def _size_mb(path: Path) -> float:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) / 1024 / 1024


def _stale_reason() -> str | None:
    layer_package = BUILD / "CoreLayer" / "python" / "tarroitus"
    if not layer_package.is_dir():
        return "no SAM build in .aws-sam/build (make build)"
    for source in SOURCE_PACKAGE.rglob("*"):
        if source.is_file() and "__pycache__" not in source.parts and source.suffix != ".pyc":
            built = layer_package / source.relative_to(SOURCE_PACKAGE)
            if not built.is_file() or built.read_bytes() != source.read_bytes():
                return f"the SAM build is older than {source.relative_to(PROJECT_ROOT)} (make build)"
    if not (layer_package / "__pycache__").is_dir():
        return "the SAM build has no bytecode: build with make build, not plain sam build"
    built_requirements = BUILD / "CoreLayer" / "python" / "requirements.txt"
    if built_requirements.read_bytes() != (PROJECT_ROOT / "layers" / "core" / "requirements.txt").read_bytes():
        return "the SAM build is older than layers/core/requirements.txt (make build)"
    return None


@pytest.fixture(scope="module")
def build() -> Path:
    """The current build, or a skip (a failure under REQUIRE_SAM_BUILD=1) saying why not."""
    reason = _stale_reason()
    if reason is not None:
        if os.environ.get("REQUIRE_SAM_BUILD") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return BUILD


def _elf_machine(path: Path) -> int | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    if not header.startswith(ELF_MAGIC):
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def test_build_core_layer_holds_the_package_under_python(build: Path) -> None:
    # Given
    python = build / "CoreLayer" / "python"
    # When / Then: /opt/python/tarroitus at run time
    assert (python / "tarroitus" / "__init__.py").is_file()
    assert (python / "tarroitus" / "migrations" / "env.py").is_file()
    assert any((python / "tarroitus" / "migrations" / "versions").glob("0001_*.py"))
    assert (python / "fastapi").is_dir() and (python / "psycopg").is_dir()


def test_build_native_code_is_linux_aarch64(build: Path) -> None:
    # Given
    binaries = [
        path
        for layer in ("CoreLayer", "AnalyticsLayer")
        for path in (build / layer).rglob("*.so*")
        if path.is_file() and _elf_machine(path) is not None
    ]
    # When
    machines = {path.relative_to(build).as_posix(): _elf_machine(path) for path in binaries}
    # Then
    assert binaries
    assert {name: machine for name, machine in machines.items() if machine != EM_AARCH64} == {}
    names = " ".join(machines)
    for extension in ("psycopg_binary/_psycopg", "pydantic_core/_pydantic_core", "_polars_runtime_32"):
        assert extension in names, f"no aarch64 build of {extension}"


def test_build_core_layer_has_no_analytics_packages(build: Path) -> None:
    # Given
    python = build / "CoreLayer" / "python"
    # When
    present = [name for name in FORBIDDEN_IN_CORE if (python / name).exists()]
    # Then
    assert present == []


def test_build_core_layer_leaves_the_aws_sdk_to_the_runtime(build: Path) -> None:
    # Given
    python = build / "CoreLayer" / "python"
    # When
    present = [path.name for path in python.iterdir() if path.name.split("-")[0] in RUNTIME_PROVIDED]
    # Then: neither the packages nor their metadata, while what needs botocore is there
    assert present == []
    assert (python / "aws_xray_sdk").is_dir() and (python / "aws_lambda_powertools").is_dir()


def test_build_functions_hold_only_their_handler(build: Path) -> None:
    # Given
    function_dirs = [path for path in build.iterdir() if path.is_dir() and path.name.endswith("Function")]
    # When
    contents = {path.name: sorted(p.name for p in path.iterdir() if p.name != "__pycache__") for path in function_dirs}
    # Then: everything else comes from the layers
    assert contents
    for name, files in contents.items():
        assert "handler.py" in files, name
        assert set(files) <= {"handler.py", "__init__.py"}, name


def test_build_dependencies_ship_as_bytecode_only(build: Path) -> None:
    # Given
    python = build / "CoreLayer" / "python"
    # When
    sources = [path for path in python.rglob("*.py") if path.relative_to(python).parts[0] != "tarroitus"]
    bytecode = list(python.glob("fastapi/*.pyc"))
    # Then: x.py became x.pyc in place (no __pycache__, nothing to compile at a cold start)
    assert sources == []
    assert (python / "fastapi" / "__init__.pyc").is_file()
    assert (python / "fastapi" / "routing.pyc").is_file()
    assert len(bytecode) > 10
    assert not list((build / "AnalyticsLayer" / "python").rglob("*.py"))


def test_build_own_package_keeps_its_sources_with_checked_bytecode(build: Path) -> None:
    # Given
    package = build / "CoreLayer" / "python" / "tarroitus"
    # When
    sources = list(package.rglob("*.py"))
    # Then
    assert sources
    for source in sources:
        bytecode = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert bytecode.is_file(), source
        header = bytecode.read_bytes()[:16]
        assert int.from_bytes(header[4:8], "little") == CHECKED_HASH_FLAGS, source
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), source


def test_build_bytecode_only_dependencies_import(build: Path) -> None:
    # Given: pure-Python packages of the layer (its native ones are aarch64), on an isolated interpreter
    if sys.implementation.cache_tag != "cpython-313":
        pytest.skip("the layer's bytecode is for Python 3.13")
    code = (
        f"import sys; sys.path.insert(0, {str(build / 'CoreLayer' / 'python')!r}); "
        "import starlette.routing, mako.template, idna, anyio; print(starlette.routing.__file__)"
    )
    # When
    completed = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False)
    # Then
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("CoreLayer/python/starlette/routing.pyc")


def test_build_api_bundle_fits_the_budget(build: Path) -> None:
    # Given / When: a stack without a Sentry DSN, which attaches no error-reporting layer
    api_mb = _size_mb(build / "ApiFunction") + _size_mb(build / "CoreLayer")
    # Then
    assert api_mb < MAX_API_BUNDLE_MB, f"API function + core layer: {api_mb:.1f} MB unzipped"


def test_build_etl_bundle_fits_lambda(build: Path) -> None:
    # Given / When
    layers = ("EtlFunction", "CoreLayer", "AnalyticsLayer", "ErrorReportingLayer")
    etl_mb = sum(_size_mb(build / name) for name in layers)
    # Then
    assert etl_mb < LAMBDA_UNZIPPED_LIMIT_MB, f"ETL function + layers: {etl_mb:.1f} MB unzipped"
