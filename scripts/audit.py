"""Audit every locked dependency (uv.lock, all groups) for known vulnerabilities with pip-audit.

Exit status: 1 when any locked version has a known vulnerability (or pip-audit fails for a reason
other than the network); 0 otherwise. When the advisory service cannot be used (no network, or an
index mirror that does not serve PyPI's per-version JSON API, which pip-audit's `pypi` service
reads) the audit prints a clear WARNING naming what could not be checked and exits 0, so an
outage of PyPI does not block CI; set AUDIT_STRICT=1 to make that a failure too.

The `pypi` service is used rather than OSV because it needs nothing beyond the package index
that installs the project. Usage: `make audit` (or `python scripts/audit.py [--service osv]`).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UV = str(ROOT / "scripts" / "uv")
NETWORK_HINTS = (
    "ConnectionError",
    "Connection refused",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "timed out",
    "NewConnectionError",
    "ServiceError",
)


@dataclass
class AuditReport:
    """What pip-audit found: vulnerable pins, and packages it could not check."""

    vulnerable: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)
    audited: int = 0
    skipped: list[str] = field(default_factory=list)


def parse_report(document: dict[str, Any]) -> AuditReport:
    """The counts and findings in pip-audit's JSON output."""
    report = AuditReport()
    for dependency in document.get("dependencies", []):
        if dependency.get("skip_reason"):
            report.skipped.append(f"{dependency['name']}: {dependency['skip_reason']}")
            continue
        report.audited += 1
        if dependency.get("vulns"):
            report.vulnerable.append((dependency["name"], dependency.get("version", "?"), dependency["vulns"]))
    return report


def verdict(report: AuditReport | None, stderr: str, *, strict: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print for a pip-audit run (report None: it produced no JSON)."""
    if report is None:
        last_line = stderr.splitlines()[-1] if stderr else "(no output)"
        if any(hint in stderr for hint in NETWORK_HINTS):
            warning = "WARNING: the advisory service is unreachable; nothing was audited."
            return (1 if strict else 0), [warning, last_line]
        return 1, ["ERROR: pip-audit failed:", *stderr.splitlines()[-20:]]
    lines = []
    for name, version, vulns in report.vulnerable:
        for vuln in vulns:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix released"
            lines.append(f"VULNERABLE {name}=={version}: {vuln.get('id')} (fixed in: {fixes})")
    if report.skipped:
        lines.append(
            f"WARNING: {len(report.skipped)} of {len(report.skipped) + report.audited} locked packages could not be "
            "checked (advisory service unreachable or the index does not serve PyPI's per-version JSON API)."
        )
        lines.extend(f"  skipped {entry}" for entry in report.skipped[:10])
    lines.append(
        f"audit: {report.audited} packages checked, {len(report.vulnerable)} vulnerable, {len(report.skipped)} skipped"
    )
    if report.vulnerable:
        return 1, lines
    if strict and (report.skipped or report.audited == 0):
        return 1, [*lines, "AUDIT_STRICT=1: packages that could not be checked fail the audit."]
    return 0, lines


def locked_requirements(directory: Path) -> Path:
    """The lock file's pins (every group, no hashes, without the project itself) as a requirements file."""
    target = directory / "requirements.txt"
    export = [UV, "export", "--frozen", "--all-groups", "--all-extras", "--no-hashes", "--no-emit-project"]
    subprocess.run(
        [*export, "-o", str(target)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    """Run the audit; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    parser.add_argument("--timeout", default="15")
    args = parser.parse_args(argv)
    strict = os.environ.get("AUDIT_STRICT", "") == "1"
    with tempfile.TemporaryDirectory() as directory:
        requirements = locked_requirements(Path(directory))
        command = [
            *[sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip"],
            *["--vulnerability-service", args.service, "--timeout", args.timeout],
            *["--format", "json", "--progress-spinner", "off"],
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    try:
        report: AuditReport | None = parse_report(json.loads(result.stdout))
    except json.JSONDecodeError:
        report = None
    status, lines = verdict(report, result.stderr.strip(), strict=strict)
    sys.stdout.write("\n".join(lines) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
