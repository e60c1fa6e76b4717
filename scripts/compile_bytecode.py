"""Compile the layers' Python 3.13 bytecode after `sam build`, so cold starts do not compile it.

Lambda's /opt (layers) is read-only, so Python cannot cache bytecode there: without shipped .pyc
files every cold start compiles every imported module again, about four times the API's import
time. Shipping .pyc files beside the sources would push the ETL function (core layer + polars)
past Lambda's 250 MB unzipped limit, so the dependencies are shipped as bytecode only: each
`x.py` becomes `x.pyc` in the same folder (Python's sourceless import), about the same size. Their
tracebacks keep file names and line numbers but show no source lines. The project's own package
keeps its sources, for readable tracebacks, with hash-checked bytecode in `__pycache__`.

    python3.13 scripts/compile_bytecode.py .aws-sam/build
"""

import argparse
import py_compile
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: Lambda's python3.13 runtime; the bytecode format changes between minor versions.
CACHE_TAG = "cpython-313"
LAYERS = ("CoreLayer", "AnalyticsLayer", "ErrorReportingLayer")
#: Packages that keep their sources; their bytecode goes to __pycache__ and is checked against them.
KEEP_SOURCES = ("tarroitus",)


def compile_one(job: tuple[str, str, str, bool]) -> None:
    """Compile one module; a dependency's source is removed once its bytecode is written."""
    source, cfile, runtime_path, keep_source = job
    mode = py_compile.PycInvalidationMode.CHECKED_HASH if keep_source else py_compile.PycInvalidationMode.TIMESTAMP
    py_compile.compile(source, cfile=cfile, dfile=runtime_path, doraise=True, invalidation_mode=mode)
    if not keep_source:
        Path(source).unlink()


def jobs(build: Path) -> list[tuple[str, str, str, bool]]:
    """(source, bytecode file, run-time path, keep the source) for every module in the layers."""
    planned = []
    for layer in LAYERS:
        root = build / layer / "python"
        if not root.is_dir():
            raise SystemExit(f"{root} is missing: run sam build first")
        for source in sorted(root.rglob("*.py")):
            relative = source.relative_to(root)
            keep_source = relative.parts[0] in KEEP_SOURCES
            if keep_source:
                cfile = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
            else:
                cfile = source.with_suffix(".pyc")
            planned.append((str(source), str(cfile), f"/opt/python/{relative.as_posix()}", keep_source))
    return planned


def main(argv: list[str] | None = None) -> int:
    """Compile every layer module in place."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", type=Path, help="the sam build directory (.aws-sam/build)")
    args = parser.parse_args(argv)
    if sys.implementation.cache_tag != CACHE_TAG:
        raise SystemExit(f"run this with Python 3.13 (the Lambda runtime), not {sys.implementation.cache_tag}")
    planned = jobs(args.build)
    with ProcessPoolExecutor() as pool:
        list(pool.map(compile_one, planned, chunksize=64))
    sys.stdout.write(f"compiled {len(planned)} modules in {', '.join(LAYERS)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
