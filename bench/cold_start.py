"""API cold start: the handler's import time in a fresh interpreter, and the size of what `sam build` made.

Import time: `import handler` in functions/api, timed inside a new interpreter configured like the
Lambda (LAMBDA_TASK_ROOT set, so Powertools Tracer loads the X-Ray SDK), median of 5 runs. That is
the part of Lambda's init phase our code controls. The value is the import's CPU time, which other
work on a shared machine disturbs far less than wall time (reported beside it), with compiled
bytecode, as `make build` ships the layers; `cpu_ms_without_bytecode` is what a plain `sam build`
gives, where every cold start compiles every module.
The baseline is the same import followed by `import polars`: what every API cold start would pay
if polars lived in the core layer instead of the ETL-only analytics layer. `framework_cpu_ms` is
the import of the libraries every request needs (FastAPI, with the pydantic v1 shim it loads when it
registers a route; SQLAlchemy's ORM and PostgreSQL dialect; psycopg; pydantic-settings; Powertools with
the X-Ray recorder its Tracer loads and the SQLAlchemy patch it applies; Mangum), measured the same way:
the handler's figure less this one is what the package itself costs. The same run checks that the
handler really imports every module the reference does (`framework_modules_not_in_handler`, which an
honest reference keeps empty). All run on this machine's project
venv, since the built layers hold aarch64 binaries; absolute numbers scale with the CPU (and with
the machine's load, in the line), the ratios much less.

Size: the API function plus the core layer in .aws-sam/build, unzipped (`make build` first); the
baseline adds the analytics layer. The line fails when polars, pyarrow or pandas are in the core layer.

    python bench/cold_start.py [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import PROJECT_ROOT, emit

IMPORT_TARGET_MS = 600.0
API_BUNDLE_TARGET_MB = 60.0
BUILD = PROJECT_ROOT / ".aws-sam" / "build"
API_FUNCTION_DIR = PROJECT_ROOT / "functions" / "api"
FORBIDDEN_IN_CORE = ("polars", "_polars_runtime_32", "pyarrow", "pandas")
CHILD = """
import json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
if sys.argv[1] == "framework":
    import fastapi, mangum, psycopg, pydantic.v1, pydantic_settings, sqlalchemy.dialects.postgresql, sqlalchemy.orm
    import aws_lambda_powertools.logging, aws_lambda_powertools.metrics, aws_lambda_powertools.tracing
    import aws_xray_sdk.core, aws_xray_sdk.ext.sqlalchemy_core
else:
    import handler
if sys.argv[1] == "with-polars":
    import polars
measured = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
print(json.dumps({**measured, "modules": sorted(sys.modules)}))
"""
LAMBDA_LIKE_ENVIRONMENT = {
    "ENV": "test",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "tarroitus",
    "POWERTOOLS_METRICS_NAMESPACE": "Tarroitus",
    "AWS_LAMBDA_FUNCTION_NAME": "tarroitus-bench-ApiFunction",
    "AWS_REGION": "eu-north-1",
    "AWS_DEFAULT_REGION": "eu-north-1",
}


def import_seconds(mode: str, *, bytecode_dir: Path | None) -> dict[str, Any]:
    """CPU and wall seconds a fresh interpreter spends importing the API handler (and polars, for the baseline),
    and the modules it then holds.

    With `bytecode_dir`, compiled modules are kept there and reused (as `make build` ships them);
    without, every module is compiled from source (a plain `sam build`).
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_", "DB_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"))
    }
    environment.update(LAMBDA_LIKE_ENVIRONMENT, LAMBDA_TASK_ROOT=str(API_FUNCTION_DIR))
    if bytecode_dir is None:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="tarroitus-no-bytecode-")
    else:
        environment["PYTHONPYCACHEPREFIX"] = str(bytecode_dir)
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        cwd=API_FUNCTION_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


def median_ms(modes: tuple[str, ...], runs: int, *, bytecode_dir: Path) -> dict[str, dict[str, Any]]:
    """Per mode, the median CPU and wall import times of `runs` fresh interpreters, in milliseconds, and
    the modules the first of them imported.

    The modes take turns, so a change in the machine's load falls on all of them alike.
    """
    # The first run compiles into bytecode_dir and is not timed.
    modules = {mode: set(import_seconds(mode, bytecode_dir=bytecode_dir)["modules"]) for mode in modes}
    samples: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(runs):
        for mode in modes:
            samples[mode].append(import_seconds(mode, bytecode_dir=bytecode_dir))
    return {
        mode: {
            **{clock: statistics.median(sample[clock] for sample in measured) * 1000 for clock in ("cpu", "wall")},
            "modules": modules[mode],
        }
        for mode, measured in samples.items()
    }


def size_mb(path: Path) -> float:
    """Unzipped size of a build directory in MiB."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) / 1024 / 1024


def report_import_time(runs: int) -> None:
    """The handler import line: the API alone against the API with polars, and the frameworks alone."""
    with tempfile.TemporaryDirectory(prefix="tarroitus-bytecode-") as bytecode:
        medians = median_ms(("handler", "with-polars", "framework"), runs, bytecode_dir=Path(bytecode))
    value, baseline, framework = medians["handler"], medians["with-polars"], medians["framework"]
    uncompiled = import_seconds("handler", bytecode_dir=None)
    emit(
        "cold_start",
        metric="api_handler_import_cpu_ms",
        unit="ms",
        value=value["cpu"],
        baseline=baseline["cpu"],
        target=IMPORT_TARGET_MS,
        higher_is_better=False,
        runs=runs,
        wall_ms=round(value["wall"], 1),
        baseline_wall_ms=round(baseline["wall"], 1),
        cpu_ms_without_bytecode=round(uncompiled["cpu"] * 1000, 1),
        framework_cpu_ms=round(framework["cpu"], 1),
        framework_modules_not_in_handler=sorted(framework["modules"] - value["modules"]),
        baseline_is="the same import plus `import polars` (polars in the API's layers)",
    )


def report_bundle_size() -> None:
    """The API bundle line: function + core layer, against the same with the analytics layer."""
    artifacts = {name: BUILD / name for name in ("ApiFunction", "CoreLayer", "AnalyticsLayer")}
    missing = [name for name, path in artifacts.items() if not path.is_dir()]
    if missing:
        line = {
            "bench": "cold_start",
            "metric": "api_bundle_unzipped_mb",
            "unit": "MB",
            "value": None,
            "baseline": None,
            "ratio": None,
            "target": API_BUNDLE_TARGET_MB,
            "ok": False,
            "error": f"no {', '.join(missing)} in .aws-sam/build: run make build",
        }
        sys.stdout.write(json.dumps(line) + "\n")
        return
    sizes = {name: round(size_mb(path), 1) for name, path in artifacts.items()}
    value = sizes["ApiFunction"] + sizes["CoreLayer"]
    leaked = [name for name in FORBIDDEN_IN_CORE if (artifacts["CoreLayer"] / "python" / name).exists()]
    emit(
        "cold_start",
        metric="api_bundle_unzipped_mb",
        unit="MB",
        value=value,
        baseline=value + sizes["AnalyticsLayer"],
        # A core layer carrying analytics packages misses the target whatever its size.
        target=API_BUNDLE_TARGET_MB if not leaked else 0.0,
        higher_is_better=False,
        artifacts_mb=sizes,
        analytics_packages_in_core_layer=leaked,
        baseline_is="the API bundle with the analytics layer (polars) attached",
    )


def main(argv: list[str] | None = None) -> int:
    """Print the import-time line and the bundle-size line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    args = parser.parse_args(argv)
    report_import_time(runs=3 if args.quick else 5)
    report_bundle_size()
    return 0


if __name__ == "__main__":
    sys.exit(main())
