"""What `sam build` produced in .aws-sam/build: layout, aarch64 binaries, contents and sizes.

These need a build of the current sources (`make build`). Without one they skip, unless
REQUIRE_SAM_BUILD=1 (set by `make infra`, which builds first) turns the skip into a failure.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from tests.infrastructure.conftest import PROJECT_ROOT

BUILD = PROJECT_ROOT / ".aws-sam" / "build"
SOURCE_PACKAGE = PROJECT_ROOT / "layers" / "core" / "tarroitus"
#: Ceiling for the API function plus the core layer, unzipped: about 95 MB today, of which 24 MB are
#: the API's compiled bytecode and 25 MB the AWS SDK (see scripts/layer_requirements.py).
#: bench/cold_start.py reports the size against the 60 MB target.
MAX_API_BUNDLE_MB = 110
#: Lambda's hard limit for a function and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT_MB = 250
ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183
FORBIDDEN_IN_CORE = ("polars", "_polars_runtime_32", "pyarrow", "pandas", "numpy")
#: PYTHONPYCACHEPREFIX of the API function (template.yaml), and where that is in its build directory.
BYTECODE_PREFIX = "/var/task/bytecode"
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
    if not (BUILD / "ApiFunction" / "bytecode").is_dir():
        return "the SAM build has no API bytecode: build with make build, not plain sam build"
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


def test_build_functions_hold_only_their_handler(build: Path) -> None:
    # Given
    function_dirs = [path for path in build.iterdir() if path.is_dir() and path.name.endswith("Function")]
    # When
    contents = {path.name: sorted(p.name for p in path.iterdir() if p.name != "__pycache__") for path in function_dirs}
    # Then: everything else comes from the layers (and the API's bytecode from make build)
    assert contents
    for name, files in contents.items():
        assert "handler.py" in files, name
        assert set(files) <= {"handler.py", "__init__.py", "bytecode"}, name


def test_build_layers_carry_no_bytecode(build: Path) -> None:
    # Given / When: the ETL carries the core layer beside polars, within Lambda's 250 MB
    caches = [path for layer in ("CoreLayer", "AnalyticsLayer") for path in (build / layer).rglob("__pycache__")]
    # Then
    assert caches == []


@pytest.mark.parametrize(
    ("artifact", "runtime_root", "module"),
    [
        ("CoreLayer/python", "/opt/python", "fastapi/routing.py"),
        ("CoreLayer/python", "/opt/python", "sqlalchemy/__init__.py"),
        ("CoreLayer/python", "/opt/python", "tarroitus/api/app.py"),
        ("ApiFunction", "/var/task", "handler.py"),
    ],
)
def test_build_api_bytecode_is_where_python_looks_for_it(
    build: Path, artifact: str, runtime_root: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the interpreter's own lookup with the API function's PYTHONPYCACHEPREFIX
    monkeypatch.setattr(sys, "pycache_prefix", BYTECODE_PREFIX)
    expected = importlib.util.cache_from_source(f"{runtime_root}/{module}")
    expected = expected.replace(sys.implementation.cache_tag or "", "cpython-313")
    # When
    bytecode = build / "ApiFunction" / "bytecode" / Path(expected).relative_to(BYTECODE_PREFIX)
    # Then: a checked-hash .pyc of exactly the source the layer deploys
    assert bytecode.is_file(), f"no bytecode for {module}"
    header = bytecode.read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == CHECKED_HASH_FLAGS
    assert header[8:16] == importlib.util.source_hash((build / artifact / module).read_bytes())


def test_build_api_bytecode_covers_every_core_module(build: Path) -> None:
    # Given
    sources = list((build / "CoreLayer" / "python").rglob("*.py"))
    # When
    compiled = list((build / "ApiFunction" / "bytecode" / "opt" / "python").rglob("*.cpython-313.pyc"))
    # Then
    assert len(compiled) == len(sources)


def test_build_api_bundle_fits_the_budget(build: Path) -> None:
    # Given / When
    api_mb = _size_mb(build / "ApiFunction") + _size_mb(build / "CoreLayer")
    # Then
    assert api_mb < MAX_API_BUNDLE_MB, f"API function + core layer: {api_mb:.1f} MB unzipped"


def test_build_etl_bundle_fits_lambda(build: Path) -> None:
    # Given / When
    etl_mb = sum(_size_mb(build / name) for name in ("EtlFunction", "CoreLayer", "AnalyticsLayer"))
    # Then
    assert etl_mb < LAMBDA_UNZIPPED_LIMIT_MB, f"ETL function + layers: {etl_mb:.1f} MB unzipped"
