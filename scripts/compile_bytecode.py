"""Compile the API function's Python 3.13 bytecode into its own artifact, after `sam build`.

Lambda's /opt (layers) and /var/task (function) are read-only, so Python cannot cache bytecode
there: without shipped .pyc files every cold start compiles every imported module again, which
triples the API's import time. The core layer stays bytecode-free, since the ETL function carries
it next to polars within Lambda's 250 MB limit. Instead, the API function ships a bytecode tree for
the core layer and its own handler under `bytecode/`, laid out for PYTHONPYCACHEPREFIX=/var/task/bytecode
(set on the function in template.yaml): Python then looks up /opt/python/x/y.py's bytecode at
/var/task/bytecode/opt/python/x/y.cpython-313.pyc. The files are checked-hash .pyc: Python verifies
them against the source's hash, so bytecode that does not match the deployed layer is never used.

    python3.13 scripts/compile_bytecode.py .aws-sam/build
"""

import argparse
import py_compile
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: Lambda's python3.13 runtime; the bytecode format changes between minor versions.
CACHE_TAG = "cpython-313"
BYTECODE_DIR = "bytecode"
#: Build artifact -> where Lambda mounts it.
RUNTIME_PATHS = {"CoreLayer/python": "/opt/python", "ApiFunction": "/var/task"}
TARGET_FUNCTION = "ApiFunction"


def compile_one(job: tuple[str, str, str]) -> None:
    """Compile one source file to `cfile`, recording its path at run time for tracebacks."""
    source, cfile, runtime_path = job
    py_compile.compile(
        source,
        cfile=cfile,
        dfile=runtime_path,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )


def jobs(build: Path) -> list[tuple[str, str, str]]:
    """(source, bytecode file, run-time source path) for every module the API function can import."""
    prefix = build / TARGET_FUNCTION / BYTECODE_DIR
    planned = []
    for artifact, runtime_root in RUNTIME_PATHS.items():
        root = build / artifact
        if not root.is_dir():
            raise SystemExit(f"{root} is missing: run sam build first")
        for source in sorted(root.rglob("*.py")):
            relative = source.relative_to(root)
            if relative.parts[0] == BYTECODE_DIR:
                continue
            runtime_path = f"{runtime_root}/{relative.as_posix()}"
            cfile = prefix / runtime_root.lstrip("/") / relative.parent / f"{source.stem}.{CACHE_TAG}.pyc"
            planned.append((str(source), str(cfile), runtime_path))
    return planned


def main(argv: list[str] | None = None) -> int:
    """Write the bytecode tree into the API function's build directory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", type=Path, help="the sam build directory (.aws-sam/build)")
    args = parser.parse_args(argv)
    if sys.implementation.cache_tag != CACHE_TAG:
        raise SystemExit(f"run this with Python 3.13 (the Lambda runtime), not {sys.implementation.cache_tag}")
    planned = jobs(args.build)
    with ProcessPoolExecutor() as pool:
        list(pool.map(compile_one, planned, chunksize=64))
    sys.stdout.write(f"compiled {len(planned)} modules into {args.build / TARGET_FUNCTION / BYTECODE_DIR}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
