"""Write the Lambda layers' requirements.txt files from uv.lock, or check that they match it.

`python scripts/layer_requirements.py` regenerates them (make requirements); with `--check` it
exits 1 when a committed file differs from what the lock gives (CI and the infrastructure tests).
The core layer gets the runtime dependencies; the analytics layer only what the `analytics`
extra adds on top of them (polars), and the error-reporting layer what the `error-reporting` extra
adds (sentry-sdk), since the layers end up side by side in /opt/python.
The core layer leaves out the AWS SDK (boto3, botocore, s3transfer and urllib3, which only botocore
needs): Lambda's python3.13 runtime provides them as a matched set, and they were 32 MB of the API's
78 MB bundle. The package calls long-standing APIs only (Secrets Manager, S3, Lambda invoke), and the
tests run against the locked SDK. layers/core/Makefile installs the file without resolving
dependencies, so aws-xray-sdk's botocore requirement cannot bring the SDK back.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: `uv run` tells its children where uv is; otherwise the bootstrapping wrapper.
UV = os.environ.get("UV") or str(PROJECT_ROOT / "scripts" / "uv")
CORE_REQUIREMENTS = PROJECT_ROOT / "layers" / "core" / "requirements.txt"
ANALYTICS_REQUIREMENTS = PROJECT_ROOT / "layers" / "analytics" / "requirements.txt"
ERROR_REPORTING_REQUIREMENTS = PROJECT_ROOT / "layers" / "error_reporting" / "requirements.txt"
HEADER = "# Generated from uv.lock by scripts/layer_requirements.py (make requirements); do not edit.\n"
#: Never in the core layer: they would bloat the API function's cold start and package size.
ANALYTICS_ONLY = frozenset({"polars", "polars-runtime-32", "pyarrow", "pandas", "numpy"})
#: What the Lambda python3.13 runtime provides, left out of the core layer (see above).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "urllib3"})


def exported(*extra_args: str) -> list[str]:
    """The locked runtime requirements (`name==version[ ; marker]`), one per line."""
    command = [
        UV,
        "export",
        "--frozen",
        "--no-dev",
        "--no-hashes",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
        *extra_args,
    ]
    output = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("#")]


def package_name(requirement: str) -> str:
    """The normalised distribution name of a `name==version` line."""
    return requirement.split("==", 1)[0].strip().lower().replace("_", "-")


def layer_requirements() -> dict[Path, str]:
    """The content each layer's requirements.txt should have."""
    core = exported()
    leaked = sorted(name for name in map(package_name, core) if name in ANALYTICS_ONLY)
    if leaked:
        raise SystemExit(f"the core layer would contain {', '.join(leaked)}: keep them in the analytics extra")
    analytics = [line for line in exported("--extra", "analytics") if line not in core]
    error_reporting = [line for line in exported("--extra", "error-reporting") if line not in core]
    return {
        CORE_REQUIREMENTS: _listing(core),
        ANALYTICS_REQUIREMENTS: _listing(analytics),
        ERROR_REPORTING_REQUIREMENTS: _listing(error_reporting),
    }


def _listing(requirements: list[str]) -> str:
    return HEADER + "".join(f"{line}\n" for line in requirements if package_name(line) not in RUNTIME_PROVIDED)


def main(argv: list[str] | None = None) -> int:
    """Regenerate the files, or with --check report the ones that drifted from the lock."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed file differs from the lock")
    args = parser.parse_args(argv)
    stale = []
    for path, content in layer_requirements().items():
        current = path.read_text() if path.exists() else None
        if current == content:
            continue
        if args.check:
            stale.append(str(path.relative_to(PROJECT_ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    if stale:
        sys.stderr.write(f"out of date with uv.lock: {', '.join(stale)}; run make requirements\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
