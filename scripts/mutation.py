"""Mutation testing of the item mapping and the signum with mutmut: do their unit tests notice a changed line?

mutmut 3 imports the mutated code from `mutants/`, `mutants/src` or `mutants/source`, while the package lives in
`layers/core`. So each module gets a small project of its own in `.data/mutation/<name>/`: the package under
`src/`, the unit tests that pin the module, and a `[tool.mutmut]` section that mutates that one module. Then
`mutmut run` runs there (mutmut mutates the code inside functions; module-level constants are not mutated).

Prints one JSON line per module (mutants, killed, survived, ..., the score and its target) and, with
`--survivors`, the diff of every surviving mutant. Exit status 1 when a module scores below its target.
Usage: `make mutation`, or `python scripts/mutation.py [item_mapping|signum ...] [--survivors] [--repo PATH]`
(`--repo` stages another checkout's package and tests, e.g. to measure a base commit).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGING = ROOT / ".data" / "mutation"
PACKAGE = Path("layers/core/tarroitus")


@dataclass(frozen=True)
class Target:
    """A module to mutate, the unit tests that pin it, and the share of mutants they must kill."""

    module: str
    tests: tuple[str, ...]
    minimum: float
    helpers: tuple[str, ...] = ()
    """Test modules the tests import, copied beside them."""


TARGETS = {
    "item_mapping": Target(
        module="services/sync/item_mapping.py",
        # Not the upload parser's tests: their Parquet cases start polars' thread pool, and a forked worker
        # that uses polars after that deadlocks (mutmut forks a worker per mutant).
        tests=("tests/unit/test_item_mapping.py",),
        minimum=0.90,
        helpers=("tests/uploads.py",),
    ),
    "signum": Target(
        module="services/signum.py",
        # Not the property tests: Hypothesis' deadlines fail them under mutmut's tracing on a busy machine, and
        # their invariants (a signum or the marker, never an exception) kill few mutants.
        tests=(
            "tests/unit/test_signum.py",
            "tests/unit/test_signum_classification.py",
            "tests/unit/test_signum_shelfmark_json.py",
        ),
        minimum=0.92,
    ),
}


def stage(name: str, target: Target, repo: Path) -> Path:
    """A fresh project for one module: the package under src/, its tests, and the mutmut configuration."""
    project = STAGING / name
    shutil.rmtree(project, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(repo / PACKAGE, project / "src" / "tarroitus", ignore=ignore)
    (project / "tests" / "unit").mkdir(parents=True)
    for package_marker in ("tests/__init__.py", "tests/unit/__init__.py"):
        shutil.copy2(repo / package_marker, project / package_marker)
    for test in (*target.tests, *target.helpers):
        shutil.copy2(repo / test, project / test)
    tests = ", ".join(json.dumps(test) for test in target.tests)
    (project / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["src/tarroitus"]\n'
        f'only_mutate = ["src/tarroitus/{target.module}"]\n'
        f"pytest_add_cli_args_test_selection = [{tests}]\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"]\n'
        "\n[tool.pytest.ini_options]\n"
        'addopts = "-ra --strict-markers"\n'
        'markers = ["slow: long-running tests"]\n',
        encoding="utf-8",
    )
    return project


def run_mutmut(project: Path, *, survivors: bool) -> dict[str, Any]:
    """Run mutmut in the staged project; its counts (mutmut's CI/CD stats) and, when asked, the survivors."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("PYTHONPATH", None)
    mutmut = [sys.executable, "-m", "mutmut"]
    run = subprocess.run([*mutmut, "run"], cwd=project, env=environment, capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
        raise SystemExit(f"mutmut run failed in {project} (exit {run.returncode})")
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=project, env=environment, check=True, capture_output=True)
    counts: dict[str, Any] = json.loads((project / "mutants" / "mutmut-cicd-stats.json").read_text("utf-8"))
    if survivors:
        listed = subprocess.run([*mutmut, "results"], cwd=project, env=environment, capture_output=True, text=True)
        for line in listed.stdout.splitlines():
            mutant = line.strip().split(":")[0]
            if mutant:
                shown = subprocess.run([*mutmut, "show", mutant], cwd=project, env=environment, capture_output=True)
                sys.stdout.write(shown.stdout.decode("utf-8", "replace") + "\n")
    return counts


def score_line(name: str, target: Target, counts: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The result line: killed (a test failed, or the mutant made the tests time out) over every mutant run."""
    caught = int(counts["killed"]) + int(counts["timeout"])
    judged = int(counts["total"]) - int(counts["skipped"])
    score = caught / judged if judged else 0.0
    return {
        "mutation": name,
        "module": f"tarroitus/{target.module}",
        "mutants": judged,
        "killed": int(counts["killed"]),
        "timeout": int(counts["timeout"]),
        "survived": int(counts["survived"]),
        "no_tests": int(counts["no_tests"]),
        "suspicious": int(counts["suspicious"]),
        "score": round(score, 4),
        "target": target.minimum,
        "met": score >= target.minimum,
        "seconds": round(seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"modules to mutate: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--survivors", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose package and tests to stage")
    args = parser.parse_args()
    unknown = set(args.modules) - set(TARGETS)
    if unknown:
        parser.error(f"unknown modules: {', '.join(sorted(unknown))}; choose from {', '.join(TARGETS)}")
    met = True
    for name in args.modules or list(TARGETS):
        target = TARGETS[name]
        started = time.monotonic()
        counts = run_mutmut(stage(name, target, args.repo.resolve()), survivors=args.survivors)
        line = score_line(name, target, counts, time.monotonic() - started)
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        met = met and bool(line["met"])
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
